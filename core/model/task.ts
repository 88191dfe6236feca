/** The task record and its companions, as stored. Times are epoch milliseconds. */

export const TASK_STATUSES = ['pending', 'queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];
export const isTerminal = (s: TaskStatus): boolean => TERMINAL_STATUSES.includes(s);

export type FailureReason =
  | 'error'
  | 'exit-code'
  | 'timeout'
  | 'runner-lost'
  | 'expired'
  | 'cancelled'
  | 'dependency-failed'
  | 'invalid-task'
  | 'job-load-failed';

export interface TaskError {
  readonly message: string;
  readonly reason: FailureReason;
  readonly stack?: string;
  readonly exitCode?: number;
}

export interface Backoff {
  /** Delay before the second attempt. */
  readonly initialMs: number;
  /** Each further attempt waits this many times longer. */
  readonly factor: number;
  readonly maxMs: number;
}

/** Job metadata copied onto each task when scheduled, so queued work never depends on a later catalogue change. */
export interface JobSnapshot {
  readonly job: string;
  readonly slots: number;
  readonly slotClass: string;
  readonly maxExecutionMs: number;
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly retentionMs: number;
  /** 0 = unlimited. */
  readonly maxConcurrency: number;
}

export interface TaskRecord extends JobSnapshot {
  readonly id: string;
  readonly args: unknown;
  readonly status: TaskStatus;
  readonly dueAt: number;
  readonly priority: number;
  /** 1 for the first run; a retry is a new attempt of the same task. */
  readonly attempt: number;
  /** Fencing token: every transition is conditional on it, and claims replace it. */
  readonly token: string;
  readonly createdAt: number;
  readonly held?: boolean;
  readonly idempotencyKey?: string;
  readonly concurrencyKey?: string;
  readonly concurrencyLimit?: number;
  readonly startAfter?: string;
  readonly scheduleId?: string;
  /** For a schedule's occurrence: the due time it was created for (retries move dueAt, not this). */
  readonly occurrenceAt?: number;
  readonly lastCompletedAt?: number;
  readonly expiresAt?: number;
  readonly progress?: { readonly percent: number; readonly message?: string; readonly at: number };
  readonly runnerId?: string;
  readonly leaseUntil?: number;
  readonly cancelRequested?: boolean;
  readonly queuedAt?: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly error?: TaskError;
  readonly result?: unknown;
  readonly resultS3Key?: string;
  readonly logS3Key?: string;
  /** A computed schedule's next date as its job module gave it (null: it gave none), stored with the terminal write. */
  readonly nextRunAt?: number | null;
  /** True once the follow-up work after the terminal write is done. */
  readonly effectsDone?: boolean;
  /**
   * Set when another task registers `startAfter` this one, so a task nobody waits for skips
   * the dependents query when it ends. Registration and the terminal write serialize on this item.
   */
  readonly hasDependents?: boolean;
  /** The ids of the tasks registered `startAfter` this one (with hasDependents, in the same write). */
  readonly dependents?: ReadonlySet<string>;
}

export type OverlapPolicy = 'skip' | 'allow';
export type MissedRunPolicy = 'once' | 'skip' | 'all';

export type ScheduleSpec =
  | { readonly kind: 'cron'; readonly expression: string; readonly timezone: string }
  | { readonly kind: 'interval'; readonly everyMs: number }
  /** The job module's own `nextRun(previous)` decides each next date. */
  | { readonly kind: 'computed' };

export interface ScheduleRecord {
  readonly id: string;
  readonly job: string;
  readonly args: unknown;
  readonly spec: ScheduleSpec;
  readonly missedRuns: MissedRunPolicy;
  /** Cap on occurrences created at once under the 'all' policy. */
  readonly maxCatchUp: number;
  readonly priority: number;
  readonly active: boolean;
  /** Set when the schedule was stopped for good (it stays listed until deleted). */
  readonly stopped?: boolean;
  /** Due time of the occurrence that exists now (or is about to be created). */
  readonly nextDueAt: number;
  readonly lastCompletedAt?: number;
  readonly createdAt: number;
  /** Job metadata copied onto each occurrence. */
  readonly snapshot: JobSnapshot;
  /** Why a schedule ended without being stopped (its job module returned no next date). */
  readonly endedBy?: string;
  /** Declared in the catalogue (reconciled by sync) rather than created through the SDK. */
  readonly declared?: boolean;
}
