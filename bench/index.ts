/**
 * `npm run bench [ticker|runner|cost|pipeline|simulation]`: the performance figures of the ticker and the
 * runner, the cost of a task end to end (compute included), and the whole pipeline at volume
 * against its floor, measured against the local AWS (started here if nothing answers, and stopped
 * again afterwards; the simulation alone needs none). Every section also writes its figures to
 * bench/results.json.
 */
import { ensureLocalAws } from '../scripts/ensure-local-aws';

async function main(): Promise<void> {
  const only = process.argv[2];
  const local = only === 'simulation' ? { release: async () => undefined } : await ensureLocalAws();
  try {
    if (!only || only === 'ticker') {
      const { benchTicker } = await import('./ticker');
      await benchTicker();
    }
    let runner: { cpuSecondsPerTask: number; rssGbSecondsPerTask: number } | undefined;
    if (!only || only === 'runner') {
      const { benchRunner } = await import('./runner');
      runner = await benchRunner();
    }
    if (!only || only === 'cost') {
      const { benchCost } = await import('./cost');
      // Compute priced from this run's runner figures, or else the last ones in bench/results.json.
      await benchCost(runner);
    }
    if (!only || only === 'pipeline') {
      const { benchPipeline } = await import('./pipeline');
      await benchPipeline();
    }
    if (!only || only === 'simulation') {
      const { benchSimulation } = await import('./simulation');
      await benchSimulation();
    }
    console.log('\nfigures written to bench/results.json');
  } finally {
    await local.release();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
