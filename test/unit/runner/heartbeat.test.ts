import { ClaimConflictError } from '../../../core/errors';
import { Heartbeat, type HeartbeatOptions } from '../../../runner/heartbeat';

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
