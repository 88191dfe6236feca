import type { Backoff } from './task';

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, factor: 2, maxMs: 300_000 };

/** Delay before attempt `nextAttempt` (2 = the first retry). Exponential, capped. */
export function backoffDelay(backoff: Backoff, nextAttempt: number): number {
  const exponent = Math.max(0, nextAttempt - 2);
  return Math.min(backoff.maxMs, Math.round(backoff.initialMs * backoff.factor ** exponent));
}
