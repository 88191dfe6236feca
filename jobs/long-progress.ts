import type { JobContext } from '../core/job-contract';

export interface LongProgressArgs {
  /** How long the job takes. @default 5 */
  readonly seconds?: number;
  /** Progress reports over that time. @default 10 */
  readonly steps?: number;
}

/** Works for a few seconds, reporting progress at each step; stops early (cancelled) when its signal aborts. */
export default async function longProgress(args: LongProgressArgs, ctx: JobContext): Promise<{ steps: number }> {
  const steps = Math.max(1, Math.floor(args.steps ?? 10));
  const stepMs = ((args.seconds ?? 5) * 1000) / steps;
  for (let i = 1; i <= steps; i++) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, stepMs);
      ctx.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        },
        { once: true },
      );
    });
    ctx.progress((i / steps) * 100, `step ${i} of ${steps}`);
    ctx.logger.info({ step: i, of: steps }, 'step done');
  }
  return { steps };
}
