import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runSimulations } from '../test/sim/runs';
import { round, writeSection } from './results';

/**
 * The deterministic simulation at volume: BENCH_SIM_LIFECYCLES (default 1,000,000) lifecycles with
 * faults, every invariant checked, in lifecycles per second of this machine (its worlds spread over
 * BENCH_SIM_WORKERS child processes, default one per core). No AWS involved.
 */
export async function benchSimulation(): Promise<void> {
  const lifecycles = Number(process.env.BENCH_SIM_LIFECYCLES ?? 1_000_000);
  const seed = Number(process.env.BENCH_SIM_SEED ?? 20261201);
  const workers = Number(process.env.BENCH_SIM_WORKERS ?? availableParallelism());
  console.log(`\n== simulation: ${lifecycles} lifecycles with faults, seed ${seed}, ${workers} worker process(es)`);
  let done = 0;
  // `npm run bench` builds first: the compiled workers run about a third faster than under tsx.
  const compiled = join(__dirname, '..', 'dist', 'test', 'sim', 'world-worker.js');
  const report = await runSimulations({
    seed,
    lifecycles,
    workers,
    ...(existsSync(compiled) && __filename.endsWith('.ts') ? { workerScript: compiled } : {}),
    progress: () => {
      done++;
      if (done % 20 === 0) console.log(`  ${done * 500} lifecycles simulated...`);
    },
  });
  const perSecond = report.lifecycles / (report.wallMs / 1000);
  console.log(`simulated ${report.lifecycles} lifecycles, ${report.violations} invariant violations, seed ${seed}`);
  console.log(`  ${round(perSecond, 1)} lifecycles/s (${report.worlds} worlds, ${report.faults} faults, ${report.events} events, ${Math.round(report.virtualMs / 1000)} s simulated in ${Math.round(report.wallMs / 1000)} s)`);
  writeSection('simulation', { seed, workers, lifecycles: report.lifecycles, violations: report.violations, lifecyclesPerSecond: round(perSecond, 1), faults: report.faults });
  if (report.violations > 0) process.exitCode = 1;
}
