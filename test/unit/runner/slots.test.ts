import { receiveBatchSize, SlotPool } from '../../../runner/slots';

describe('SlotPool', () => {
  it('never hands out more than its capacity', () => {
    const pool = new SlotPool(1024);
    expect(pool.tryAcquire(512)).toBe(true);
    expect(pool.tryAcquire(512)).toBe(true);
    expect(pool.tryAcquire(512)).toBe(false);
    expect(pool.used).toBe(1024);
    pool.release(512);
    expect(pool.free).toBe(512);
    expect(pool.peak).toBe(1024);
  });

  it('rejects releasing more than is used, and bad sizes', () => {
    const pool = new SlotPool(4);
    pool.tryAcquire(1);
    expect(() => pool.release(2)).toThrow(/only 1 are in use/);
    expect(() => pool.tryAcquire(-1)).toThrow(RangeError);
    expect(() => pool.tryAcquire(1.5)).toThrow(RangeError);
    expect(() => new SlotPool(0)).toThrow(RangeError);
  });

  it('serves waiters first come first served, ahead of tryAcquire', async () => {
    const pool = new SlotPool(4);
    pool.tryAcquire(4);
    const order: string[] = [];
    const a = pool.acquire(3).then(() => order.push('a'));
    const b = pool.acquire(1).then(() => order.push('b'));
    pool.release(1);
    // b would fit, but a is queued ahead of it and the poll loop must not jump the queue either.
    expect(pool.tryAcquire(1)).toBe(false);
    await Promise.resolve();
    expect(order).toEqual([]);
    pool.release(3);
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    expect(pool.used).toBe(4);
  });

  it('drops a waiter whose signal aborts, letting the ones behind it through', async () => {
    const pool = new SlotPool(4);
    pool.tryAcquire(3);
    const ctl = new AbortController();
    const big = pool.acquire(4, ctl.signal);
    const small = pool.acquire(1);
    ctl.abort();
    expect(await big).toBe(false);
    expect(await small).toBe(true);
    expect(pool.used).toBe(4);
  });

  it('refuses a request larger than the capacity', async () => {
    await expect(new SlotPool(4).acquire(5)).rejects.toThrow(/can never fit/);
  });

  it('wakes whenReleased at the next release or abort', async () => {
    const pool = new SlotPool(2);
    pool.tryAcquire(2);
    let woke = false;
    const waiting = pool.whenReleased().then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    pool.release(1);
    await waiting;
    const ctl = new AbortController();
    const aborted = pool.whenReleased(ctl.signal);
    ctl.abort();
    await expect(aborted).resolves.toBeUndefined();
  });
});

describe('receiveBatchSize', () => {
  it('asks only for what the free slots hold at the largest job size, at most 10', () => {
    expect(receiveBatchSize(1024, 512)).toBe(2);
    expect(receiveBatchSize(1023, 512)).toBe(1);
    expect(receiveBatchSize(511, 512)).toBe(0);
    expect(receiveBatchSize(4, 3)).toBe(1);
    expect(receiveBatchSize(2, 3)).toBe(0);
    expect(receiveBatchSize(8, 1)).toBe(8);
    expect(receiveBatchSize(100, 1)).toBe(10);
    expect(receiveBatchSize(0, 1)).toBe(0);
    expect(() => receiveBatchSize(4, 0)).toThrow(RangeError);
  });
});
