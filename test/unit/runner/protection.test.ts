import pino from 'pino';
import { ecsTaskIdentity, ScaleInProtection, type ProtectionPort } from '../../../runner/protection';

const silent = pino({ level: 'silent' });

describe('ScaleInProtection', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  const port = () => {
    const calls: boolean[] = [];
    const p: ProtectionPort = { set: async (enabled) => void calls.push(enabled) };
    return { p, calls };
  };

  it('protects when busy and releases after the idle delay, without flapping between tasks', async () => {
    const { p, calls } = port();
    const protection = new ScaleInProtection(p, silent, { releaseDelayMs: 1000 });
    protection.setBusy(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([true]);
    protection.setBusy(false);
    await jest.advanceTimersByTimeAsync(500);
    protection.setBusy(true);
    protection.setBusy(false);
    await jest.advanceTimersByTimeAsync(999);
    expect(calls).toEqual([true]);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([true, false]);
    expect(protection.isProtected).toBe(false);
  });

  it('renews protection halfway through its expiry while busy', async () => {
    const { p, calls } = port();
    const protection = new ScaleInProtection(p, silent, { releaseDelayMs: 1000, expiresInMinutes: 10 });
    protection.setBusy(true);
    await jest.advanceTimersByTimeAsync(5 * 60_000);
    expect(calls).toEqual([true, true]);
    await protection.release();
    expect(calls).toEqual([true, true, false]);
  });

  it('retries a failed call at the next change', async () => {
    let fail = true;
    const calls: boolean[] = [];
    const protection = new ScaleInProtection({ set: async (e) => { calls.push(e); if (fail) throw new Error('throttled'); } }, silent, { releaseDelayMs: 0 });
    protection.setBusy(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(protection.isProtected).toBe(false);
    fail = false;
    protection.setBusy(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(protection.isProtected).toBe(true);
    expect(calls).toEqual([true, true]);
  });

  it('does nothing off ECS', async () => {
    const protection = new ScaleInProtection(undefined, silent, { releaseDelayMs: 0 });
    protection.setBusy(true);
    await protection.release();
    expect(protection.isProtected).toBe(false);
  });
});

describe('ecsTaskIdentity', () => {
  it('reads the task ARN and cluster from the metadata endpoint', async () => {
    const fetchFn = jest.fn(async () => new Response(JSON.stringify({ Cluster: 'arn:cluster', TaskARN: 'arn:task' }))) as unknown as typeof fetch;
    await expect(ecsTaskIdentity('http://169.254.170.2/v4/abc/', fetchFn)).resolves.toEqual({ cluster: 'arn:cluster', taskArn: 'arn:task' });
    expect(fetchFn).toHaveBeenCalledWith('http://169.254.170.2/v4/abc/task');
  });
});
