import { Rng } from './rng';
import { simulate } from './simulation';
import type { Violation } from './invariants';

export const LIFECYCLES_PER_WORLD = 500;

export interface RunsOptions {
  readonly seed: number;
  readonly lifecycles: number;
  /** Only this world (a replay). */
  readonly only?: number;
  readonly faults?: boolean;
  readonly echo?: boolean;
  readonly progress?: (line: string) => void;
}

export interface RunsReport {
  readonly lifecycles: number;
  readonly violations: number;
  readonly worlds: number;
  readonly faults: number;
  readonly events: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly failures: { world: number; worldSeed: number; violations: readonly Violation[]; trace: string }[];
}

/** Splits a run into worlds of a few hundred lifecycles, each with its own seed drawn from `seed`. */
export async function runSimulations(options: RunsOptions): Promise<RunsReport> {
  const worlds = Math.ceil(options.lifecycles / LIFECYCLES_PER_WORLD);
  const seeds = new Rng(options.seed);
  const started = Date.now();
  const report = { lifecycles: 0, violations: 0, worlds: 0, faults: 0, events: 0, virtualMs: 0, wallMs: 0, failures: [] as RunsReport['failures'] };
  for (let w = 0; w < worlds; w++) {
    const worldSeed = Math.floor(seeds.next() * 2 ** 31);
    if (options.only !== undefined && options.only !== w) continue;
    const size = Math.min(LIFECYCLES_PER_WORLD, options.lifecycles - w * LIFECYCLES_PER_WORLD);
    const result = await simulate({ seed: worldSeed, lifecycles: size, ...(options.faults !== undefined ? { faults: options.faults } : {}), ...(options.echo ? { echo: true } : {}) });
    report.worlds++;
    report.lifecycles += result.lifecycles;
    report.violations += result.violations.length;
    report.faults += result.faults;
    report.events += result.events;
    report.virtualMs += result.virtualMs;
    if (result.violations.length > 0) report.failures.push({ world: w, worldSeed, violations: result.violations, trace: result.trace() });
    options.progress?.(`world ${w}: ${result.lifecycles} lifecycles, ${result.violations.length} violations, ${result.faults} faults, ${(result.virtualMs / 1000).toFixed(0)} s simulated`);
  }
  report.wallMs = Date.now() - started;
  return report;
}
