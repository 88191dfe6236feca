import { z } from 'zod';
import { ConfigError } from '../errors';
import { envDuration } from './env-duration';

/**
 * Runtime configuration shared by the SDK, the ticker and the runner, read from the environment
 * once and validated into a resolved type. The endpoint alone decides AWS or LocalStack.
 */
const ms = (fallback: number) => envDuration(1).default(fallback);

export const RuntimeConfigSchema = z.object({
  JOBFLEET_TABLE: z.string().min(3).default('jobfleet-tasks'),
  JOBFLEET_BUCKET: z.string().min(3).default('jobfleet-logs'),
  /** JSON object: slot class name -> queue URL. */
  JOBFLEET_QUEUES: z.string().default('{}'),
  JOBFLEET_EVENT_BUS: z.string().optional(),
  JOBFLEET_STATUS_EVENTS: z.enum(['none', 'terminal', 'all']).default('terminal'),
  JOBFLEET_SHARDS: z.coerce.number().int().min(1).max(64).default(4),
  JOBFLEET_DISPATCH_WINDOW_MS: ms(60_000),
  JOBFLEET_LEASE_MS: ms(30_000),
  JOBFLEET_GRACE_MS: ms(60_000),
  /** Per AWS HTTP request: establishing the connection, and the whole request (see docs/deploy.md). */
  JOBFLEET_AWS_CONNECT_TIMEOUT_MS: ms(3_000),
  JOBFLEET_AWS_REQUEST_TIMEOUT_MS: ms(10_000),
  AWS_REGION: z.string().default('us-east-1'),
  AWS_ENDPOINT_URL: z.string().url().optional(),
});

export interface RuntimeConfig {
  readonly tableName: string;
  readonly bucket: string;
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly eventBusName?: string;
  readonly statusEvents: 'none' | 'terminal' | 'all';
  readonly shards: number;
  /** How long a claimed task may wait for a runner to start it before the reaper puts it back. */
  readonly dispatchWindowMs: number;
  /** How long a running task's lease lasts after each heartbeat. */
  readonly leaseMs: number;
  /** Extra time after a lease or max execution time before the reaper declares the runner lost. */
  readonly graceMs: number;
  /** An AWS call that cannot connect within this long fails (and is retried like any other failure). */
  readonly awsConnectTimeoutMs: number;
  /** An AWS HTTP request that has not answered within this long fails; SQS long polls get their wait time on top. */
  readonly awsRequestTimeoutMs: number;
  readonly region: string;
  readonly endpoint?: string;
}

export function loadRuntimeConfig(env: Record<string, string | undefined> = process.env): RuntimeConfig {
  const parsed = RuntimeConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid jobfleet configuration in the environment:\n  - ${lines.join('\n  - ')}`);
  }
  const e = parsed.data;
  let queueUrls: Record<string, string>;
  try {
    queueUrls = z.record(z.string(), z.string().url()).parse(JSON.parse(e.JOBFLEET_QUEUES));
  } catch (err) {
    throw new ConfigError(`JOBFLEET_QUEUES: expected a JSON object of slot class -> queue URL, e.g. {"small":"https://..."} (${(err as Error).message})`);
  }
  return {
    tableName: e.JOBFLEET_TABLE,
    bucket: e.JOBFLEET_BUCKET,
    queueUrls,
    eventBusName: e.JOBFLEET_EVENT_BUS,
    statusEvents: e.JOBFLEET_STATUS_EVENTS,
    shards: e.JOBFLEET_SHARDS,
    dispatchWindowMs: e.JOBFLEET_DISPATCH_WINDOW_MS,
    leaseMs: e.JOBFLEET_LEASE_MS,
    graceMs: e.JOBFLEET_GRACE_MS,
    awsConnectTimeoutMs: e.JOBFLEET_AWS_CONNECT_TIMEOUT_MS,
    awsRequestTimeoutMs: e.JOBFLEET_AWS_REQUEST_TIMEOUT_MS,
    region: e.AWS_REGION,
    endpoint: e.AWS_ENDPOINT_URL,
  };
}
