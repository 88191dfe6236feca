/**
 * `npm run bench [ticker|runner|cost]`: the performance figures of the ticker and the runner,
 * and the cost of a task end to end, measured against the local AWS (started here if nothing
 * answers, and stopped again afterwards).
 */
import { ensureLocalAws } from '../scripts/ensure-local-aws';

async function main(): Promise<void> {
  const only = process.argv[2];
  const local = await ensureLocalAws();
  try {
    if (!only || only === 'ticker') {
      const { benchTicker } = await import('./ticker');
      await benchTicker();
    }
    if (!only || only === 'runner') {
      const { benchRunner } = await import('./runner');
      await benchRunner();
    }
    if (!only || only === 'cost') {
      const { benchCost } = await import('./cost');
      await benchCost();
    }
  } finally {
    await local.release();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
