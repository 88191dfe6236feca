import type { Clock } from '../clock';
import { ClaimConflictError } from '../errors';
import { buildOccurrence } from '../model/occurrence';
import { occurrencesToCreate } from '../model/schedule';
import type { FailureReason, TaskRecord } from '../model/task';
import type { ScheduleStore } from '../store/schedule-store';
import { concurrencyScopes, type TaskStore } from '../store/task-store';
import type { TerminalOutcome } from '../store/transitions';

export type { TerminalOutcome };

export interface LifecycleDeps {
  readonly store: TaskStore;
  readonly schedules: ScheduleStore;
  readonly shards: number;
  /** How long a finished task's follow-up work may take before the reaper redoes it. */
  readonly graceMs: number;
  /** Cap on occurrences created at once when a schedule catches up on missed runs. */
  readonly maxCatchUp?: number;
  /** Waits between retried writes. @default systemClock */
  readonly clock?: Clock;
}

export interface FinishRequest {
  /** The task as last seen: the write is fenced by its status and token. */
  readonly task: TaskRecord;
  readonly outcome: TerminalOutcome;
  readonly logS3Key?: string;
  /**
   * For schedules computed by the job module: the date its `nextRun` returned, or null when it
   * returned none (or threw): the job ended its schedule. Undefined when the module was never
   * asked (the task ended before its script ran). Stored with the terminal write.
   */
  readonly nextRunAt?: number | null;
}

/** Reasons that retrying cannot fix. */
const FINAL_REASONS: readonly FailureReason[] = ['expired', 'cancelled', 'dependency-failed', 'invalid-task', 'job-load-failed'];

export const willRetry = (task: TaskRecord): boolean =>
  task.status === 'failed' && task.attempt < task.maxAttempts && !FINAL_REASONS.includes(task.error?.reason ?? 'error');

/**
 * The one finish path for every ending (runner, reaper, cancel, expiry, dependency failure):
 * a terminal write fenced by status and token, then the follow-up work. The task keeps its
 * in-flight sched entry until the follow-up is done, so a crash in between is redone by the reaper.
 */
export async function finishTask(deps: LifecycleDeps, req: FinishRequest, now: number): Promise<TaskRecord> {
  if (!hasFollowUp(req)) {
    // Nothing follows: one write ends the task and leaves the indexes. It loses if the task
    // changed (then so would the general path below), or if a dependent registered meanwhile.
    try {
      return await writeTerminal(deps, req, now, { settled: true });
    } catch (err) {
      if (!(err instanceof ClaimConflictError)) throw err;
      const seen = err.current;
      if (seen && (seen.status !== req.task.status || seen.token !== req.task.token)) throw err;
    }
  }
  const ended = await writeTerminal(deps, req, now);
  await runFollowUp(deps, ended, now);
  return ended;
}

/**
 * Whether ending this way leaves work to do after the terminal write: counters to release, a
 * retry, an IDEM outcome, dependents, or a next occurrence. Status events are not follow-up work:
 * they come from the table's stream (functions/status-events).
 */
export function hasFollowUp(req: FinishRequest): boolean {
  const { task, outcome } = req;
  const ended = { ...task, status: outcome.status, ...(outcome.status !== 'completed' && outcome.error ? { error: outcome.error } : {}) };
  return (
    concurrencyScopes(task).length > 0 ||
    willRetry(ended) ||
    task.idempotencyKey !== undefined ||
    task.scheduleId !== undefined ||
    Boolean(task.hasDependents)
  );
}

/**
 * The terminal write (the ending that fits: finish, cancel, expire, failDependent, invalid).
 * Normally the task keeps (or gets) an in-flight sched entry until its follow-up is done;
 * `settled` (no follow-up at all) marks it done and leaves the index in the same write, on
 * condition that no dependent has registered.
 */
export function writeTerminal(deps: LifecycleDeps, req: FinishRequest, now: number, options: { settled?: boolean } = {}): Promise<TaskRecord> {
  return deps.store.end(req.task, {
    outcome: req.outcome,
    now,
    graceMs: deps.graceMs,
    ...(req.logS3Key ? { logS3Key: req.logS3Key } : {}),
    ...(req.nextRunAt !== undefined ? { nextRunAt: req.nextRunAt } : {}),
    ...(options.settled ? { settled: true } : {}),
  });
}

