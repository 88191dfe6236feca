/**
 * The runner's entry: `node dist/runner/main.js` (built) or `tsx runner/main.ts` (from source).
 * Configured from the environment (see docs/runner.md). SIGTERM/SIGINT drain it and exit 0.
 */
import { ConfigError } from '../core/errors';
import { createRunnerApp } from './app';

async function main(): Promise<void> {
  const { runner, logger } = await createRunnerApp({ env: process.env });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (signal === 'SIGINT') {
        logger.warn('second SIGINT: exiting without waiting; running tasks are recovered by the reaper');
        process.exit(1);
      }
      return;
    }
    stopping = true;
    logger.info({ signal }, 'signal received: draining');
    void runner.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception in the runner; exiting (its tasks are recovered by the reaper)');
    process.exit(1);
  });
  runner.start();
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`jobfleet runner: cannot start: ${message}\n`);
  process.exit(1);
});
