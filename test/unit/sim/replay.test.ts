import { join } from 'node:path';
import { runSimulations } from '../../sim/runs';
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

  it('gives each world the same result whether it runs here or in a worker process', async () => {
    const here = await runSimulations({ seed: 77, lifecycles: 600, workers: 1 });
    // jest compiles TypeScript itself; the child process gets tsx's loader instead.
    const saved = process.execArgv;
    process.execArgv = ['--import', require.resolve('tsx')];
    try {
      const spread = await runSimulations({ seed: 77, lifecycles: 600, workers: 2, workerScript: join(__dirname, '..', '..', 'sim', 'world-worker.ts') });
      expect([spread.worlds, spread.lifecycles, spread.faults, spread.events, spread.virtualMs]).toEqual([here.worlds, here.lifecycles, here.faults, here.events, here.virtualMs]);
    } finally {
      process.execArgv = saved;
    }
  }, 300_000);
});
