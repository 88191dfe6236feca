import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { isTerminal, type TaskRecord } from '../model/task';
import { LOG_UPLOAD_DEADLINE_MS, logLocationOf, missingLogVerdict, rangeHeader } from './log-location';

/** A task's log as a reader finds it. */
export type TaskLogRead =
  | { readonly state: 'available'; readonly text: string; readonly key: string }
  /** The task has not ended, or its runner is still within its upload deadline. */
  | { readonly state: 'pending'; readonly message: string }
  | { readonly state: 'lost'; readonly message: string }
  /** The task ended without a runner's log (cancelled while queued, expired, reaped). */
  | { readonly state: 'none'; readonly message: string };

export interface ReadLogOptions {
  /** @default Date.now() */
  readonly now?: number;
  /** @default LOG_UPLOAD_DEADLINE_MS */
  readonly deadlineMs?: number;
}

/**
 * Reads one task's log with one GET: a ranged GET of its slice of a batch object, or the whole
 * object of a large log. Used by the SDK, `jobfleet logs` and the demo.
 */
export async function readTaskLog(s3: S3Client, bucket: string, task: TaskRecord, options: ReadLogOptions = {}): Promise<TaskLogRead> {
  const now = options.now ?? Date.now();
  const location = logLocationOf(task);
  if (!location) {
    if (!isTerminal(task.status)) return { state: 'pending', message: `task ${task.id} is ${task.status}; its log is uploaded after it ends` };
    return { state: 'none', message: `task ${task.id} is ${task.status} and has no log: no runner ran this attempt to its end` };
  }
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: location.key, ...(location.range ? { Range: rangeHeader(location.range) } : {}) }));
    const text = (await res.Body?.transformToString('utf8')) ?? '';
    return { state: 'available', text, key: location.key };
  } catch (err) {
    if (!(err instanceof NoSuchKey) && (err as { name?: string }).name !== 'NoSuchKey') throw err;
    const verdict = missingLogVerdict(task, now, options.deadlineMs ?? LOG_UPLOAD_DEADLINE_MS);
    if (verdict.state === 'lost') return verdict;
    return { state: 'pending', message: `the log of task ${task.id} is not uploaded yet (its runner has until ${new Date(verdict.until).toISOString()})` };
  }
}
