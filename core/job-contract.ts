import type { Logger } from 'pino';

/** What a job module's default export receives besides its arguments. */
export interface JobContext {
  readonly taskId: string;
  readonly job: string;
  readonly attempt: number;
  readonly token: string;
  /** When the task was due. */
  readonly scheduledAt: Date;
  /** For recurring tasks: when the schedule last completed an occurrence. */
  readonly lastCompletedAt?: Date;
  /** Writes to this task's own log file, uploaded to S3 when the task ends. */
  readonly logger: Logger;
  /** Reports progress; persisted at most once per second. */
  progress(percent: number, message?: string): void;
  /** Aborted on cancel or timeout: stop work and return (or throw) soon after. */
  readonly signal: AbortSignal;
  /** A private temporary directory, removed when the task ends. */
  readonly tmpDir: string;
}

/**
 * A job module. Resolving completes the task (an optional JSON result); throwing fails it;
 * `process.exit(100)` cancels it. `nextRun` computes the next date of a `computed` schedule.
 */
export interface JobModule<Args = unknown, Result = unknown> {
  default(args: Args, ctx: JobContext): Promise<Result> | Result;
  nextRun?(previous: Date): Date | undefined;
}
