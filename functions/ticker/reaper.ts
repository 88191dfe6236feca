import type { Logger } from 'pino';
import { ClaimConflictError } from '../../core/errors';
import { finishTask, runFollowUp, type LifecycleDeps } from '../../core/lifecycle/finish';
import { isTerminal, type TaskRecord } from '../../core/model/task';
import type { SchedEntry } from '../../core/store/task-store';
import { failInvalidTask } from './invalid-task';
import { forEachLimited } from './pool';

export interface ReaperDeps {
  readonly lifecycle: LifecycleDeps;
  readonly dispatchWindowMs: number;
  readonly graceMs: number;
  readonly concurrency: number;
  readonly logger: Logger;
  /** Messages waiting unreceived in a class's queue (DispatchSender.waiting); absent: always put back. */
  readonly waiting?: (slotClass: string) => Promise<number | undefined>;
  /** TickerOptions.coldStartMs. @default 0 */
  readonly coldStartMs?: number;
}

export interface ReapReport {
  /** Queued tasks no runner started within the dispatch window, back to pending. */
  putBack: number;
  /** Running tasks whose runner stopped renewing the lease (or overran max execution time), failed as runner-lost. */
  runnerLost: number;
  /** Finished tasks whose follow-up work was cut short, redone. */
  followUps: number;
  /** Queued tasks that expired before a runner started them. */
  expired: number;
  invalid: number;
  /** Entries not due for action yet, moved to a later look-again time. */
  lookAgain: number;
  /** Queued tasks past their window left queued because their class's queue still holds unreceived messages (of lookAgain). */
  waitingForRunners: number;
  errors: number;
}

export const emptyReapReport = (): ReapReport => ({ putBack: 0, runnerLost: 0, followUps: 0, expired: 0, invalid: 0, lookAgain: 0, waitingForRunners: 0, errors: 0 });

