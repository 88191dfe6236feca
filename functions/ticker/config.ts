import { z } from 'zod';
import { envDuration } from '../../core/config/env-duration';
import { DEFAULT_FLEET, validateFleet, type FleetConfig } from '../../core/config/fleet';
import { loadRuntimeConfig, type RuntimeConfig } from '../../core/config/runtime';
import { ConfigError } from '../../core/errors';

/**
 * The ticker's own settings, read from the environment once per process and validated into a
 * resolved type. Shared settings (table, queues, shards, dispatch window, lease, grace) come from
 * core's runtime config. An empty variable counts as unset.
 */
export interface TickerOptions {
  /** Pause between tick starts. */
  readonly tickIntervalMs: number;
  /** How far ahead a tick looks for tasks about to fall due, so the loop can wake at their due time (0 = off). */
  readonly lookaheadMs: number;
  /** Shortest gap between two tick starts when the loop wakes early for a task falling due. */
  readonly minTickGapMs: number;
  /** Extra slots dispatched beyond a class's capacity, as a fraction of it (rounded up), so freed slots never idle for a tick. */
  readonly headroomMargin: number;
  /** Claims (and reaper actions) in flight at once. */
  readonly claimConcurrency: number;
  /** Due entries read per partition per tick: priority orders among the oldest this many of each partition. */
  readonly maxDuePerPartition: number;
  /** Active entries the reaper acts on per tick (oldest look-again time first); the rest wait for the next tick. */
  readonly maxReapPerTick: number;
  /**
   * How long past its dispatch window a queued task waits, instead of being put back, while its
   * class's queue still holds messages nobody has received (runners starting from zero, or all
   * busy): a put-back there would only add another copy behind its own message. 0 = off.
   */
  readonly coldStartMs: number;
}

export const DEFAULT_TICKER_OPTIONS: TickerOptions = {
  tickIntervalMs: 1000,
  lookaheadMs: 1000,
  minTickGapMs: 200,
  headroomMargin: 0.1,
  claimConcurrency: 24,
  maxDuePerPartition: 1000,
  maxReapPerTick: 500,
  // Fargate from zero: scaling alarm, task start and image pull take a few minutes.
  coldStartMs: 300_000,
};

export interface TickerSettings {
  readonly runtime: RuntimeConfig;
  readonly fleet: FleetConfig;
  readonly options: TickerOptions;
  /** The handler stops ticking when less than this (plus the last tick's duration) remains of its invocation. */
  readonly reserveMs: number;
  readonly logLevel: string;
  /** 'emf': one CloudWatch embedded-metric line per slot class per tick on stdout; 'off': none. */
  readonly metrics: 'emf' | 'off';
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const TickerEnvSchema = z.object({
  JOBFLEET_TICK_INTERVAL_MS: envDuration(10, 60_000).default(DEFAULT_TICKER_OPTIONS.tickIntervalMs),
  /** @default JOBFLEET_TICK_INTERVAL_MS */
  JOBFLEET_LOOKAHEAD_MS: envDuration(0, 60_000).optional(),
  JOBFLEET_MIN_TICK_GAP_MS: envDuration(0, 60_000).default(DEFAULT_TICKER_OPTIONS.minTickGapMs),
  JOBFLEET_HEADROOM_MARGIN: z.coerce.number().min(0).max(10).default(DEFAULT_TICKER_OPTIONS.headroomMargin),
  JOBFLEET_CLAIM_CONCURRENCY: int(1, 256).default(DEFAULT_TICKER_OPTIONS.claimConcurrency),
  JOBFLEET_MAX_DUE_PER_PARTITION: int(1, 1_000_000).default(DEFAULT_TICKER_OPTIONS.maxDuePerPartition),
  JOBFLEET_MAX_REAP_PER_TICK: int(1, 1_000_000).default(DEFAULT_TICKER_OPTIONS.maxReapPerTick),
  JOBFLEET_TICK_RESERVE_MS: envDuration(0, 900_000).default(2000),
  JOBFLEET_COLD_START_MS: envDuration(0, 3_600_000).default(DEFAULT_TICKER_OPTIONS.coldStartMs),
  /** JSON of core's FleetConfig ({"classes":[...]}). @default DEFAULT_FLEET */
  JOBFLEET_FLEET: z.string().optional(),
  JOBFLEET_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  JOBFLEET_METRICS: z.enum(['emf', 'off']).default('emf'),
});

const SlotClassSchema = z.object({
  name: z.string(),
  slotsPerRunner: z.number(),
  cpu: z.number(),
  memoryMiB: z.number(),
  minRunners: z.number(),
  maxRunners: z.number(),
});
const FleetSchema = z.object({ classes: z.array(SlotClassSchema) });

/** Parses JOBFLEET_FLEET (or returns the default fleet) and validates it. */
export function parseFleet(json: string | undefined): FleetConfig {
  if (json === undefined) return validateFleet(DEFAULT_FLEET);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(`JOBFLEET_FLEET: not JSON (${(err as Error).message}); expected {"classes":[{"name":"small","slotsPerRunner":4,...}]}`);
  }
  const parsed = FleetSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`JOBFLEET_FLEET:\n  - ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('\n  - ')}`);
  }
  return validateFleet(parsed.data);
}

/** Reads and validates everything the ticker needs; every problem is reported at once. */
export function loadTickerSettings(env: Record<string, string | undefined> = process.env): TickerSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = TickerEnvSchema.safeParse(present);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push(`${String(i.path[0] ?? '(environment)')}: ${i.message}`);
  }
  let runtime: RuntimeConfig | undefined;
  let fleet: FleetConfig | undefined;
  try {
    runtime = loadRuntimeConfig(env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  try {
    fleet = parseFleet(present.JOBFLEET_FLEET);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0 || !parsed.success || !runtime || !fleet) {
    throw new ConfigError(`invalid ticker configuration:\n  - ${problems.join('\n  - ')}`);
  }
  const e = parsed.data;
  const lookaheadMs = e.JOBFLEET_LOOKAHEAD_MS ?? e.JOBFLEET_TICK_INTERVAL_MS;
  if (e.JOBFLEET_TICK_RESERVE_MS < lookaheadMs) {
    throw new ConfigError(`invalid ticker configuration:\n  - JOBFLEET_TICK_RESERVE_MS (${e.JOBFLEET_TICK_RESERVE_MS}) must cover JOBFLEET_LOOKAHEAD_MS (${lookaheadMs}): messages held for tasks claimed ahead are sent before the invocation ends`);
  }
  return {
    runtime,
    fleet,
    options: {
      tickIntervalMs: e.JOBFLEET_TICK_INTERVAL_MS,
      lookaheadMs,
      minTickGapMs: e.JOBFLEET_MIN_TICK_GAP_MS,
      headroomMargin: e.JOBFLEET_HEADROOM_MARGIN,
      claimConcurrency: e.JOBFLEET_CLAIM_CONCURRENCY,
      maxDuePerPartition: e.JOBFLEET_MAX_DUE_PER_PARTITION,
      maxReapPerTick: e.JOBFLEET_MAX_REAP_PER_TICK,
      coldStartMs: e.JOBFLEET_COLD_START_MS,
    },
    reserveMs: e.JOBFLEET_TICK_RESERVE_MS,
    logLevel: e.JOBFLEET_LOG_LEVEL,
    metrics: e.JOBFLEET_METRICS,
  };
}
