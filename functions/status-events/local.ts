/**
 * The status-event consumer as a plain Node process against the local AWS (or any endpoint in
 * AWS_ENDPOINT_URL): it polls the table's stream as Lambda's event source mapping would and calls
 * the same code as the Lambda handler, until SIGINT or SIGTERM.
 *
 *   AWS_ENDPOINT_URL=http://127.0.0.1:4566 JOBFLEET_TABLE=... JOBFLEET_EVENT_BUS=... npx tsx functions/status-events/local.ts
 */
import { runLocalStatusEvents } from './local-poller';

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
runLocalStatusEvents(process.env, stop.signal).catch((err) => {
  console.error(err);
  process.exit(1);
});
