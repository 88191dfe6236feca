import { IllegalTransitionError } from '../errors';
import { allowedMoves } from '../store/transitions';
import type { TaskStatus } from './task';

/**
 * The task lifecycle, derived from the named transitions (store/transitions.ts), so the table of
 * allowed moves and the guards of the writes cannot disagree. Retries do not go back through
 * `running`: a failed attempt ends in `failed`, and its follow-up writes the next attempt as
 * `pending` again (failed -> pending).
 */
const ALLOWED = allowedMoves();

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return ALLOWED.get(from)?.has(to) ?? false;
}

export function assertTransition(from: TaskStatus, to: TaskStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

/** Statuses from which a task may move to `to`. */
export function sourcesOf(to: TaskStatus): TaskStatus[] {
  return [...ALLOWED.entries()].filter(([, targets]) => targets.has(to)).map(([from]) => from);
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
