import { z } from 'zod';
import { loadRuntimeConfig, type RuntimeConfig } from '../../core/config/runtime';
import { ConfigError } from '../../core/errors';

/** The stream consumer's settings: core's runtime config (bus, mode, table, endpoint) plus its log level. */
export interface StatusEventsSettings {
  readonly runtime: RuntimeConfig & { readonly eventBusName: string };
  readonly logLevel: string;
  /** Keep the console's per-job aggregates (counts, lateness, failure reasons) from the same stream. */
  readonly aggregates: boolean;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const EnvSchema = z.object({ JOBFLEET_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'), JOBFLEET_AGGREGATES: z.enum(['on', 'off']).default('on') });

/**
 * Reads and validates the environment once per process; every problem is reported at once. The
 * consumer exists only to publish, so a bus name is required unless the mode is 'none'.
 */
export function loadStatusEventsSettings(env: Record<string, string | undefined> = process.env): StatusEventsSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const problems: string[] = [];
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) for (const i of parsed.error.issues) problems.push(`${String(i.path[0] ?? '(environment)')}: ${i.message}`);
  let runtime: RuntimeConfig | undefined;
  try {
    runtime = loadRuntimeConfig(present);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (runtime && runtime.statusEvents !== 'none' && !runtime.eventBusName) {
    problems.push(`JOBFLEET_EVENT_BUS: required with JOBFLEET_STATUS_EVENTS=${runtime.statusEvents} (the bus the status events go to)`);
  }
  if (problems.length > 0 || !parsed.success || !runtime) throw new ConfigError(`invalid status-events configuration:\n  - ${problems.join('\n  - ')}`);
  return { runtime: { ...runtime, eventBusName: runtime.eventBusName ?? '' }, logLevel: parsed.data.JOBFLEET_LOG_LEVEL, aggregates: parsed.data.JOBFLEET_AGGREGATES === 'on' };
}
