import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { StatusEvent, StatusEventMode } from '../../core/lifecycle/events';
import { statusEvent } from '../../core/lifecycle/events';
import { willRetry } from '../../core/lifecycle/finish';
import { TASK_STATUSES, isTerminal, type TaskRecord, type TaskStatus } from '../../core/model/task';
import { ITEM_TYPE_ATTRIBUTE, TASK_ITEM_TYPE } from '../../core/store/table-definition';
import type { StreamRecord } from './stream-record';

type Image = NonNullable<NonNullable<StreamRecord['dynamodb']>['NewImage']>;

/** The attributes a status event is made of; the rest of the item (args, result: user data) is never parsed. */
const STATUS_FIELDS = ['id', 'job', 'status', 'attempt', 'maxAttempts', 'error', 'createdAt', 'dueAt', 'queuedAt', 'startedAt', 'endedAt'] as const;
export type TaskStatusView = Pick<TaskRecord, (typeof STATUS_FIELDS)[number]>;

/**
 * The status view of a task item's image, or undefined for any other item (schedules, IDEM
 * records, counters): selected by the item's `type` attribute, never by its key format.
 */
export function taskOf(image: Image | undefined): TaskStatusView | undefined {
  if (!image || image[ITEM_TYPE_ATTRIBUTE]?.S !== TASK_ITEM_TYPE) return undefined;
  const picked: Image = {};
  for (const field of STATUS_FIELDS) if (image[field]) picked[field] = image[field];
  const view = unmarshall(picked) as Partial<TaskStatusView>;
  if (typeof view.id !== 'string' || typeof view.job !== 'string' || typeof view.attempt !== 'number' || !TASK_STATUSES.includes(view.status as TaskStatus)) return undefined;
  return view as TaskStatusView;
}

/** When the task entered `status`, as its own write recorded it (so a redelivered record maps to the same event). */
export function changedAt(task: TaskStatusView, status: TaskStatus): number | undefined {
  switch (status) {
    case 'queued':
      return task.queuedAt;
    case 'running':
      return task.startedAt;
    case 'pending':
      return task.dueAt;
    default:
      return task.endedAt;
  }
}

/**
 * The status event one stream record stands for, or undefined. Pure: the record and the mode
 * decide; `now` is only the fallback time for an item that recorded none.
 *
 * - Only task items, only INSERT and MODIFY, only when the status changed (heartbeats, progress,
 *   the follow-up-done mark and releases of held tasks are not status changes).
 * - Both modes: every terminal status (completed, failed, cancelled), where a failed attempt that
 *   will be retried is `retrying`. A task created already ended (a `startAfter` whose
 *   predecessor had failed) comes as an INSERT: `from` is then `pending`.
 * - 'all' adds the in-flight changes: `pending -> queued` (claimed), `queued -> running`
 *   (started) and `queued -> pending` (put back by the reaper). A creation (INSERT pending) and a
 *   retry's `failed -> pending` (already announced as `retrying`) publish nothing.
 * - `from` is the old image's status: the real previous one (e.g. `queued -> cancelled`).
 */
export function statusEventOf(record: StreamRecord, mode: StatusEventMode, now: number): StatusEvent | undefined {
  if (mode === 'none' || (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY')) return undefined;
  const task = taskOf(record.dynamodb?.NewImage);
  if (!task) return undefined;
  const before = record.eventName === 'MODIFY' ? taskOf(record.dynamodb?.OldImage) : undefined;
  if (before?.status === task.status) return undefined;
  if (!before && !isTerminal(task.status)) return undefined;
  const from: TaskStatus = before?.status ?? 'pending';
  if (!isTerminal(task.status) && (mode !== 'all' || from === 'failed')) return undefined;
  const approx = record.dynamodb?.ApproximateCreationDateTime;
  const at = changedAt(task, task.status) ?? (approx !== undefined ? approx * 1000 : now);
  // willRetry reads only status, attempt, maxAttempts and error: all in the view.
  return statusEvent(task, from, willRetry(task as TaskRecord) ? 'retrying' : task.status, at);
}
