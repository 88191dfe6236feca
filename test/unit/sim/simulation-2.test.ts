import { runSimulations } from '../../sim/runs';

/**
 * The protocol under faults, part 2 of 2 (the two parts run on separate jest workers): 5,000
 * simulated lifecycles with crashes, freezes, partitions, lost and duplicated messages, index
 * lag and clock skew, every invariant checked. A failure prints how to replay it.
 */
const SEED = 2_000_003;
const LIFECYCLES = 5000;

describe('the deterministic simulation, seed ' + SEED, () => {
  it(`keeps every invariant over ${LIFECYCLES} lifecycles with faults`, async () => {
    const report = await runSimulations({ seed: SEED, lifecycles: LIFECYCLES });
    const failures = report.failures.map(
      (f) => `world ${f.world} (seed ${f.worldSeed}):\n${f.violations.map((v) => `  [${v.invariant}] ${v.message}`).join('\n')}\n  replay: npm run sim -- --seed ${SEED} --lifecycles ${LIFECYCLES} --world ${f.world} --trace`,
    );
    expect(failures).toEqual([]);
    expect(report.lifecycles).toBeGreaterThanOrEqual(LIFECYCLES * 0.95);
    expect(report.faults).toBeGreaterThan(LIFECYCLES / 100);
  }, 600_000);
});
