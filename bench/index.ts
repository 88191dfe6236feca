/**
 * `npm run bench`: the performance figures of the ticker and the runner, measured against the
 * local AWS (started here if nothing answers, and stopped again afterwards).
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
  } finally {
    await local.release();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
