import { defineCatalogue } from '../../../core/catalogue';
import { JobfleetClient } from '../../../core/sdk/client';
import type { Services } from '../../../core/services';
import { z } from 'zod';

/** Thrown by any store or client call: the inputs in these tests must be refused before any I/O. */
export class IoReached extends Error {}

const refuseIo = (): object =>
  new Proxy(
    {},
    {
      get: (_t, name) => () => {
        throw new IoReached(`I/O reached: ${String(name)}`);
      },
    },
  );

export const NOW = Date.parse('2027-01-10T12:00:00Z');

export const catalogue = defineCatalogue({
  root: '/nowhere',
  jobs: [
    { name: 'report', module: 'report.js' },
    { name: 'crunch', module: 'crunch.js', args: z.object({ n: z.number() }).optional() },
    { name: 'sync-tenant', module: 'sync-tenant.js', maxConcurrencyPerKey: 2 },
    { name: 'render', module: 'render.js', slots: 8 },
  ],
});

/** An SDK client whose deployment has only the "small" class, and which fails any call that reaches AWS. */
export function clientWithoutIo(queueUrls: Record<string, string> = { small: 'https://sqs.local/small' }): JobfleetClient {
  const services = { config: { queueUrls }, store: refuseIo(), schedules: refuseIo(), clients: refuseIo(), shards: 4, graceMs: 1000 } as unknown as Services;
  return new JobfleetClient({ catalogue, services, clock: () => NOW });
}
