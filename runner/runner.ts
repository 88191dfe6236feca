import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock';
import { ClaimConflictError } from '../core/errors';
import type { LifecycleDeps } from '../core/lifecycle/finish';
import type { TaskRecord } from '../core/model/task';
import type { RunnableJob } from './catalogue';
import type { RunnerConfig } from './config';
import { DeleteBatcher } from './delete-batcher';
import { TaskExecution, type TaskSummary } from './execute';
import type { LogBatcher } from './log/batcher';
import type { FileSink } from './log/upload';
import { startLiveness } from './liveness';
import type { ScaleInProtection } from './protection';
import { parseDispatchMessage, type DispatchQueue, type QueueMessage } from './queue';
import type { SandboxSource } from './sandbox/port';
import { receiveDecision } from './receive-policy';
import { SlotPool } from './slots';
import { FsWorkspaces, type Workspaces } from './workspace';

export interface RunnerDeps {
  readonly lifecycle: LifecycleDeps;
  readonly queue: DispatchQueue;
  readonly files: FileSink;
  /** Task logs, batched into shared S3 objects (runner/log/batcher.ts); drained on stop. */
  readonly logs: Pick<LogBatcher, 'add' | 'drain'>;
  readonly jobs: { get(name: string): RunnableJob | undefined };
  readonly pool: SandboxSource;
  /** Task work directories and logs. @default on disk under config.workDir */
  readonly workspaces?: Workspaces;
  readonly protection: Pick<ScaleInProtection, 'setBusy' | 'release'>;
  readonly logger: Logger;
  /** Every timer and reading of the time in the runner goes through it. @default systemClock */
  readonly clock?: Clock;
  /** Called after each task ends (tests and the bench watch the runner through it). */
  readonly onTaskEnd?: (summary: TaskSummary) => void;
}

const POISON_MEMORY = 1000;
const SHUTDOWN_FINISH_CAP_MS = 30_000;

/**
 * The runner: long-polls its class's queue only when its free slots can hold the class's
 * largest job, starts each task with one conditional write (then deletes the message), runs it
 * in a fresh sandbox, and drains on stop. The loop is built from injected ports (queue, store,
 * file sink, sandboxes), so tests drive it in-process against the local AWS.
 */
