import { fenceTimes, provenLeaseEnd } from '../../../runner/lease';
import { LeaseFence } from '../../../runner/lease-fence';
import { ManualClock } from '../../support/manual-clock';

describe('what a heartbeat proves about the lease', () => {
  it('counts from when the beat was sent, not from when it answered', () => {
    expect(provenLeaseEnd(1000, 700, [], 1000)).toBe(1700);
  });

  it('never goes back', () => {
    expect(provenLeaseEnd(2500, 700, [], 1000)).toBe(2500);
  });

  it('stays at an earlier beat still in flight: it may land later and write its shorter lease', () => {
    expect(provenLeaseEnd(1000, 700, [300], 1000)).toBe(1300);
    expect(provenLeaseEnd(1000, 700, [900], 1000)).toBe(1700);
  });

  it('stops the script a margin before the lease ends, and the sandbox ends itself strictly between that and the lease end', () => {
    const { stopAt, sandboxDeadlineAt } = fenceTimes(10_000, 1000);
    expect(stopAt).toBe(9000);
    expect(sandboxDeadlineAt).toBeGreaterThan(stopAt);
    expect(sandboxDeadlineAt).toBeLessThan(10_000);
  });
});

describe('LeaseFence', () => {
  function fence(clock: ManualClock, leaseUntil = 1500) {
    const expired: number[] = [];
    const f = new LeaseFence({ leaseUntil, marginMs: 150, clock, onExpired: (until) => expired.push(until) });
    f.start();
    return { f, expired };
  }

  it('fires at lease end - margin when nothing renews the lease, without waiting for anything else', async () => {
    const clock = new ManualClock();
    const { expired } = fence(clock);
    await clock.advance(1349);
    expect(expired).toEqual([]);
    await clock.advance(1);
    expect(expired).toEqual([1500]);
  });

  it('moves with every renewal, and tells the sandbox its deadline as a duration', async () => {
    const clock = new ManualClock();
    const { f, expired } = fence(clock);
    await clock.advance(500);
    expect(f.extend(2000)).toBe(true);
    expect(f.sandboxDeadlineMs()).toBe(2000 - 75 - 500);
    await clock.advance(1000);
    expect(expired).toEqual([]);
    await clock.advance(350);
    expect(expired).toEqual([2000]);
    // Too late: once fenced, a renewal changes nothing.
    expect(f.extend(5000)).toBe(false);
  });

  it('does nothing once stopped', async () => {
    const clock = new ManualClock();
    const { f, expired } = fence(clock);
    f.stop();
    await clock.advance(10_000);
    expect(expired).toEqual([]);
  });
});
