import { Pool, forEachLimited } from '../../../functions/ticker/pool';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('bounded parallelism', () => {
  it('never runs more than the limit at once, and drains', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimited(
      Array.from({ length: 20 }, (_, i) => i),
      4,
      async (i) => {
        running++;
        peak = Math.max(peak, running);
        for (let k = 0; k < (i % 3) + 1; k++) await tick();
        running--;
        done.push(i);
      },
      () => undefined,
    );
    expect(peak).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('hands a failing job to onError and goes on', async () => {
    const errors: unknown[] = [];
    const pool = new Pool(2, (err) => errors.push(err));
    let ran = 0;
    for (const fail of [false, true, false]) {
      await pool.run(async () => {
        await tick();
        if (fail) throw new Error('throttled');
        ran++;
      });
    }
    await pool.drain();
    expect(ran).toBe(2);
    expect(errors).toHaveLength(1);
  });
});