/** When a running task counts as lost: its lease (or its max execution time) ended more than the grace period ago. */
export function runnerLostAt(task: TaskRecord, graceMs: number): { at: number; why: 'lease' | 'max-execution' } {
  const started = num(task.startedAt) ?? num(task.queuedAt) ?? 0;
  const lease = num(task.leaseUntil) ?? started;
  const maxRun = started + (num(task.maxExecutionMs) ?? Number.MAX_SAFE_INTEGER / 2);
  return lease <= maxRun ? { at: lease + graceMs, why: 'lease' } : { at: maxRun + graceMs, why: 'max-execution' };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const iso = (t: number) => new Date(t).toISOString();

/**
 * Recovery for in-flight entries whose look-again time has passed. Every action is one
 * conditional write (or the shared finish path), so two reapers at once do no harm.
 */
export class Reaper {
  constructor(private readonly deps: ReaperDeps) {}

  async reap(entries: readonly SchedEntry[], now: number): Promise<ReapReport> {
    const report = emptyReapReport();
    if (entries.length === 0) return report;
    // One batched, eventually consistent read; decisions that would end a task re-read consistently.
    const tasks = new Map((await this.deps.lifecycle.store.getMany(entries.map((e) => e.id))).map((t) => [t.id, t]));
    // At most one queue-depth read per class per reap, and only when some task of it is past its window.
    const depths = new Map<string, Promise<number | undefined>>();
    const waiting = (slotClass: string) => {
      if (!this.deps.waiting) return Promise.resolve(undefined);
      let depth = depths.get(slotClass);
      if (!depth) depths.set(slotClass, (depth = this.deps.waiting(slotClass).catch(() => undefined)));
      return depth;
    };
    await forEachLimited(
      entries,
      this.deps.concurrency,
      async (entry) => {
        const task = tasks.get(entry.id);
        if (task) await this.reapOne(entry, task, now, report, waiting);
      },
      (err, entry) => {
        report.errors++;
        this.deps.logger.error({ err, taskId: entry.id }, 'reaper step failed; a later tick retries it');
      },
    );
    return report;
  }

  private async reapOne(entry: SchedEntry, task: TaskRecord, now: number, report: ReapReport, waiting: (slotClass: string) => Promise<number | undefined>): Promise<void> {
    const { store } = this.deps.lifecycle;
    const log = this.deps.logger;
    switch (task.status) {
      case 'pending':
        // A retry or a put-back already made it due again; this entry is the index catching up.
        return;
      case 'queued': {
        if (task.expiresAt !== undefined && task.expiresAt < now) {
          if (await this.fail(task, 'expired', `expired at ${iso(task.expiresAt)} before a runner started it`, now)) report.expired++;
          return;
        }
        const windowEnds = (num(task.queuedAt) ?? 0) + this.deps.dispatchWindowMs;
        if (windowEnds > now) {
          if (await store.lookAgainAt(task, windowEnds)) report.lookAgain++;
          return;
        }
        // Messages still wait unreceived in its class's queue (runners starting from zero, or all
        // busy): its own is most likely among them, and a put-back would only queue another copy
        // behind it. One look again, at the end of coldStartMs: a message that was lost (rare:
        // the ticker died between claim and send) costs that much delay, nothing more.
        const holdUntil = windowEnds + (this.deps.coldStartMs ?? 0);
        if (now < holdUntil && ((await waiting(task.slotClass)) ?? 0) > 0) {
          if (await store.lookAgainAt(task, holdUntil)) {
            report.lookAgain++;
            report.waitingForRunners++;
          }
          return;
        }
        // No runner started it in time (lost message, ticker died before sending, no runner of the class).
        // The old message, if any, now carries a stale token: the runner drops it.
        if (await store.putBack(task)) {
          report.putBack++;
          log.debug({ taskId: task.id, job: task.job }, 'put back: not started within the dispatch window');
        }
        return;
      }
      case 'running': {
        const lost = runnerLostAt(task, this.deps.graceMs);
        if (lost.at >= now) {
          if (await store.lookAgainAt(task, lost.at + 1)) report.lookAgain++;
          return;
        }
        // The lease may have been renewed after the batched read: decide on a consistent one.
        const fresh = await store.get(task.id);
        if (!fresh || fresh.status !== 'running' || fresh.token !== task.token) return;
        const freshLost = runnerLostAt(fresh, this.deps.graceMs);
        if (freshLost.at >= now) {
          if (await store.lookAgainAt(fresh, freshLost.at + 1)) report.lookAgain++;
          return;
        }
        const message =
          freshLost.why === 'lease'
            ? `runner ${fresh.runnerId ?? '(unknown)'} stopped renewing the lease, which ended at ${iso(freshLost.at - this.deps.graceMs)} (grace ${this.deps.graceMs} ms)`
            : `ran past its max execution time of ${fresh.maxExecutionMs} ms plus ${this.deps.graceMs} ms grace; runner ${fresh.runnerId ?? '(unknown)'} did not end it`;
        if (await this.fail(fresh, 'runner-lost', message, now)) {
          report.runnerLost++;
          log.debug({ taskId: fresh.id, job: fresh.job, attempt: fresh.attempt }, 'runner lost');
        }
        return;
      }
      case 'completed':
      case 'failed':
      case 'cancelled': {
        if (task.effectsDone) return;
        const redoAt = (num(task.endedAt) ?? 0) + this.deps.graceMs;
        if (redoAt > now) {
          // Its own finisher is probably still at work: give it the grace period.
          if (await store.lookAgainAt(task, redoAt)) report.lookAgain++;
          return;
        }
        const fresh = await store.get(task.id);
        if (!fresh || !isTerminal(fresh.status) || fresh.effectsDone) return;
        await runFollowUp(this.deps.lifecycle, fresh, now);
        report.followUps++;
        log.debug({ taskId: fresh.id, job: fresh.job, status: fresh.status }, 'follow-up redone');
        return;
      }
      default: {
        const outcome = await failInvalidTask(this.deps.lifecycle, entry, [`status: ${JSON.stringify(task.status)} is not a task status`], now, 'queued');
        if (outcome === 'failed') {
          report.invalid++;
          log.warn({ taskId: entry.id, status: task.status }, 'failed a malformed task as invalid-task');
        }
      }
    }
  }

  /** The shared finish path; false when another process changed the task first. */
  private async fail(task: TaskRecord, reason: 'expired' | 'runner-lost', message: string, now: number): Promise<boolean> {
    try {
      await finishTask(this.deps.lifecycle, { task, outcome: { status: 'failed', error: { reason, message } } }, now);
      return true;
    } catch (err) {
      if (err instanceof ClaimConflictError) return false;
      throw err;
    }
  }
}
