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

/** An earlier attempt of a task, as it ended (kept on the task when it was retried or rescheduled). */
export interface AttemptRecord {
  readonly attempt: number;
  readonly status: TaskStatus;
  readonly reason?: FailureReason;
  /** The error message, cut to ATTEMPT_MESSAGE_CHARS. */
  readonly message?: string;
  readonly exitCode?: number;
  readonly runnerId?: string;
  readonly startedAt?: number;
  readonly endedAt?: number;
}

/** An attempt's message is kept to this many characters (its full error and stack are in its log). */
export const ATTEMPT_MESSAGE_CHARS = 300;

/** What an ended attempt leaves on its task's history. */
export function attemptRecordOf(t: Pick<TaskRecord, 'attempt' | 'status' | 'error' | 'runnerId' | 'startedAt' | 'endedAt'>): AttemptRecord {
  return {
    attempt: t.attempt,
    status: t.status,
    ...(t.error ? { reason: t.error.reason, message: t.error.message.slice(0, ATTEMPT_MESSAGE_CHARS) } : {}),
    ...(t.error?.exitCode !== undefined ? { exitCode: t.error.exitCode } : {}),
    ...(t.runnerId !== undefined ? { runnerId: t.runnerId } : {}),
    ...(t.startedAt !== undefined ? { startedAt: t.startedAt } : {}),
    ...(t.endedAt !== undefined ? { endedAt: t.endedAt } : {}),
  };
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
  /** The error of the attempt before this one (set by a retry or reschedule). */
  readonly lastError?: TaskError;
  /** Every earlier attempt, oldest first, as it ended (this attempt is the task itself). */
  readonly attempts?: readonly AttemptRecord[];
  readonly result?: unknown;
  readonly resultS3Key?: string;
  readonly logS3Key?: string;
  /** Set when the log is a slice of a shared batch object (core/logs/log-location.ts): read it with a ranged GET. */
  readonly logRange?: { readonly offset: number; readonly length: number };
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
