import { runLoop, sleep } from '../../../functions/ticker/loop';

/** A fake clock the loop's sleep advances. */
function fakeTime(start = 0) {
  const clock = { now: start };
  return { clock, now: () => clock.now, sleep: async (ms: number) => void (clock.now += ms) };
}

describe('the tick loop', () => {
  it('ticks every interval until told to stop, with time as the argument', async () => {
    const t = fakeTime(10_000);
    const seen: number[] = [];
    const summary = await runLoop({
      tick: async (now) => {
        seen.push(now);
        t.clock.now += 120; // a tick takes 120 ms
        return {};
      },
      clock: t.now,
      sleep: t.sleep,
      intervalMs: 1000,
      minGapMs: 100,
      shouldContinue: (now) => now < 15_000,
      onError: () => undefined,
    });
    expect(seen).toEqual([10_000, 11_000, 12_000, 13_000, 14_000]);
    expect(summary).toEqual({ ticks: 5, failedTicks: 0 });
  });

  it('wakes at the due time of a task it saw coming, but never closer than the minimum gap', async () => {
    const t = fakeTime(0);
    const seen: number[] = [];
    const upcoming = [350, 420, undefined, undefined];
    await runLoop({
      tick: async (now) => {
        seen.push(now);
        const next = upcoming.shift();
        return next === undefined ? {} : { nextDueAt: next };
      },
      clock: t.now,
      sleep: t.sleep,
      intervalMs: 1000,
      minGapMs: 100,
      shouldContinue: () => seen.length < 4,
      onError: () => undefined,
    });
    expect(seen).toEqual([0, 350, 450, 1450]);
  });

  it('goes on after a failed tick and stops on abort', async () => {
    const t = fakeTime(0);
    const errors: unknown[] = [];
    const stop = new AbortController();
    let n = 0;
    const summary = await runLoop({
      tick: async () => {
        n++;
        if (n === 1) throw new Error('DynamoDB unavailable');
        if (n === 3) stop.abort();
        return {};
      },
      clock: t.now,
      sleep: t.sleep,
      intervalMs: 1000,
      minGapMs: 100,
      shouldContinue: () => true,
      onError: (err) => errors.push(err),
      signal: stop.signal,
    });
    expect(summary).toEqual({ ticks: 3, failedTicks: 1 });
    expect(errors).toHaveLength(1);
  });

  it('passes the longest tick so far to shouldContinue (the handler keeps that much in reserve)', async () => {
    const t = fakeTime(0);
    const durations = [50, 400, 100];
    const longest: number[] = [];
    await runLoop({
      tick: async () => {
        t.clock.now += durations.shift() ?? 0;
        return {};
      },
      clock: t.now,
      sleep: t.sleep,
      intervalMs: 1000,
      minGapMs: 100,
      shouldContinue: (_now, l) => (longest.push(l), longest.length <= 3),
      onError: () => undefined,
    });
    expect(longest).toEqual([0, 50, 400, 400]);
  });

  it('sleep resolves early when aborted', async () => {
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(), 20);
    await sleep(10_000, stop.signal);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
