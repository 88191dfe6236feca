import { runSimulations } from './runs';

/**
 * The protocol under faults, as a jest specification: `lifecycles` simulated lifecycles with
 * crashes, freezes, partitions, lost and duplicated messages, index lag and clock skew, every
 * invariant checked. A failure prints how to replay it. `npm test` runs it in parts, one file
 * each, so the parts run on separate jest workers.
 */
export function specifySimulation(seed: number, lifecycles: number): void {
  describe(`the deterministic simulation, seed ${seed}`, () => {
    it(`keeps every invariant over ${lifecycles} lifecycles with faults`, async () => {
      const report = await runSimulations({ seed, lifecycles });
      const failures = report.failures.map(
        (f) => `world ${f.world} (seed ${f.worldSeed}):\n${f.violations.map((v) => `  [${v.invariant}] ${v.message}`).join('\n')}\n  replay: npm run sim -- --seed ${seed} --lifecycles ${lifecycles} --world ${f.world} --trace`,
      );
      expect(failures).toEqual([]);
      expect(report.lifecycles).toBeGreaterThanOrEqual(lifecycles * 0.95);
      expect(report.faults).toBeGreaterThan(lifecycles / 100);
    }, 600_000);
  });
}
