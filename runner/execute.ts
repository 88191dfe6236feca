import type { Logger } from 'pino';
import { systemClock, type Clock, type Timer } from '../core/clock';
import { ClaimConflictError, coerceError } from '../core/errors';
import { finishTask, runFollowUp, type LifecycleDeps, type TerminalOutcome } from '../core/lifecycle/finish';
import { isTerminal, type TaskRecord } from '../core/model/task';
import type { RunnableJob } from './catalogue';
import type { RunnerConfig } from './config';
import { Heartbeat } from './heartbeat';
import type { LogLocation } from '../core/logs/log-location';
import { LeaseFence } from './lease-fence';
import type { LogBatcher } from './log/batcher';
import { resultKey, type FileSink } from './log/upload';
import { decideOutcome, type StopReason } from './outcome';
import type { SandboxReport, SandboxSource, TaskSandbox } from './sandbox/port';
import type { RunRequest } from './sandbox/protocol';
import type { TaskWorkspace, Workspaces } from './workspace';

export type ExecutionConfig = Pick<
  RunnerConfig,
  'runnerId' | 'slots' | 'leaseMs' | 'heartbeatMs' | 'fenceMarginMs' | 'progressIntervalMs' | 'cancelGraceMs' | 'timeoutGraceMs' | 'logCapBytes' | 'inlineResultBytes' | 'jobLogLevel'
>;

export interface ExecutionDeps {
  readonly lifecycle: LifecycleDeps;
  readonly files: FileSink;
  /** Takes each closed task log for upload (batched); never waited on by the outcome. */
  readonly logs: Pick<LogBatcher, 'add'>;
  readonly pool: SandboxSource;
  readonly workspaces: Workspaces;
  readonly config: ExecutionConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
}

/** Booting the sandbox and loading the job module may take this long on top of the max execution time. */
export const MODULE_LOAD_ALLOWANCE_MS = 60_000;

/** How one task went, for the runner's log line, tests and the bench. Times are epoch ms. */
export interface TaskSummary {
  readonly taskId: string;
  readonly job: string;
  readonly attempt: number;
  readonly slots: number;
  /** 'lost': the task was taken from this runner (heartbeat lost); nothing was recorded. */
  readonly outcome: TerminalOutcome['status'] | 'lost';
  readonly reason?: string;
  readonly receivedAt: number;
  readonly scriptStartedAt?: number;
  readonly scriptEndedAt?: number;
  readonly endedAt: number;
  /** Message received -> finish written. */
  readonly durationMs: number;
  /** The script's own time (module loaded -> resolved / threw / ended). */
  readonly scriptMs: number;
  /** A large result's upload to S3 (the log is uploaded after the outcome, batched). */
  readonly uploadMs: number;
  /** durationMs - scriptMs - uploadMs: what the runner adds (start, sandbox, finish). */
  readonly overheadMs: number;
  /** Of the overhead: the start write, and core's finish path (terminal write and follow-up), both DynamoDB round trips. */
  readonly startWriteMs: number;
  readonly finishMs: number;
  /** Sandbox handed the task -> its process gone, minus the script's time. */
  readonly sandboxOverheadMs?: number;
  readonly logS3Key?: string;
  readonly warmSandbox?: boolean;
}

/**
 * One task on this runner, from the start write to the finish: a sandbox per task, the
 * heartbeat, timeout and cancel, the task's log file, uploads, and core's shared finish path.
 * `run()` never throws: every failure ends as an outcome, or as 'lost' if the task is not ours.
 */
export class TaskExecution {
  private stopReason?: StopReason;
  private killAt?: number;
  private sandbox?: TaskSandbox;
  private killTimer?: Timer;
  private readonly stopSignal = new AbortController();
  private readonly log: Logger;
  private inSandbox = false;
  private scriptEnded = false;
  private recording = false;

  constructor(
    private readonly deps: ExecutionDeps,
    /** The task as the start write returned it (running, with this attempt's token). */
    readonly task: TaskRecord,
    private readonly job: RunnableJob | undefined,
    private readonly timing: { readonly receivedAt: number; readonly startWriteMs: number },
    private readonly slotsHeld: { readonly ready: (signal: AbortSignal) => Promise<boolean>; readonly release: () => void },
  ) {
    this.log = deps.logger.child({ taskId: task.id, job: task.job, attempt: task.attempt });
    this.clock = deps.clock ?? systemClock;
  }

  private readonly clock: Clock;

