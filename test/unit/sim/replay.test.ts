import { simulate } from '../../sim/simulation';

describe('a simulation seed', () => {
  it('replays exactly: the same seed gives the same trace, faults and outcome', async () => {
    const a = await simulate({ seed: 424242, lifecycles: 120 });
    const b = await simulate({ seed: 424242, lifecycles: 120 });
    expect(b.trace()).toEqual(a.trace());
    expect([b.lifecycles, b.faults, b.events, b.virtualMs]).toEqual([a.lifecycles, a.faults, a.events, a.virtualMs]);
    expect(a.faults).toBeGreaterThan(0);
  }, 120_000);

  it('differs from another seed', async () => {
    const a = await simulate({ seed: 1, lifecycles: 60 });
    const b = await simulate({ seed: 2, lifecycles: 60 });
    expect(b.trace()).not.toEqual(a.trace());
  }, 120_000);
});
