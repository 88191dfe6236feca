import { ClaimConflictError } from '../../../core/errors';
import { Heartbeat, HeartbeatTimeoutError, type HeartbeatOptions } from '../../../runner/heartbeat';
import { ManualClock } from '../../support/manual-clock';

describe('Heartbeat', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  function make(overrides: Partial<HeartbeatOptions> = {}) {
    const beats: { at: number; progress?: unknown }[] = [];
    const events: string[] = [];
    const hb = new Heartbeat({
      intervalMs: 1000,
      progressIntervalMs: 300,
      leaseMs: 3000,
      beat: async (progress) => {
        beats.push({ at: Date.now(), ...(progress ? { progress } : {}) });
        return { cancelRequested: false };
      },
      onCancelRequested: () => events.push('cancel'),
      onLost: () => events.push('lost'),
      onError: () => events.push('error'),
      ...overrides,
    });
    return { hb, beats, events };
  }

  it('beats every interval', async () => {
    const { hb, beats } = make();
    hb.start();
    await jest.advanceTimersByTimeAsync(3500);
    expect(beats.map((b) => b.at)).toEqual([1000, 2000, 3000]);
    await hb.stop();
    await jest.advanceTimersByTimeAsync(5000);
    expect(beats).toHaveLength(3);
  });

  it('writes new progress early, at most once per progress interval, coalescing reports', async () => {
    const { hb, beats } = make();
    hb.start();
    await jest.advanceTimersByTimeAsync(100);
    hb.reportProgress(10, 'a');
    hb.reportProgress(20, 'b');
    await jest.advanceTimersByTimeAsync(250);
    expect(beats).toEqual([{ at: 300, progress: { percent: 20, message: 'b', at: 100 } }]);
    hb.reportProgress(30);
    await jest.advanceTimersByTimeAsync(300);
    expect(beats[1]).toEqual({ at: 600, progress: { percent: 30, at: 350 } });
    // Nothing new: back to the regular interval.
    await jest.advanceTimersByTimeAsync(1000);
    expect(beats.map((b) => b.at)).toEqual([300, 600, 1600]);
    await hb.stop();
  });

  it('reports a cancel request once', async () => {
    const { hb, events } = make({ beat: async () => ({ cancelRequested: true }) });
    hb.start();
    await jest.advanceTimersByTimeAsync(3000);
    expect(events).toEqual(['cancel']);
    await hb.stop();
  });

  it('stops for good when the task is lost, and retries early after other errors', async () => {
    let calls = 0;
    const { hb, events } = make({
      beat: async () => {
        calls++;
        if (calls === 1) throw new Error('throttled');
        throw new ClaimConflictError('t', 'running');
      },
    });
    hb.start();
    await jest.advanceTimersByTimeAsync(1000);
    expect(events).toEqual(['error']);
    // Retried after half an interval, not a whole one.
    await jest.advanceTimersByTimeAsync(500);
    expect(events).toEqual(['error', 'lost']);
    await jest.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(2);
    await hb.stop();
  });
});

describe('Heartbeat on a hung or slow store (self-fencing relies on it)', () => {
  interface Call {
    readonly sentAt: number;
    readonly signal: AbortSignal;
    resolve(): void;
    reject(err: unknown): void;
  }

  /** stop() waits for a beat in flight, at most its timeout: let the clock get there. */
  async function stopOn(clock: ManualClock, hb: Heartbeat) {
    const stopped = hb.stop();
    await clock.advance(500);
    await stopped;
  }

  function make(clock: ManualClock) {
    const calls: Call[] = [];
    const renewed: number[] = [];
    const events: string[] = [];
    const hb = new Heartbeat({
      intervalMs: 500,
      progressIntervalMs: 200,
      leaseMs: 1500,
      clock,
      beat: (_progress, { sentAt, signal }) =>
        new Promise((resolve, reject) => calls.push({ sentAt, signal, resolve: () => resolve({ cancelRequested: false }), reject })),
      onRenewed: (until) => renewed.push(until),
      onCancelRequested: () => events.push('cancel'),
      onLost: () => events.push('lost'),
      onError: (err) => events.push(err instanceof HeartbeatTimeoutError ? 'timeout' : 'error'),
    });
    return { hb, calls, renewed, events };
  }

  it('a beat that never answers is given up (its call aborted) and the next beat still goes', async () => {
    const clock = new ManualClock();
    const { hb, calls, events } = make(clock);
    hb.start();
    await clock.advance(500);
    expect(calls.map((c) => c.sentAt)).toEqual([500]);
    await clock.advance(500);
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(events).toEqual(['timeout']);
    // Retried early, and again, each on its own timeout: never stuck behind the first.
    await clock.advance(1000);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls.every((c, i) => i === 0 || c.sentAt > calls[i - 1]!.sentAt)).toBe(true);
    await stopOn(clock, hb);
  });

  it('proves the lease from when each beat was sent, even when its answer comes late', async () => {
    const clock = new ManualClock();
    const { hb, calls, renewed } = make(clock);
    hb.start();
    await clock.advance(500);
    await clock.advance(400);
    calls[0]!.resolve();
    await clock.advance(0);
    expect(renewed).toEqual([500 + 1500]);
    await stopOn(clock, hb);
  });

  it('does not prove past an earlier beat that has not settled: it could still land and shorten the lease', async () => {
    const clock = new ManualClock();
    const { hb, calls, renewed } = make(clock);
    hb.start();
    await clock.advance(1000); // beat 1 sent at 500, times out at 1000
    await clock.advance(500); // beat 2 sent at 1000 (early retry), ...
    const [first, second] = calls;
    second!.resolve();
    await clock.advance(0);
    expect(renewed).toEqual([first!.sentAt + 1500]);
    await stopOn(clock, hb);
  });

  it('a beat that loses after its timeout still says the task is lost', async () => {
    const clock = new ManualClock();
    const { hb, calls, events } = make(clock);
    hb.start();
    await clock.advance(1000);
    calls[0]!.reject(new ClaimConflictError('t', 'running'));
    await clock.advance(0);
    expect(events).toEqual(['timeout', 'lost']);
    const count = calls.length;
    await clock.advance(5000);
    expect(calls.length).toBe(count);
    await stopOn(clock, hb);
  });

  it('stop() does not wait for a hung beat longer than its timeout', async () => {
    const clock = new ManualClock();
    const { hb, calls } = make(clock);
    hb.start();
    await clock.advance(500);
    let stopped = false;
    void hb.stop().then(() => (stopped = true));
    await clock.advance(0);
    expect(calls[0]!.signal.aborted).toBe(true);
    await clock.advance(500);
    expect(stopped).toBe(true);
  });
});
