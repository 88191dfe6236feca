import { z } from 'zod';
import { defineCatalogue } from '../core/catalogue';

/**
 * The repository's job catalogue: metadata only (the ticker and the SDK never load job code;
 * the runner imports each `module`, relative to `root`, when it runs a task). Uses the default
 * fleet (small: 4 slots per runner, large: 16).
 */
export default defineCatalogue({
  root: __dirname,
  jobs: [
    {
      name: 'report',
      module: 'report',
      maxExecutionTime: '2 minutes',
      maxAttempts: 3,
      backoff: { initialMs: 5_000, factor: 2, maxMs: 60_000 },
      // Its own role: the CDK app grants it s3:PutObject on reports/* of the logs bucket.
      role: {},
      args: z.object({ title: z.string().max(64).optional(), figures: z.record(z.string(), z.number()).optional() }),
    },
    {
      name: 'crunch',
      module: 'crunch',
      slots: 2,
      maxExecutionTime: '10 minutes',
      maxAttempts: 2,
      args: z.object({ limit: z.number().int().min(2).max(2_000_000_000).optional() }),
    },
    {
      name: 'long-progress',
      module: 'long-progress',
      maxExecutionTime: '5 minutes',
      maxAttempts: 1,
      args: z.object({ seconds: z.number().min(0).max(240).optional(), steps: z.number().int().min(1).max(1000).optional() }),
    },
    { name: 'noop', module: 'noop', maxExecutionTime: '1 minute', maxAttempts: 1 },
    // Slot-heavy: 8 slots, so it runs on the large class (16 slots per runner).
    { name: 'render', module: 'long-progress', slots: 8, maxExecutionTime: '5 minutes', maxAttempts: 1, args: z.object({ seconds: z.number().min(0).max(240).optional(), steps: z.number().int().min(1).max(1000).optional() }) },
    // A 2-second time limit: a longer run is stopped and fails as a timeout.
    { name: 'deadline', module: 'long-progress', maxExecutionTime: '2 seconds', maxAttempts: 1, args: z.object({ seconds: z.number().min(0).max(240).optional(), steps: z.number().int().min(1).max(1000).optional() }) },
    { name: 'flaky', module: 'flaky', maxExecutionTime: '1 minute', maxAttempts: 3, backoff: { initialMs: 1000, factor: 2, maxMs: 10_000 } },
  ],
});