  /** True while the script's process is alive. */
  get running(): boolean {
    return this.inSandbox;
  }

  /**
   * Stops the script: the abort signal fires, and the process tree is killed after the grace for
   * that reason (at once for a lost task or a runner out of time). The first reason is the one
   * recorded, except that 'lost' overrides everything (nothing may be recorded then).
   */
  stop(reason: StopReason): void {
    if (this.stopReason && reason !== 'lost') {
      if (reason === 'shutdown') this.sandbox?.kill();
      // The time limit is hard: a script in its cancel grace is still killed by the timeout's.
      if (reason === 'timeout') this.killWithin(this.deps.config.timeoutGraceMs);
      return;
    }
    if (this.stopReason === 'lost') return;
    this.stopReason = reason;
    this.stopSignal.abort();
    const sandbox = this.sandbox;
    if (!sandbox) return;
    if (reason === 'lost' || reason === 'shutdown') {
      sandbox.abort('shutdown');
      sandbox.kill();
      return;
    }
    sandbox.abort(reason);
    this.killWithin(reason === 'cancel' ? this.deps.config.cancelGraceMs : this.deps.config.timeoutGraceMs);
  }

  /** Kills the sandbox `ms` from now, unless a kill is already due sooner. */
  private killWithin(ms: number): void {
    const sandbox = this.sandbox;
    if (!sandbox) return;
    const at = this.clock.now() + ms;
    if (this.killAt !== undefined && this.killAt <= at) return;
    this.killTimer?.cancel();
    this.killAt = at;
    this.killTimer = this.clock.setTimer(ms, () => sandbox.kill());
  }

