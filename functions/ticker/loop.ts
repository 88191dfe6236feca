/**
 * The inner loop shared by the Lambda handler and the local process: tick every `intervalMs`,
 * or earlier when the last tick saw a task falling due before then (never closer than
 * `minGapMs` to the previous start), until `shouldContinue` says no or the signal aborts.
 * Built from injected functions, so tests drive it with a fake clock.
 */
export interface LoopOptions {
  tick(now: number): Promise<{ readonly nextDueAt?: number }>;
  clock(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  readonly intervalMs: number;
  readonly minGapMs: number;
  /** Asked before each tick with the clock and the duration of the longest tick so far. */
  shouldContinue(now: number, longestTickMs: number): boolean;
  onError(err: unknown): void;
  readonly signal?: AbortSignal;
}

export interface LoopSummary {
  ticks: number;
  failedTicks: number;
}

export async function runLoop(o: LoopOptions): Promise<LoopSummary> {
  const summary: LoopSummary = { ticks: 0, failedTicks: 0 };
  let longest = 0;
  while (!o.signal?.aborted) {
    const start = o.clock();
    if (!o.shouldContinue(start, longest)) break;
    let next = start + o.intervalMs;
    try {
      const { nextDueAt } = await o.tick(start);
      if (nextDueAt !== undefined) next = Math.min(next, Math.max(nextDueAt, start + o.minGapMs));
    } catch (err) {
      summary.failedTicks++;
      o.onError(err);
    }
    summary.ticks++;
    const end = o.clock();
    longest = Math.max(longest, end - start);
    if (next > end) await o.sleep(next - end, o.signal);
  }
  return summary;
}

export { sleep } from '../../core/sleep';
