import { systemClock } from '../clock';
import { ValidationError } from '../errors';
import { isTerminal, type TaskError, type TaskRecord } from '../model/task';
import { PutConflict, type PutOptions } from '../store/task-store';
import { runFollowUp, willRetry, type LifecycleDeps } from './finish';

/**
 * How a task scheduled `startAfter` another is first written, given that predecessor as just
 * read (strongly consistent):
 * - 'wait': the predecessor has yet to end (or will retry). The task is written waiting, in one
 *   transaction with the predecessor's `hasDependents` mark, on condition the predecessor is
 *   still exactly as read, so its follow-up is sure to see the mark and settle the task.
 * - 'release': it completed; the task is written due.
 * - 'fail': it ended otherwise for good, or is gone; the task is written failed.
 * No crash in between can leave a waiting task that no predecessor will settle.
 */
export type DependentPlan =
  | { readonly kind: 'wait'; readonly predecessor: Pick<TaskRecord, 'id' | 'status' | 'token'> }
  | { readonly kind: 'release' }
  | { readonly kind: 'fail'; readonly error: TaskError };

export function planDependent(startAfter: string, predecessor: TaskRecord | undefined): DependentPlan {
  if (!predecessor) return { kind: 'fail', error: { reason: 'dependency-failed', message: `task ${startAfter} does not exist any more, so this task will not run` } };
  if (!isTerminal(predecessor.status) || willRetry(predecessor)) return { kind: 'wait', predecessor: { id: predecessor.id, status: predecessor.status, token: predecessor.token } };
  if (predecessor.status === 'completed') return { kind: 'release' };
  return { kind: 'fail', error: { reason: 'dependency-failed', message: `task ${startAfter} ended ${predecessor.status}, so this task will not run` } };
}

export interface CreateOptions {
  readonly idem?: { readonly key: string; readonly ttl: number };
  /** The predecessor as already read, to save the first read. */
  readonly predecessor?: TaskRecord;
  /** With an idempotency key: the task that holds it, once the key turns out taken. */
  readonly existing?: (key: string) => Promise<TaskRecord | undefined>;
}

/**
 * Writes a new task: with its IDEM item if it has an idempotency key, and placed by
 * `planDependent` if it waits on another task. Conflicts (the predecessor changed, transactions
 * collided) are retried from a fresh read. Returns the task as written, or the existing task
 * that holds its idempotency key.
 */
export async function createTask(deps: LifecycleDeps, task: TaskRecord, now: () => number, options: CreateOptions = {}): Promise<TaskRecord> {
  let predecessor = options.predecessor;
  for (let attempt = 0; attempt < 10; attempt++) {
    const { record, put } = await placement(deps, task, now(), predecessor);
    try {
      await deps.store.create(record, { ...put, ...(options.idem ? { idem: options.idem } : {}) });
      if (isTerminal(record.status)) await runFollowUp(deps, record, now());
      return record;
    } catch (err) {
      // A task id is written once; retrying cannot help (and with ULIDs it does not happen).
      if (!(err instanceof PutConflict) || err.parts.task) throw err;
      // The key is taken, or the winner's transaction is still in flight: read what it wrote.
      if (options.idem && !err.parts.predecessor) {
        const existing = await options.existing?.(options.idem.key);
        if (existing) return existing;
      }
    }
    predecessor = undefined;
    await (deps.clock ?? systemClock).sleep(20 * (attempt + 1));
  }
  throw new ValidationError(options.idem ? 'options.idempotencyKey' : 'options.startAfter', 'could not write the task after repeated conflicting writes; retry the call');
}

async function placement(deps: LifecycleDeps, task: TaskRecord, now: number, seen: TaskRecord | undefined): Promise<{ record: TaskRecord; put: PutOptions }> {
  if (task.startAfter === undefined) return { record: task, put: {} };
  const plan = planDependent(task.startAfter, seen ?? (await deps.store.get(task.startAfter)));
  switch (plan.kind) {
    case 'wait':
      return { record: task, put: { markPredecessor: plan.predecessor } };
    case 'release':
      return { record: task, put: { placement: { index: 'due' } } };
    case 'fail':
      // Written already ended, its follow-up (event, IDEM outcome) due at once and redone by the reaper if cut short.
      return { record: { ...task, status: 'failed', error: plan.error, endedAt: now }, put: { placement: { index: 'ended', checkAt: now + deps.graceMs } } };
  }
}
