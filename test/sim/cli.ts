import { availableParallelism } from 'node:os';
import { runSimulations } from './runs';

/**
 * npm run sim -- --seed S --lifecycles N [--world W] [--trace] [--no-faults] [--workers K]
 * Runs N lifecycles as worlds of up to 500 each, seeded from S; a failing world prints its seed,
 * its violations and the end of its trace, and `--world W --trace` replays it with the whole trace.
 * Worlds run in K child processes (default: one per core); a world's result does not depend on K.
 */
function arg(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
  const lifecycles = Number(arg('lifecycles') ?? 10_000);
  const world = arg('world') === undefined ? undefined : Number(arg('world'));
  const workers = Number(arg('workers') ?? availableParallelism());
  if (!Number.isInteger(seed) || !Number.isInteger(lifecycles) || lifecycles < 1 || !Number.isInteger(workers) || workers < 1) {
    process.stderr.write('usage: npm run sim -- --seed <integer> --lifecycles <positive integer> [--world W] [--trace] [--no-faults] [--workers <positive integer>]\n');
    process.exit(2);
  }
  const report = await runSimulations({
    seed,
    lifecycles,
    ...(world !== undefined ? { only: world } : {}),
    faults: !process.argv.includes('--no-faults'),
    workers,
    echo: process.argv.includes('--trace'),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  for (const f of report.failures) {
    process.stdout.write(`\nworld ${f.world} (seed ${f.worldSeed}): ${f.violations.length} violation(s)\n`);
    for (const v of f.violations.slice(0, 20)) process.stdout.write(`  [${v.invariant}] ${v.message}\n`);
    process.stdout.write(`  replay: npm run sim -- --seed ${seed} --lifecycles ${lifecycles} --world ${f.world} --trace\n  last trace lines:\n${f.trace.split('\n').slice(-40).map((l) => `    ${l}`).join('\n')}\n`);
  }
  process.stdout.write(`simulated ${report.lifecycles} lifecycles, ${report.violations} invariant violations, seed ${seed}\n`);
  process.stderr.write(`(${report.worlds} worlds, ${report.faults} faults, ${report.events} events, ${(report.virtualMs / 1000).toFixed(0)} s simulated in ${(report.wallMs / 1000).toFixed(1)} s: ${Math.round(report.lifecycles / (report.wallMs / 1000))} lifecycles/s)\n`);
  process.exit(report.violations > 0 ? 1 : 0);
}

void main();