  async run(): Promise<TaskSummary> {
    const { config } = this.deps;
    const clock = this.clock;
    const now = () => clock.now();
    const task = this.task;
    const workspace = await this.deps.workspaces.open(`${task.id}-${task.attempt}`);
    const taskLog = workspace.log;
    taskLog.write({ msg: 'task started', taskId: task.id, job: task.job, attempt: task.attempt, runnerId: config.runnerId, slots: task.slots });
    // Self-fencing: from the lease the start write set, moved by every renewal the heartbeat proves.
    const fence = new LeaseFence({
      leaseUntil: typeof task.leaseUntil === 'number' ? task.leaseUntil : now() + config.leaseMs,
      marginMs: config.fenceMarginMs,
      clock,
      onExpired: (leaseUntil) => {
        // Once the script has ended there is nothing to stop; recording its outcome is fenced by the token.
        if (this.scriptEnded) return;
        const until = new Date(leaseUntil).toISOString();
        this.log.warn({ leaseUntil: until, fenceMarginMs: config.fenceMarginMs }, 'no heartbeat proved the lease in time: stopping the script; nothing is recorded (the reaper retries the task)');
        taskLog.write({ level: 50, msg: `no heartbeat proved this runner's lease (until ${until}) ${config.fenceMarginMs} ms before it ended: the script was stopped so it cannot overlap a retry`, fenced: true });
        this.stop('lost');
        void heartbeat.stop();
      },
    });
    const heartbeat = new Heartbeat({
      intervalMs: config.heartbeatMs,
      progressIntervalMs: config.progressIntervalMs,
      leaseMs: config.leaseMs,
      beat: (progress, call) => this.deps.lifecycle.store.heartbeat(task.id, task.token, call.sentAt, config.leaseMs, progress),
      onRenewed: (leaseUntil) => {
        // The sandbox learns each new deadline, so it can end itself if this runner freezes.
        if (fence.extend(leaseUntil)) this.sandbox?.setDeadline(fence.sandboxDeadlineMs());
      },
      onCancelRequested: () => {
        this.log.info('cancel requested: aborting the script');
        taskLog.write({ level: 40, msg: `cancel requested: the script's signal is aborted; it is killed in ${config.cancelGraceMs} ms unless it ends` });
        this.stop('cancel');
      },
      onLost: (err) => {
        // Once the terminal write is under way, a beat losing to it is expected.
        if (this.recording) return;
        this.log.warn({ err: err.message }, 'heartbeat lost: the task is not this runner\'s any more; killing the script');
        taskLog.write({ level: 50, msg: 'this runner lost the task (its lease was taken over); the script was killed' });
        this.stop('lost');
      },
      onError: (err) => this.log.warn({ err }, 'heartbeat failed; retrying'),
      clock,
    });
    heartbeat.start();
    fence.start();
    let scriptTimer: Timer | undefined;
    try {
      let report: SandboxReport | undefined;
      let handedAt: number | undefined;
      let warm: boolean | undefined;
      let preOutcome: TerminalOutcome | undefined;
      try {
        preOutcome = this.checkRunnable();
        if (!preOutcome && (await this.slotsHeld.ready(this.stopSignal.signal)) && !this.stopReason) {
          const sandbox = this.deps.pool.take();
          warm = sandbox.warm;
          this.sandbox = sandbox;
          this.inSandbox = true;
          taskLog.attach(sandbox.stdout, 'stdout');
          taskLog.attach(sandbox.stderr, 'stderr');
          const timeUp = (what: string) => () => {
            this.log.warn({ maxExecutionMs: task.maxExecutionMs }, `max execution time reached ${what}: aborting and killing the script`);
            taskLog.write({ level: 50, msg: `max execution time of ${task.maxExecutionMs} ms reached ${what}: the script is killed` });
            this.stop('timeout');
          };
          // The time limit is the script's own (invariant 8): it starts when the module has loaded
          // (`started`). Booting and loading do not count, but are bounded too, so a module that
          // never loads cannot hold the task for ever.
          scriptTimer = clock.setTimer(task.maxExecutionMs + MODULE_LOAD_ALLOWANCE_MS, timeUp('before the job module even loaded'));
          // Its own directory and environment (with its job role's credentials, if any).
          const env = (await sandbox.prepare?.(workspace, task)) ?? {};
          handedAt = now();
          sandbox.setDeadline(fence.sandboxDeadlineMs());
          report = await sandbox.run(this.request(workspace, env), {
            onStarted: () => {
              scriptTimer?.cancel();
              scriptTimer = clock.setTimer(task.maxExecutionMs, timeUp(''));
            },
            onProgress: (percent, message) => {
              heartbeat.reportProgress(percent, message);
              taskLog.write({ msg: 'progress', percent, ...(message !== undefined ? { progressMessage: message } : {}) });
            },
          });
          this.scriptEnded = true;
          scriptTimer.cancel();
          this.killTimer?.cancel();
          this.inSandbox = false;
          // It ended itself at its lease deadline (it says so, or it died unfinished past the fence
          // while this runner could not act: a frozen runner wakes to both at once).
          if (this.stopReason !== 'lost' && (report.deadlinePassed || (!report.done && fence.isPastStop()))) {
            this.log.warn('the sandbox ended itself at its lease deadline (this runner was frozen or could not renew): nothing is recorded');
            this.stop('lost');
          }
        }
      } catch (err) {
        this.sandbox?.kill();
        preOutcome = { status: 'failed', error: { reason: 'error', message: `the runner could not run the task: ${coerceError(err).message}` } };
        this.log.error({ err }, 'could not run the task');
      } finally {
        scriptTimer?.cancel();
        this.scriptEnded = true;
        this.inSandbox = false;
        // The sandbox is gone: its slots are free for the next task while this one is recorded.
        this.slotsHeld.release();
      }

      const uploadStarted = now();
      let result: unknown;
      let resultS3Key: string | undefined;
      if (report?.done?.result) {
        const payload = report.done.result;
        if (payload.kind === 'inline') result = JSON.parse(payload.json);
        else {
          const key = resultKey(task.job, task.id, task.attempt);
          try {
            await this.deps.files.upload(key, payload.path, 'application/json');
            resultS3Key = key;
          } catch (err) {
            this.log.error({ err }, 'could not upload the result to S3; the task completes without it');
            taskLog.write({ level: 50, msg: `the result (${payload.bytes} bytes) could not be uploaded and was dropped: ${coerceError(err).message}` });
          }
        }
      }
      // Only a large result's upload is excluded from the overhead: the log's upload happens after the outcome.
      const uploadMs = now() - uploadStarted;
      if (report?.done?.resultError) taskLog.write({ level: 40, msg: `result dropped: ${report.done.resultError}` });
      if (report?.nextRun?.error) taskLog.write({ level: 50, msg: `nextRun failed, so no next occurrence: ${report.nextRun.error}` });

      const outcome = preOutcome ?? this.outcomeOf(report, result, resultS3Key);
      const ended = report?.exitedAt ?? now();
      const scriptStartedAt = report?.startedAt;
      const scriptEndedAt = scriptStartedAt !== undefined ? Math.max(scriptStartedAt, report?.done?.at ?? report?.failed?.at ?? ended) : undefined;
      const scriptMs = scriptStartedAt !== undefined && scriptEndedAt !== undefined ? scriptEndedAt - scriptStartedAt : 0;

      const logSummary = await taskLog.close({
        level: outcome?.status === 'completed' ? 30 : 50,
        msg: 'task ended',
        outcome: outcome?.status ?? 'lost',
        ...(outcome && outcome.status !== 'completed' && outcome.error ? { reason: outcome.error.reason, error: outcome.error.message } : {}),
        ...(report ? { exitCode: report.exitCode, signal: report.signal } : {}),
        scriptMs: Math.round(scriptMs),
      });
      // Log batching hook (runner/log/batcher.ts): the log's location is known at once and
      // recorded with the outcome; the upload happens after, in a shared batch or on its own.
      const log = await this.deps.logs.add(task, logSummary).catch((err: unknown) => {
        this.log.error({ err }, 'could not hand the task log over for upload; the outcome is recorded without it');
        return undefined;
      });
      const logS3Key = log?.key;

      let recorded = false;
      const finishStarted = now();
      if (outcome && this.stopReason !== 'lost') {
        this.recording = true;
        recorded = (await this.finish(outcome, log, nextRunOf(report, task))) !== 'lost';
      }
      const recordedAt = now();
      if (this.sandbox) this.deps.pool.settled?.(this.sandbox);
      const finishMs = recordedAt - finishStarted;
      fence.stop();
      await heartbeat.stop();
      // After the outcome: the clean-up delays no task, so it is not part of the overhead.
      await workspace.remove().catch((err) => this.log.warn({ err }, 'could not remove the task directory'));

      const endedAt = now();
      const durationMs = recordedAt - this.timing.receivedAt;
      const lost = !recorded;
      const summary: TaskSummary = {
        taskId: task.id,
        job: task.job,
        attempt: task.attempt,
        slots: task.slots,
        outcome: lost ? 'lost' : (outcome as TerminalOutcome).status,
        ...(!lost && outcome && outcome.status !== 'completed' && outcome.error ? { reason: outcome.error.reason } : {}),
        receivedAt: this.timing.receivedAt,
        ...(scriptStartedAt !== undefined ? { scriptStartedAt, scriptEndedAt } : {}),
        endedAt,
        durationMs,
        scriptMs,
        uploadMs,
        overheadMs: durationMs - scriptMs - uploadMs,
        startWriteMs: this.timing.startWriteMs,
        finishMs,
        ...(handedAt !== undefined && report ? { sandboxOverheadMs: report.exitedAt - handedAt - scriptMs } : {}),
        ...(logS3Key ? { logS3Key } : {}),
        ...(warm !== undefined ? { warmSandbox: warm } : {}),
      };
      const round = (n: number) => Math.round(n * 10) / 10;
      this.log[summary.outcome === 'completed' ? 'info' : 'warn'](
        {
          outcome: summary.outcome,
          ...(summary.reason ? { reason: summary.reason } : {}),
          durationMs: round(durationMs),
          scriptMs: round(scriptMs),
          uploadMs: round(uploadMs),
          overheadMs: round(summary.overheadMs),
          startWriteMs: round(summary.startWriteMs),
          finishMs: round(finishMs),
          ...(summary.sandboxOverheadMs !== undefined ? { sandboxOverheadMs: round(summary.sandboxOverheadMs) } : {}),
          ...(report ? { exitCode: report.exitCode, signal: report.signal } : {}),
          ...(warm !== undefined ? { warmSandbox: warm } : {}),
          logBytes: logSummary.bytes,
          ...(logSummary.truncated ? { logTruncated: true } : {}),
        },
        'task ended',
      );
      return summary;
    } finally {
      // Whatever happened above, never leave a lease being renewed, a kill pending or slots held.
      this.killTimer?.cancel();
      fence.stop();
      await heartbeat.stop();
      this.slotsHeld.release();
    }
  }

