import type { Logger } from 'pino';


/**
 * The job contract, as a job module sees it. A job module's default export is a `JobHandler`;
 * it may also export `nextRun` for schedules whose next date the job itself computes.
 * Import these as types only (`import type`), or `defineJob` from the package: job modules need nothing else from jobfleet.
 */
export interface JobContext {
  readonly taskId: string;
  readonly job: string;
  /** 1 for the first run; retries count up. */
  readonly attempt: number;
  /** The task's fencing token for this run. */
  readonly token: string;
  /** When the task was due (for a retry: when this attempt was due). */
  readonly scheduledAt: Date;
  /** For a schedule's occurrence: when the schedule last completed, if ever. */
  readonly lastCompletedAt?: Date;
  /** pino, writing JSON lines to this task's own log file (uploaded to S3 when the task ends). */
  readonly logger: Logger;
  /** Reports progress (0-100). Persisted with the next heartbeat, at most about once a second. */
  progress(percent: number, message?: string): void;
  /** Aborted when the task is cancelled or runs past its max execution time. The process is killed after a grace period. */
  readonly signal: AbortSignal;
  /** A private temporary directory, removed after the task ends. */
  readonly tmpDir: string;
}

/** Resolve to complete (with an optional JSON result), throw to fail, `process.exit(100)` to cancel. */
export type JobHandler<Args = unknown, Result = unknown> = (args: Args, ctx: JobContext) => Promise<Result> | Result;

/** For computed schedules: the next date after an occurrence due at `previous`, or undefined to stop. */
export type NextRun = (previous: Date) => Date | undefined;

/** Identity helper that types a job's handler: `export default defineJob<{ n: number }>(async (args, ctx) => ...)`. */
export function defineJob<Args = unknown, Result = unknown>(handler: JobHandler<Args, Result>): JobHandler<Args, Result> {
  return handler;
}

/** A job module: its default export, and for computed schedules its `nextRun`. */
export interface JobModule<Args = unknown, Result = unknown> {
  readonly default: JobHandler<Args, Result>;
  readonly nextRun?: NextRun;
}