export class Runner {
  readonly slots: SlotPool;
  private readonly executions = new Set<TaskExecution>();
  private readonly batches = new Set<Promise<void>>();
  private readonly pollAbort = new AbortController();
  private readonly poisonSeen = new Set<string>();
  private readonly deletes: DeleteBatcher;
  private readonly clock: Clock;
  private readonly workspaces: Workspaces;
  private readonly log: Logger;
  private loop?: Promise<void>;
  private stopping?: Promise<void>;
  private idleWaiters: (() => void)[] = [];
  private stopLiveness?: () => void;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly config: RunnerConfig,
  ) {
    this.slots = new SlotPool(config.slots);
    this.clock = deps.clock ?? systemClock;
    this.workspaces = deps.workspaces ?? new FsWorkspaces(config.workDir, config.logCapBytes, this.clock);
    this.log = deps.logger;
    this.deletes = new DeleteBatcher(deps.queue, {
      lingerMs: config.deleteLingerMs,
      clock: this.clock,
      onError: (err, count) => this.log.warn({ err, count }, 'could not delete messages; their redelivery will be dropped as stale'),
    });
  }

  start(): void {
    if (this.loop) return;
    const { config } = this;
    this.log.info(
      { slotClass: config.slotClass, slots: config.slots, largestJobSlots: config.largestJobSlots, spares: config.spares, queueUrl: config.queueUrl },
      'runner started',
    );
    this.deps.pool.start();
    if (config.livenessFile) this.stopLiveness = startLiveness(config.livenessFile, this.clock, this.log);
    this.loop = this.pollLoop().catch((err) => {
      this.log.fatal({ err }, 'the poll loop crashed; stopping');
      void this.stop();
    });
  }

  /** Tasks in hand: running, or ended and being recorded. */
  get inHand(): number {
    return this.executions.size;
  }

  /** Slots of tasks whose script process is alive right now. */
  get runningSlots(): number {
    let n = 0;
    for (const e of this.executions) if (e.running) n += e.task.slots;
    return n;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Resolves once the runner has no task in hand (for tests). */
  whenIdle(): Promise<void> {
    if (this.executions.size === 0 && this.batches.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Graceful stop: no new messages; running tasks get until the stop timeout to end; what is
   * still running then is killed and finished as failed 'runner-lost' ("runner shut down"),
   * which core's follow-up retries at once (with its backoff) on another runner.
   */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    const { stopTimeoutMs } = this.config;
    this.pollAbort.abort();
    this.log.info({ inHand: this.executions.size, stopTimeoutMs }, 'stopping: no new tasks; waiting for running tasks to end');
    await Promise.allSettled([...this.batches]);
    await withTimeout(this.clock, this.whenIdle(), stopTimeoutMs);
    const left = [...this.executions];
    if (left.length > 0) {
      this.log.warn({ tasks: left.map((e) => e.task.id) }, 'stop timeout reached: killing the remaining tasks and handing them back (failed, runner-lost)');
      for (const e of left) e.stop('shutdown');
      await withTimeout(this.clock, this.whenIdle(), SHUTDOWN_FINISH_CAP_MS);
    }
    await this.loop;
    await this.deletes.drain();
    // The batch still open holds ended tasks' logs: send it before the work directory goes.
    await this.deps.logs.drain();
    this.stopLiveness?.();
    this.deps.pool.close();
    await this.deps.protection.release();
    await this.workspaces.clear().catch(() => undefined);
    this.log.info({ left: this.executions.size, peakSlots: this.slots.peak }, 'runner stopped');
  }

  private async pollLoop(): Promise<void> {
    const largest = this.config.largestJobSlots;
    const signal = this.pollAbort.signal;
    let fitSince: number | undefined;
    while (!signal.aborted) {
      const now = this.clock.now();
      const decision = receiveDecision({
        freeSlots: this.slots.free,
        capacity: this.slots.capacity,
        largestJobSlots: largest,
        busy: this.slots.used > 0,
        waitedMs: fitSince === undefined ? 0 : now - fitSince,
        lingerMs: this.config.receiveLingerMs,
      });
      if (decision.kind === 'wait') {
        fitSince = decision.forMs === undefined ? undefined : (fitSince ?? now);
        await this.waitForSlots(decision.forMs, signal);
        continue;
      }
      fitSince = undefined;
      const max = decision.messages;
      // Room for `max` of the class's largest jobs is set aside before asking, so nothing received is ever handed back.
      if (!this.slots.tryAcquire(max * largest)) {
        await this.slots.whenReleased(signal);
        continue;
      }
      let messages: QueueMessage[];
      try {
        messages = await this.deps.queue.receive(max, signal);
      } catch (err) {
        this.slots.release(max * largest);
        if (signal.aborted) break;
        this.log.warn({ err }, 'receiving from the queue failed; retrying');
        await this.clock.sleep(this.config.pollErrorDelayMs, signal);
        continue;
      }
      this.slots.release((max - messages.length) * largest);
      if (messages.length === 0) continue;
      if (signal.aborted) {
        // Received while stopping: make them visible again at once for another runner.
        this.slots.release(messages.length * largest);
        await this.deps.queue.handBack(messages).catch((err) => this.log.warn({ err }, 'could not hand messages back; they reappear after their visibility timeout'));
        break;
      }
      const batch = this.handleBatch(messages, largest);
      this.batches.add(batch);
      void batch.finally(() => {
        this.batches.delete(batch);
        this.notifyIfIdle();
      });
    }
  }

  /** Until slots are released, or `ms` passes (if given), or the loop stops. */
  private async waitForSlots(ms: number | undefined, signal: AbortSignal): Promise<void> {
    if (ms === undefined) return this.slots.whenReleased(signal);
    const done = new AbortController();
    const stop = () => done.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      await Promise.race([this.slots.whenReleased(done.signal), this.clock.sleep(ms, done.signal)]);
    } finally {
      done.abort();
      signal.removeEventListener('abort', stop);
    }
  }

  /** Starts each message's task (in parallel), then hands the started and the stale ones' messages to the delete batcher. */
  private async handleBatch(messages: QueueMessage[], reservedEach: number): Promise<void> {
    const receivedAt = this.clock.now();
    const toDelete: QueueMessage[] = [];
    await Promise.all(
      messages.map(async (message) => {
        const parsed = parseDispatchMessage(message.body);
        if (!parsed.ok) {
          this.slots.release(reservedEach);
          this.poison(message, `unparseable message: ${parsed.error}`);
          return;
        }
        const { taskId, token } = parsed.message;
        let task: TaskRecord;
        const startAt = this.clock.now();
        try {
          task = await this.deps.lifecycle.store.start(taskId, token, this.config.runnerId, startAt, this.config.leaseMs);
        } catch (err) {
          this.slots.release(reservedEach);
          if (!(err instanceof ClaimConflictError)) {
            // Left on the queue: it comes back after its visibility timeout.
            this.log.error({ err, taskId }, 'could not start the task; the message will be delivered again');
            return;
          }
          const existing = await this.deps.lifecycle.store.get(taskId).catch(() => undefined);
          if (existing === undefined) {
            this.poison(message, `unknown task ${taskId}`);
            return;
          }
          // A duplicate delivery, or a claim that was superseded: someone else has (or had) this task.
          this.log.debug({ taskId, status: existing.status }, 'stale or duplicate message dropped');
          toDelete.push(message);
          return;
        }
        // From here the lease, not the message's visibility, guards the task.
        toDelete.push(message);
        this.launch(task, reservedEach, { receivedAt, startWriteMs: this.clock.now() - startAt });
      }),
    );
    this.deletes.add(toDelete);
  }

  private launch(task: TaskRecord, reserved: number, timing: { receivedAt: number; startWriteMs: number }): void {
    const job = this.deps.jobs.get(task.job);
    // Each message reserved room for the class's largest job; now the real size is known.
    let held = reserved;
    let topUp: ((signal: AbortSignal) => Promise<boolean>) | undefined;
    if (task.slots <= this.config.slots) {
      if (task.slots < reserved) {
        this.slots.release(reserved - task.slots);
        held = task.slots;
      } else if (task.slots > reserved) {
        // Only after a catalogue change (a job grew): wait for room, holding the lease meanwhile.
        topUp = async (signal) => {
          const ok = await this.slots.acquire(task.slots - reserved, signal);
          if (ok) held = task.slots;
          return ok;
        };
      }
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.slots.release(held);
    };
    const execution = new TaskExecution(
      {
        lifecycle: this.deps.lifecycle,
        files: this.deps.files,
        logs: this.deps.logs,
        pool: this.deps.pool,
        workspaces: this.workspaces,
        config: this.config,
        logger: this.log,
        clock: this.clock,
      },
      task,
      job,
      timing,
      {
        ready: (signal) => (topUp ? topUp(signal) : Promise.resolve(true)),
        release,
      },
    );
    this.executions.add(execution);
    this.deps.protection.setBusy(true);
    void execution
      .run()
      .then(
        (summary) => this.deps.onTaskEnd?.(summary),
        (err) => {
          // Only the task's work directory can fail this early (disk full): its lease runs out and the reaper retries it.
          release();
          this.log.error({ err, taskId: task.id }, 'task execution crashed');
        },
      )
      .finally(() => {
        this.executions.delete(execution);
        if (this.executions.size === 0) this.deps.protection.setBusy(false);
        this.notifyIfIdle();
      });
  }

  /** Poison messages stay on the queue: its redrive policy moves them to the dead-letter queue. Logged once per message. */
  private poison(message: QueueMessage, why: string): void {
    if (this.poisonSeen.has(message.id)) return;
    if (this.poisonSeen.size >= POISON_MEMORY) this.poisonSeen.delete(this.poisonSeen.values().next().value as string);
    this.poisonSeen.add(message.id);
    this.log.error({ messageId: message.id, receiveCount: message.receiveCount, why }, 'poison message left for the dead-letter queue');
  }

  private notifyIfIdle(): void {
    if (this.executions.size > 0 || this.batches.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Waits for `promise`, at most `ms`, without leaving a timer behind. */
async function withTimeout(clock: Clock, promise: Promise<void>, ms: number): Promise<void> {
  const stop = new AbortController();
  await Promise.race([promise, clock.sleep(ms, stop.signal)]);
  stop.abort();
}
