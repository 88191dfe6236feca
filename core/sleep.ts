import { systemClock } from './clock';

/** The wall clock's sleep: resolves early (not rejects) when the signal aborts, so loops stop on time without an exception. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return systemClock.sleep(ms, signal);
}
