import { z } from 'zod';
import { defineCatalogue, type DeclaredSchedule } from '../../../core/catalogue';
import { JobfleetClient } from '../../../core/sdk/client';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';

/** A catalogue for SDK tests: the SDK never loads job code, so the modules need not exist here. */
export function sdkCatalogue(schedules: DeclaredSchedule[] = []) {
  return defineCatalogue({
    root: '/nowhere',
    jobs: [
      { name: 'email', module: 'email.js', args: z.object({ to: z.string() }).optional() },
      { name: 'report', module: 'report.js', schedules },
      { name: 'render', module: 'render.js', slots: 8, maxAttempts: 1 },
      { name: 'sync-tenant', module: 'sync-tenant.js', maxConcurrency: 3, maxConcurrencyPerKey: 2 },
    ],
  });
}

export interface SdkHarness {
  readonly env: TestEnvironment;
  readonly client: JobfleetClient;
  /** A clock the test moves by hand. */
  readonly clock: { now: number };
}

export async function sdkHarness(prefix: string, schedules: DeclaredSchedule[] = []): Promise<SdkHarness> {
  const env = await createTestEnvironment(prefix);
  const clock = { now: Date.parse('2026-11-23T12:00:00Z') };
  const client = new JobfleetClient({ catalogue: sdkCatalogue(schedules), services: env.services, clock: () => clock.now });
  return { env, client, clock };
}
