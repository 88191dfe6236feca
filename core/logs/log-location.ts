/**
 * Where a task's log lives, and what a reader can say about it. Pure: no I/O, time is an argument.
 *
 * A runner records the log's location with the terminal write, before the log is in S3 (an
 * outcome never waits on its log): either a byte range of a shared batch object (the logs of
 * tasks that ended close together, one PUT per flush) or an object of its own (a large log).
 * A runner uploads every log, or gives up on it, within LOG_UPLOAD_DEADLINE_MS of the task's end;
 * an object still missing after that was never written (its runner died before the flush), so the
 * log is lost.
 */

/** The byte range of one task's log inside a batch object. */
export interface LogRange {
  readonly offset: number;
  readonly length: number;
}

export interface LogLocation {
  readonly key: string;
  /** Absent: the whole object is this task's log. */
  readonly range?: LogRange;
}

/** The bound a runner's flush delay and upload retries must stay within (validated by the runner's config). */
export const LOG_UPLOAD_DEADLINE_MS = 60_000;

/** A task's own log object: `logs/<job>/<taskId>/<attempt>.log`. */
export const ownLogKey = (job: string, taskId: string, attempt: number): string => `logs/${job}/${taskId}/${attempt}.log`;

/** A batch object: `logs/batches/<batchId>.log` (the id is unique and time-ordered: a ULID). */
export const batchLogKey = (batchId: string): string => `logs/batches/${batchId}.log`;

/** The HTTP Range header of a range (inclusive end). */
export function rangeHeader(range: LogRange): string {
  if (!Number.isInteger(range.offset) || range.offset < 0 || !Number.isInteger(range.length) || range.length < 1) {
    throw new RangeError(`a log range needs a non-negative integer offset and a positive length, got ${JSON.stringify(range)}`);
  }
  return `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

/** The location recorded on a task, if any. */
export function logLocationOf(task: { readonly logS3Key?: string; readonly logRange?: LogRange }): LogLocation | undefined {
  if (!task.logS3Key) return undefined;
  return task.logRange ? { key: task.logS3Key, range: task.logRange } : { key: task.logS3Key };
}

export type MissingLogVerdict = { readonly state: 'pending'; readonly until: number } | { readonly state: 'lost'; readonly message: string };

/**
 * What a missing object means: still on its way (the runner's flush is at most the deadline
 * away), or lost for good.
 */
export function missingLogVerdict(task: { readonly endedAt?: number; readonly runnerId?: string; readonly logS3Key?: string }, now: number, deadlineMs = LOG_UPLOAD_DEADLINE_MS): MissingLogVerdict {
  const until = (task.endedAt ?? now) + deadlineMs;
  if (task.endedAt !== undefined && now <= until) return { state: 'pending', until };
  return {
    state: 'lost',
    message: `the log was lost: ${task.runnerId ? `runner ${task.runnerId}` : 'its runner'} did not upload ${task.logS3Key ?? 'it'} within ${Math.round(deadlineMs / 1000)} s of the task's end (it stopped before its flush, or S3 refused the upload)`,
  };
}