  /** Reasons not to start a sandbox at all. */
  private checkRunnable(): TerminalOutcome | undefined {
    const task = this.task;
    const job = this.job;
    if (this.stopReason === 'shutdown') return { status: 'failed', error: { reason: 'runner-lost', message: 'runner shut down' } };
    if (!job) return { status: 'failed', error: { reason: 'job-load-failed', message: `job "${task.job}" is not in this runner's catalogue` } };
    if (!job.module.ok) return { status: 'failed', error: { reason: 'job-load-failed', message: job.module.error } };
    if (task.slots > this.deps.config.slots) return { status: 'failed', error: { reason: 'invalid-task', message: `the task needs ${task.slots} slots; runners of class ${task.slotClass} offer ${this.deps.config.slots}` } };
    if (task.expiresAt !== undefined && task.startedAt !== undefined && task.startedAt > task.expiresAt) {
      return { status: 'failed', error: { reason: 'expired', message: `not started before it expired at ${new Date(task.expiresAt).toISOString()}` } };
    }
    return undefined;
  }

  private request(workspace: TaskWorkspace, env: Record<string, string>): RunRequest {
    const { task, deps } = this;
    return {
      type: 'run',
      modulePath: (this.job as RunnableJob & { module: { ok: true; path: string } }).module.path,
      args: task.args,
      task: {
        taskId: task.id,
        job: task.job,
        attempt: task.attempt,
        token: task.token,
        scheduledAt: task.dueAt,
        ...(task.lastCompletedAt !== undefined ? { lastCompletedAt: task.lastCompletedAt } : {}),
        ...(task.scheduleId ? { occurrenceAt: task.occurrenceAt ?? task.dueAt } : {}),
      },
      tmpDir: workspace.tmpDir,
      resultFile: workspace.resultFile,
      env,
      inlineResultBytes: deps.config.inlineResultBytes,
      logLevel: deps.config.jobLogLevel,
      logCapBytes: deps.config.logCapBytes,
    };
  }

