import { ClaimConflictError } from '../../core/errors';
import { finishTask, type LifecycleDeps } from '../../core/lifecycle/finish';
import { DEFAULT_BACKOFF } from '../../core/model/backoff';
import { newToken } from '../../core/model/keys';
import { TASK_STATUSES, isTerminal, type TaskRecord, type TaskStatus } from '../../core/model/task';
import type { SchedEntry } from '../../core/store/task-store';

export type InvalidTaskOutcome = 'failed' | 'gone' | 'moved';

const WEEK_MS = 7 * 86_400_000;
const MAX_MESSAGE = 1000;

const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
const positiveInt = (v: unknown): number | undefined => (Number.isInteger(v) && (v as number) > 0 ? (v as number) : undefined);

/**
 * Fails a malformed task as `invalid-task` through the shared finish path, so its dependents,
 * schedule and idempotency key settle as for any failure. An item too broken to be fenced
 * (no status or token) is first repaired by one write conditional on the index entry we saw.
 * Returns 'gone' if the item no longer exists and 'moved' if another process changed it first.
 */
export async function failInvalidTask(
  deps: LifecycleDeps,
  entry: Pick<SchedEntry, 'id' | 'sk'>,
  problems: readonly string[],
  now: number,
  fallbackStatus: TaskStatus,
): Promise<InvalidTaskOutcome> {
  let record = await deps.store.get(entry.id);
  if (!record) return 'gone';
  const repair: { status?: TaskStatus; token?: string } = {};
  if (!TASK_STATUSES.includes(record.status)) repair.status = fallbackStatus;
  if (typeof record.token !== 'string' || record.token === '') repair.token = newToken();
  if (Object.keys(repair).length > 0) {
    const repaired = await deps.store.repair(entry, repair);
    if (!repaired) return 'moved';
    record = repaired;
  }
  if (isTerminal(record.status)) return 'moved';
  const task: TaskRecord = {
    ...record,
    job: typeof record.job === 'string' && record.job ? record.job : 'unknown',
    attempt: positiveInt(record.attempt) ?? 1,
    maxAttempts: positiveInt(record.maxAttempts) ?? 1,
    retentionMs: positive(record.retentionMs) ?? WEEK_MS,
    backoff: record.backoff ?? DEFAULT_BACKOFF,
  };
  const message = `invalid task item: ${problems.join('; ')}`;
  try {
    await finishTask(deps, { task, outcome: { status: 'failed', error: { reason: 'invalid-task', message: message.slice(0, MAX_MESSAGE) } } }, now);
    return 'failed';
  } catch (err) {
    if (err instanceof ClaimConflictError) return 'moved';
    throw err;
  }
}
