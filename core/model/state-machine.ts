import { IllegalTransitionError } from '../errors';
import type { TaskStatus } from './task';

/**
 * The task lifecycle. Retries do not go back through here: a failed attempt ends in
 * `failed`, and its follow-up work writes the next attempt as `pending` again (failed -> pending).
 */
const ALLOWED: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  pending: ['queued', 'cancelled', 'failed'],
  queued: ['running', 'pending', 'cancelled', 'failed'],
  running: ['completed', 'failed', 'cancelled'],
  completed: [],
  failed: ['pending'],
  cancelled: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function assertTransition(from: TaskStatus, to: TaskStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** Statuses from which a task may move to `to`: the condition of that transition's write. */
export function sourcesOf(to: TaskStatus): TaskStatus[] {
  return (Object.keys(ALLOWED) as TaskStatus[]).filter((from) => ALLOWED[from].includes(to));
}

/** What a finished script's exit means, by the job contract. */
export type Outcome =
  | { readonly kind: 'completed'; readonly result?: unknown }
  | { readonly kind: 'failed'; readonly message: string; readonly stack?: string; readonly exitCode?: number; readonly reason: 'error' | 'exit-code' | 'timeout' | 'job-load-failed' }
  | { readonly kind: 'cancelled' };

export const CANCEL_EXIT_CODE = 100;

export function outcomeOfExit(code: number | null, signal: string | null): Outcome {
  if (code === 0) return { kind: 'completed' };
  if (code === CANCEL_EXIT_CODE) return { kind: 'cancelled' };
  if (signal) return { kind: 'failed', reason: 'exit-code', message: `the job process was killed by ${signal}` };
  return { kind: 'failed', reason: 'exit-code', exitCode: code ?? undefined, message: `the job process exited with code ${code}` };
}
