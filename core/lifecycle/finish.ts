import { ClaimConflictError } from '../errors';
import { backoffDelay } from '../model/backoff';
import { CHECK_AT, newToken } from '../model/keys';
import { buildOccurrence } from '../model/occurrence';
import { occurrencesToCreate } from '../model/schedule';
import { assertTransition } from '../model/state-machine';
import type { FailureReason, TaskError, TaskRecord } from '../model/task';
import type { ScheduleStore } from '../store/schedule-store';
import { dueKeys, inFlightKeys } from '../store/task-item';
import { concurrencyScopes, type TaskStore } from '../store/task-store';

export interface LifecycleDeps {
  readonly store: TaskStore;
  readonly schedules: ScheduleStore;
  readonly shards: number;
  /** How long a finished task's follow-up work may take before the reaper redoes it. */
  readonly graceMs: number;
  /** Cap on occurrences created at once when a schedule catches up on missed runs. */
  readonly maxCatchUp?: number;
}

export type TerminalOutcome =
  | { readonly status: 'completed'; readonly result?: unknown; readonly resultS3Key?: string }
  | { readonly status: 'failed'; readonly error: TaskError }
  | { readonly status: 'cancelled'; readonly error?: TaskError };

export interface FinishRequest {
  /** The task as last seen: the write is fenced by its status and token. */
  readonly task: TaskRecord;
  readonly outcome: TerminalOutcome;
  readonly logS3Key?: string;
  /** The log's slice of a batch object; recorded before the log is uploaded (an outcome never waits on its log). */
  readonly logRange?: { readonly offset: number; readonly length: number };
  /** For schedules computed by the job module: the date its `nextRun` returned. */
  readonly nextRunAt?: number;
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
  await runFollowUp(deps, ended, now, req.nextRunAt);
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
 * The terminal write. Normally the task keeps (or gets) an in-flight sched entry until its
 * follow-up is done; `settled` (no follow-up at all) marks it done and leaves the index in the
 * same write, on condition that no dependent has registered.
 */
export async function writeTerminal(deps: LifecycleDeps, req: FinishRequest, now: number, options: { settled?: boolean } = {}): Promise<TaskRecord> {
  const { task, outcome } = req;
  assertTransition(task.status, outcome.status);
  const set: Record<string, unknown> = {
    status: outcome.status,
    endedAt: now,
    ttl: Math.ceil((now + task.retentionMs) / 1000),
  };
  if (outcome.status === 'completed') {
    if (outcome.result !== undefined) set.result = outcome.result;
    if (outcome.resultS3Key) set.resultS3Key = outcome.resultS3Key;
  } else if (outcome.error) set.error = outcome.error;
  if (req.logS3Key) set.logS3Key = req.logS3Key;
  if (req.logS3Key && req.logRange) set.logRange = req.logRange;
  const remove = task.status === 'pending' ? ['gsi3pk', 'gsi3sk', 'held'] : [];
  if (options.settled) {
    set.effectsDone = true;
    remove.push('gsi1pk', 'gsi1sk', CHECK_AT);
  } else if (task.status === 'pending') {
    // Pending (due, held or waiting) tasks have no in-flight entry yet; claimed ones already do.
    Object.assign(set, inFlightKeys(task, now + deps.graceMs, deps.shards));
  }
  return deps.store.transition(
    task.id,
    { set, remove },
    { equals: { status: task.status, token: task.token }, ...(options.settled ? { notExists: ['hasDependents'] } : {}) },
    `${task.status} with token ${task.token}`,
  );
}

/**
 * Everything that follows a terminal write, each step idempotent, so running it twice (a
 * crashed runner, then the reaper) has the effect of running it once.
 */
export async function runFollowUp(deps: LifecycleDeps, task: TaskRecord, now: number, nextRunAt?: number): Promise<void> {
  if (task.effectsDone) return;
  await deps.store.releaseConcurrency(task);
  if (willRetry(task)) {
    await retry(deps, task, now);
    return;
  }
  if (task.idempotencyKey) await deps.store.recordIdemOutcome(task.idempotencyKey, task.id, task.status, Math.ceil((now + 4 * task.retentionMs) / 1000));
  if (task.hasDependents) await settleDependents(deps, task, now);
  if (task.scheduleId) await scheduleNext(deps, task, now, nextRunAt);
  await deps.store.tryTransition(
    task.id,
    { set: { effectsDone: true }, remove: ['gsi1pk', 'gsi1sk', CHECK_AT] },
    { equals: { status: task.status, token: task.token } },
  );
}

/** A failed attempt becomes the next pending attempt, due after its backoff: the same write moves its entry there. */
async function retry(deps: LifecycleDeps, task: TaskRecord, now: number): Promise<void> {
  const attempt = task.attempt + 1;
  const dueAt = now + backoffDelay(task.backoff, attempt);
  await deps.store.tryTransition(
    task.id,
    {
      set: { status: 'pending', attempt, dueAt, token: newToken(), lastError: task.error, ...dueKeys({ ...task, dueAt }, deps.shards) },
      remove: ['error', 'endedAt', 'startedAt', 'queuedAt', 'runnerId', 'leaseUntil', 'ttl', 'cancelRequested', 'progress', CHECK_AT],
    },
    { equals: { status: 'failed', token: task.token, attempt: task.attempt } },
  );
}

/** Tasks waiting on this one become due if it completed, or fail with "dependency failed" if not. */
async function settleDependents(deps: LifecycleDeps, task: TaskRecord, now: number): Promise<void> {
  const ids = await deps.store.dependentsOf(task.id);
  for (const dependent of await deps.store.getMany(ids)) {
    if (dependent.status !== 'pending' || dependent.startAfter !== task.id) continue;
    await settleDependent(deps, dependent, task, now);
  }
}

/** A waiting task, once its predecessor has ended for good (or is gone). */
export async function settleDependent(deps: LifecycleDeps, dependent: TaskRecord, predecessor: TaskRecord | undefined, now: number): Promise<void> {
  if (predecessor?.status === 'completed') {
    await deps.store.releaseWaiting(dependent, now, { equals: { gsi3pk: `after#${predecessor.id}` } });
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

async function scheduleNext(deps: LifecycleDeps, task: TaskRecord, now: number, nextRunAt?: number): Promise<void> {
  const scheduleId = task.scheduleId as string;
  const schedule = await deps.schedules.get(scheduleId);
  const occurrenceAt = task.occurrenceAt ?? task.dueAt;
  if (!schedule || !schedule.active || schedule.nextDueAt !== occurrenceAt) return;
  const dues =
    schedule.spec.kind === 'computed'
      ? nextRunAt !== undefined
        ? [Math.max(nextRunAt, now)]
        : []
      : occurrencesToCreate(schedule.spec, occurrenceAt, now, schedule.missedRuns, Math.min(schedule.maxCatchUp, deps.maxCatchUp ?? 50));
  const lastCompletedAt = task.status === 'completed' ? task.endedAt : schedule.lastCompletedAt;
  const occurrences = dues.map((due) => buildOccurrence(schedule, due, now, lastCompletedAt));
  await deps.schedules.advance(schedule.id, occurrenceAt, occurrences, {
    ...(lastCompletedAt !== undefined ? { lastCompletedAt } : {}),
    ...(occurrences.length === 0 ? { active: false } : {}),
  });
}
