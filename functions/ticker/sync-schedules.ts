import type { Catalogue } from '../../core/catalogue';
import { JobfleetClient } from '../../core/sdk/client';
import type { TickerProcess } from './create';

/**
 * Reconciles the schedules declared in the job catalogue into SCHEDULE items, so a deploy that
 * changes them takes effect without a separate step. Runs once per ticker process (a Lambda
 * container, or the local ticker); a failure is logged and retried by the next process start.
 */
export async function syncDeclaredSchedules(p: TickerProcess, catalogue: Catalogue): Promise<void> {
  try {
    const report = await new JobfleetClient({ catalogue, services: p.services }).schedules.sync();
    p.logger.info(report, 'declared schedules synced');
  } catch (err) {
    p.logger.error({ err }, 'could not sync the declared schedules; ticking anyway');
  }
}