  private outcomeOf(report: SandboxReport | undefined, result: unknown, resultS3Key: string | undefined): TerminalOutcome | undefined {
    if (!report) {
      // No sandbox ran: stopped while waiting for slots.
      if (this.stopReason === 'lost') return undefined;
      if (this.stopReason === 'cancel') return { status: 'cancelled', error: { reason: 'cancelled', message: 'cancelled on request before the script started' } };
      return { status: 'failed', error: { reason: 'runner-lost', message: 'runner shut down' } };
    }
    return decideOutcome({
      report,
      ...(this.stopReason ? { stopReason: this.stopReason } : {}),
      maxExecutionMs: this.task.maxExecutionMs,
      ...(result !== undefined ? { result } : {}),
      ...(resultS3Key ? { resultS3Key } : {}),
    });
  }

  /**
   * Core's shared finish path, retried on transient errors while the heartbeat keeps the lease.
   * If an earlier try's terminal write landed but its follow-up failed, the retry sees the
   * terminal record (same token) and completes the idempotent follow-up only.
   */
  private async finish(outcome: TerminalOutcome, log: LogLocation | undefined, nextRunAt: number | null | undefined): Promise<'recorded' | 'lost' | 'gave-up'> {
    const { lifecycle } = this.deps;
    const now = () => this.clock.now();
    const request = { task: this.task, outcome, ...(log ? { logS3Key: log.key, ...(log.range ? { logRange: log.range } : {}) } : {}), ...(nextRunAt !== undefined ? { nextRunAt } : {}) };
    let delay = 200;
    for (let attempt = 1; attempt <= 6; attempt++) {
      try {
        await finishTask(lifecycle, request, now());
        return 'recorded';
      } catch (err) {
        if (err instanceof ClaimConflictError) {
          const current = await lifecycle.store.get(this.task.id).catch(() => undefined);
          if (attempt > 1 && current && current.token === this.task.token && isTerminal(current.status)) {
            if (!current.effectsDone) await runFollowUp(lifecycle, current, now()).catch((e) => this.log.error({ err: e }, 'follow-up failed; the reaper will redo it'));
            return 'recorded';
          }
          this.log.warn({ status: current?.status }, 'the task changed under this runner before its outcome was written; nothing recorded');
          return 'lost';
        }
        if (attempt === 6) {
          this.log.error({ err, outcome: outcome.status }, 'could not record the outcome; the reaper will finish the task when its lease expires');
          return 'gave-up';
        }
        this.log.warn({ err, attempt }, 'recording the outcome failed; retrying');
        await this.clock.sleep(delay);
        delay *= 2;
      }
    }
    return 'gave-up';
  }
}

/**
 * A computed schedule's next date as the module gave it: its date, or null when it gave none, threw,
 * or has no `nextRun` (the child asks before the script starts, so a started script means it was
 * asked). Undefined when the module was never asked: whoever does the follow-up asks it again.
 */
function nextRunOf(report: SandboxReport | undefined, task: TaskRecord): number | null | undefined {
  if (report?.nextRun) return report.nextRun.at ?? null;
  return report?.startedAt !== undefined && task.scheduleId !== undefined ? null : undefined;
}
