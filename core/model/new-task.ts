import { newTaskId, newToken } from './keys';
import type { JobSnapshot, TaskRecord } from './task';

export interface NewTaskInput {
  readonly args: unknown;
  readonly dueAt: number;
  readonly priority?: number;
  readonly idempotencyKey?: string;
  readonly concurrencyKey?: string;
  readonly concurrencyLimit?: number;
  readonly startAfter?: string;
  readonly expiresAt?: number;
  readonly maxAttempts?: number;
  readonly held?: boolean;
  readonly id?: string;
}

export const DEFAULT_PRIORITY = 100;

/** A fresh pending task for a job. Pure: the caller passes the clock's `now`. */
export function newTask(job: JobSnapshot, input: NewTaskInput, now: number): TaskRecord {
  const optional = {
    idempotencyKey: input.idempotencyKey,
    concurrencyKey: input.concurrencyKey,
    concurrencyLimit: input.concurrencyLimit,
    startAfter: input.startAfter,
    expiresAt: input.expiresAt,
    held: input.held || undefined,
  };
  return {
    ...job,
    ...(input.maxAttempts !== undefined ? { maxAttempts: input.maxAttempts } : {}),
    id: input.id ?? newTaskId(job.job, now),
    args: input.args ?? null,
    status: 'pending',
    dueAt: input.dueAt,
    priority: input.priority ?? DEFAULT_PRIORITY,
    attempt: 1,
    token: newToken(),
    createdAt: now,
    ...(Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) as Partial<TaskRecord>),
  };
}
