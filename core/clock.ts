/**
 * Time as a port. Every process of jobfleet (ticker, runner, SDK) reads the time and waits through
 * a Clock, so the same code runs on the wall clock in production and on a virtual clock in the
 * simulation (test/sim), where a seed decides when every timer fires.
 */
export interface Timer {
  /** Cancels the timer; a no-op once it fired. */
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once after `ms` (0 or more). */
  setTimer(ms: number, fn: () => void): Timer;
  /** Resolves after `ms`, or early (never rejects) when `signal` aborts, so loops stop on time without an exception. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Sleep built from any clock's timers. */
export function sleepOn(clock: Pick<Clock, 'setTimer'>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimer(Math.max(0, ms), done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The wall clock, with Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};
