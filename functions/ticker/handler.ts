import catalogue from '../../jobs/catalogue';
import { createTickerFromEnv, runTicker, type TickerProcess } from './create';
import type { LoopSummary } from './loop';
import { syncDeclaredSchedules } from './sync-schedules';

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

/** Built on the first invocation and kept for the container's life: config, clients, stores. */
let process_: TickerProcess | undefined;

/**
 * EventBridge fires this once a minute. It ticks every JOBFLEET_TICK_INTERVAL_MS until its
 * remaining time drops below JOBFLEET_TICK_RESERVE_MS plus the longest tick so far, so a tick
 * never runs into the Lambda timeout; then it sends the messages it still holds for tasks claimed
 * ahead of their due time (the reserve must cover the look-ahead). Overlapping invocations are safe: every claim is a
 * conditional write.
 */
export async function handler(_event: unknown, context: LambdaContextLike): Promise<LoopSummary & { released: number }> {
  if (!process_) {
    process_ = createTickerFromEnv(process.env);
    await syncDeclaredSchedules(process_, catalogue);
  }
  const p = process_;
  const summary = await runTicker(p, (_now, longest) => context.getRemainingTimeInMillis() > p.settings.reserveMs + longest);
  p.logger.info(summary, 'invocation done');
  return summary;
}
