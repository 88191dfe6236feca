/**
 * The ticker as a plain Node process against the local AWS (or any endpoint in AWS_ENDPOINT_URL):
 * the same loop as the Lambda handler, forever, until SIGINT or SIGTERM.
 *
 *   AWS_ENDPOINT_URL=http://127.0.0.1:4566 JOBFLEET_QUEUES='{"small":"..."}' npx tsx functions/ticker/local.ts
 */
import catalogue from '../../jobs/catalogue';
import { createTickerFromEnv, runTicker } from './create';
import { syncDeclaredSchedules } from './sync-schedules';

async function main(): Promise<void> {
  // Embedded metrics only mean something in CloudWatch Logs; opt in with JOBFLEET_METRICS=emf.
  const p = createTickerFromEnv({ JOBFLEET_METRICS: 'off', ...process.env });
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      p.logger.info({ signal }, 'stopping after the current tick');
      stop.abort();
    });
  }
  p.logger.info(
    { endpoint: p.settings.runtime.endpoint ?? '(AWS)', table: p.settings.runtime.tableName, classes: p.settings.fleet.classes.map((c) => c.name), ...p.settings.options },
    'ticker started',
  );
  await syncDeclaredSchedules(p, catalogue);
  const summary = await runTicker(p, () => true, stop.signal);
  p.logger.info(summary, 'ticker stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
