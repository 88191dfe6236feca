import type { JobContext } from '../core/job-contract';

/** Fails its first attempt and completes on the next: shows a retry with backoff. */
export default async function flaky(_args: unknown, ctx: JobContext): Promise<{ attempt: number }> {
  ctx.logger.info({ attempt: ctx.attempt }, 'flaky job ran');
  if (ctx.attempt === 1) throw new Error('the first attempt always fails (a flaky dependency); the next one succeeds');
  return { attempt: ctx.attempt };
}
