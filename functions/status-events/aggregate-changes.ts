import type { CountedChange } from '../../core/ops/aggregates';
import { willRetry } from '../../core/lifecycle/finish';
import type { TaskRecord } from '../../core/model/task';
import { changedAt, taskOf } from './mapping';
import type { StreamRecord } from './stream-record';

/**
 * The counted changes one stream record stands for (see core/ops/aggregates.ts): a creation
 * (INSERT), a start (with its lateness), an ending by outcome, or a failed attempt that will be
 * retried. Pure, and independent of the status-event mode: the counts exist whatever is published.
 */
export function countedChangesOf(record: StreamRecord, now: number): CountedChange[] {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return [];
  const task = taskOf(record.dynamodb?.NewImage);
  if (!task) return [];
  const before = record.eventName === 'MODIFY' ? taskOf(record.dynamodb?.OldImage) : undefined;
  if (before && before.status === task.status) return [];
  const approx = record.dynamodb?.ApproximateCreationDateTime;
  const fallback = approx !== undefined ? approx * 1000 : now;
  const out: CountedChange[] = [];
  if (record.eventName === 'INSERT') out.push({ job: task.job, counter: 'created', at: task.createdAt ?? fallback });
  const at = changedAt(task, task.status) ?? fallback;
  switch (task.status) {
    case 'running':
      out.push({ job: task.job, counter: 'started', at, ...(task.startedAt !== undefined && task.dueAt !== undefined ? { latenessMs: task.startedAt - task.dueAt } : {}) });
      break;
    case 'completed':
    case 'cancelled':
      out.push({ job: task.job, counter: task.status, at });
      break;
    case 'failed':
      // willRetry reads only status, attempt, maxAttempts and error: all in the view.
      out.push({ job: task.job, counter: willRetry(task as TaskRecord) ? 'retried' : 'failed', at, ...(task.error?.reason ? { reason: task.error.reason } : {}) });
      break;
    default:
      break;
  }
  return out;
}