/**
 * Everything that follows a terminal write, each step idempotent, so running it twice (a
 * crashed runner, then the reaper) has the effect of running it once.
 */
export async function runFollowUp(deps: LifecycleDeps, task: TaskRecord, now: number): Promise<void> {
  if (task.effectsDone) return;
  await deps.store.releaseConcurrency(task);
  if (willRetry(task)) {
    await deps.store.retry(task, now);
    return;
  }
  if (task.idempotencyKey) await deps.store.recordIdemOutcome(task.idempotencyKey, task.id, task.status, Math.ceil((now + 4 * task.retentionMs) / 1000));
  if (task.hasDependents) await settleDependents(deps, task, now);
  if (task.scheduleId) await scheduleNext(deps, task, now);
  await deps.store.settle(task);
}

/** Tasks waiting on this one become due if it completed, or fail with "dependency failed" if not. */
async function settleDependents(deps: LifecycleDeps, task: TaskRecord, now: number): Promise<void> {
  // The ids on the item are exact; the index adds dependents registered before ids were kept there.
  const ids = [...new Set([...(task.dependents ?? []), ...(await deps.store.dependentsOf(task.id))])];
  for (const dependent of await deps.store.getMany(ids)) {
    if (dependent.status !== 'pending' || dependent.startAfter !== task.id) continue;
    await settleDependent(deps, dependent, task, now);
  }
}

/** A waiting task, once its predecessor has ended for good (or is gone). */
export async function settleDependent(deps: LifecycleDeps, dependent: TaskRecord, predecessor: TaskRecord | undefined, now: number): Promise<void> {
  if (predecessor?.status === 'completed') {
    await deps.store.releaseWaiting(dependent, now, { predecessor: predecessor.id });
    return;
  }
  // Not completed: it failed for good, was cancelled, expired, or is gone.
  if (predecessor && !['failed', 'cancelled'].includes(predecessor.status)) return;
  if (predecessor && willRetry(predecessor)) return;
  try {
    await finishTask(
      deps,
      {
        task: dependent,
        outcome: {
          status: 'failed',
          error: { reason: 'dependency-failed', message: `task ${dependent.startAfter} ${predecessor ? `ended ${predecessor.status}` : 'does not exist any more'}, so this task will not run` },
        },
      },
      now,
    );
  } catch (err) {
    if (!(err instanceof ClaimConflictError)) throw err;
  }
}

/**
 * The schedule's next occurrence(s), once per occurrence in effect: the schedule moves from this
 * occurrence's due time conditionally, in one transaction with the creation. A computed schedule
 * takes the date stored with the terminal write; when its module was never asked (the task
 * ended before its script ran), the next occurrence is due at once so that the module is asked
 * again: a schedule stops only when stopped, or when its job returns no next date.
 */
async function scheduleNext(deps: LifecycleDeps, task: TaskRecord, now: number): Promise<void> {
  const scheduleId = task.scheduleId as string;
  const schedule = await deps.schedules.get(scheduleId);
  const occurrenceAt = task.occurrenceAt ?? task.dueAt;
  if (!schedule || !schedule.active || schedule.nextDueAt !== occurrenceAt) return;
  const dues =
    schedule.spec.kind === 'computed'
      ? task.nextRunAt === null
        ? []
        : [Math.max(task.nextRunAt ?? now, now)]
      : occurrencesToCreate(schedule.spec, occurrenceAt, now, schedule.missedRuns, Math.min(schedule.maxCatchUp, deps.maxCatchUp ?? 50));
  const lastCompletedAt = task.status === 'completed' ? task.endedAt : schedule.lastCompletedAt;
  // A next date at or before this occurrence's would move the schedule backwards (and could repeat an occurrence id).
  const occurrences = dues.map((due) => buildOccurrence(schedule, Math.max(due, occurrenceAt + 1), now, lastCompletedAt));
  await deps.schedules.advance(schedule.id, occurrenceAt, occurrences, {
    ...(lastCompletedAt !== undefined ? { lastCompletedAt } : {}),
    ...(occurrences.length === 0 ? { active: false, endedBy: `job: ${task.job}'s nextRun returned no date after occurrence ${task.id}` } : {}),
  });
}
