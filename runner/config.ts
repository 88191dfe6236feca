import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { FleetConfig } from '../core/config/fleet';
import type { RuntimeConfig } from '../core/config/runtime';
import { envDuration } from '../core/config/env-duration';
import { ConfigError } from '../core/errors';
import { DEFAULT_LOG_CAP_BYTES } from './log/cap';
import { parseIdentityRange, type IdentityRange } from './sandbox/identity';

/**
 * The runner's own settings, read from the environment once at start and validated with zod.
 * Shared settings (table, bucket, queues, lease, grace) come from core's runtime config.
 * An empty variable counts as unset (ECS task definitions often carry empty ones).
 */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const RunnerEnvSchema = z.object({
  /** Slot class this runner serves; its queue comes from JOBFLEET_QUEUES. Optional when there is one class. */
  RUNNER_CLASS: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'a slot class name (lowercase letters, digits, dashes)').optional(),
  /** availableSlots. @default the class's slotsPerRunner in the fleet configuration */
  RUNNER_SLOTS: int(1, 1_000_000).optional(),
  /** @default `${hostname}-${pid}` */
  RUNNER_ID: z.string().min(1).max(128).optional(),
  RUNNER_WAIT_TIME_SECONDS: int(0, 20).default(20),
  RUNNER_POLL_ERROR_DELAY_MS: envDuration(1).default(1000),
  /** A busy runner waits up to this long for more free slots before a receive (one SQS request brings up to 10 messages). */
  RUNNER_RECEIVE_LINGER_MS: envDuration(0, 5000).default(250),
  /**
   * A started task's message waits up to this long to share a DeleteMessageBatch call with others
   * (up to 10). Keep it well below the queue's visibility timeout (60 s as deployed): a message
   * redelivered before its delete costs a receive and a read, and is dropped as stale.
   */
  RUNNER_DELETE_LINGER_MS: envDuration(0, 20_000).default(2000),
  RUNNER_STOP_TIMEOUT_MS: envDuration(0).default(110_000),
  RUNNER_CANCEL_GRACE_MS: envDuration(0).default(10_000),
  RUNNER_TIMEOUT_GRACE_MS: envDuration(0).default(1000),
  /** @default JOBFLEET_LEASE_MS / 3 */
  RUNNER_HEARTBEAT_MS: envDuration(10).optional(),
  /** How long before its lease ends a script is stopped when no heartbeat proved the lease. @default JOBFLEET_LEASE_MS / 10 */
  RUNNER_FENCE_MARGIN_MS: envDuration(1).optional(),
  RUNNER_PROGRESS_INTERVAL_MS: envDuration(0).default(1000),
  RUNNER_LOG_CAP_BYTES: int(1024).default(DEFAULT_LOG_CAP_BYTES),
  /** A batch of task logs is sent at most this long after its first log joined it. */
  RUNNER_LOG_BATCH_DELAY_MS: envDuration(0, 30_000).default(2000),
  /** A batch of task logs is sent once it holds this many bytes. */
  RUNNER_LOG_BATCH_BYTES: int(1024, 5 * 1024 * 1024).default(5 * 1024 * 1024),
  /** Task logs of this size or more get an S3 object of their own (multipart above 5 MiB). */
  RUNNER_LOG_OWN_OBJECT_BYTES: int(1, 5 * 1024 * 1024).default(1024 * 1024),
  /** Results larger than this go to S3. DynamoDB items stop at 400 KB, hence the ceiling. */
  RUNNER_RESULT_INLINE_BYTES: int(0, 256 * 1024).default(32 * 1024),
  /** Sandboxes kept forked and warm ahead of time while idle. */
  RUNNER_SPARES: int(0, 64).default(1),
  /** At most this many warm spares when busy, sized to recent demand. @default a quarter of the slots (at least RUNNER_SPARES) */
  RUNNER_MAX_SPARES: int(0, 64).optional(),
  RUNNER_WORK_DIR: z.string().min(1).optional(),
  RUNNER_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  RUNNER_JOB_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Idle this long before scale-in protection is released (avoids flapping between tasks). */
  RUNNER_PROTECTION_RELEASE_DELAY_MS: envDuration(0).default(5000),
  /** Path of the catalogue module. @default `catalogue` in JOBFLEET_JOBS_ROOT, else the repo's jobs/catalogue */
  JOBFLEET_CATALOGUE: z.string().min(1).optional(),
  /** Directory of the job modules (and, unless JOBFLEET_CATALOGUE says otherwise, of the catalogue). @default the catalogue's own `root` */
  JOBFLEET_JOBS_ROOT: z.string().min(1).optional(),
  /** A file touched every 15 s while the runner's event loop is alive (the image's HEALTHCHECK reads it); "none" to skip. */
  RUNNER_HEARTBEAT_FILE: z.string().min(1).optional(),
  ECS_CONTAINER_METADATA_URI_V4: z.string().url().optional(),
  /**
   * Uids for sandboxes, one per live sandbox: "auto" (61000-61999 when the runner runs as root,
   * else none), "none" (the runner's own uid), or a range "first-last". @default auto
   */
  RUNNER_SANDBOX_UIDS: z.string().default('auto'),
  /** JSON object: job name -> the IAM role ARN its tasks run with (the CDK app sets it). @default {} */
  RUNNER_JOB_ROLES: z
    .string()
    .default('{}')
    .transform((value, ctx) => {
      try {
        return z.record(z.string(), z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+/, 'an IAM role ARN')).parse(JSON.parse(value));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `a JSON object of job name -> role ARN (${(err as Error).message.split('\n')[0]})` });
        return z.NEVER;
      }
    }),
});
export type RunnerEnv = z.infer<typeof RunnerEnvSchema>;

/** Validates the environment; every problem is reported at once, each naming its variable. */
export function parseRunnerEnv(env: Record<string, string | undefined>): RunnerEnv {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = RunnerEnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '(environment)');
      return `${name}: ${i.message}${present[name] !== undefined ? ` (got ${JSON.stringify(present[name])})` : ''}`;
    });
    throw new ConfigError(`invalid runner configuration in the environment:\n  - ${lines.join('\n  - ')}`);
  }
  return parsed.data;
}

export interface RunnerConfig {
  readonly runnerId: string;
  readonly slotClass: string;
  readonly queueUrl: string;
  /** availableSlots: never more than this many slots in use. */
  readonly slots: number;
  /** The largest job of the class: each received message reserves this many slots until its task is known. */
  readonly largestJobSlots: number;
  readonly waitTimeSeconds: number;
  readonly pollErrorDelayMs: number;
  readonly receiveLingerMs: number;
  readonly deleteLingerMs: number;
  readonly stopTimeoutMs: number;
  readonly cancelGraceMs: number;
  readonly timeoutGraceMs: number;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  /** Self-fencing: with no renewal proved by (lease end - this), the script is stopped as lost; its sandbox ends itself at half this before the lease ends. */
  readonly fenceMarginMs: number;
  readonly progressIntervalMs: number;
  readonly logCapBytes: number;
  readonly logBatch: { readonly maxDelayMs: number; readonly maxBatchBytes: number; readonly ownObjectBytes: number };
  readonly inlineResultBytes: number;
  readonly spares: number;
  readonly maxSpares: number;
  readonly workDir: string;
  readonly logLevel: string;
  readonly jobLogLevel: string;
  readonly protectionReleaseDelayMs: number;
  readonly ecsMetadataUri?: string;
  /** Liveness file, or undefined for none. */
  readonly livenessFile?: string;
  /** Sandbox uids, or undefined: sandboxes run under the runner's uid. */
  readonly sandboxUids?: IdentityRange;
  /** Job name -> role ARN. */
  readonly jobRoles?: Readonly<Record<string, string>>;
}

/** What the config needs to know about the catalogue. */
export interface CatalogueFacts {
  readonly fleet: FleetConfig;
  largestSlots(slotClass: string): number;
  inClass(slotClass: string): readonly { readonly name: string; readonly snapshot: { readonly slots: number } }[];
}

/** Combines the runner's variables with the shared runtime config and the catalogue into the resolved config. */
export function resolveRunnerConfig(env: RunnerEnv, runtime: RuntimeConfig, catalogue: CatalogueFacts, pid = process.pid, isRoot = process.getuid?.() === 0): RunnerConfig {
  const problems: string[] = [];
  let sandboxUids: IdentityRange | undefined;
  try {
    sandboxUids = parseIdentityRange(env.RUNNER_SANDBOX_UIDS, isRoot);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const queueClasses = Object.keys(runtime.queueUrls);
  let slotClass = env.RUNNER_CLASS;
  if (!slotClass) {
    if (queueClasses.length === 1) slotClass = queueClasses[0] as string;
    else problems.push(`RUNNER_CLASS: required when JOBFLEET_QUEUES names ${queueClasses.length} classes (${queueClasses.join(', ') || 'none'})`);
  }
  const queueUrl = slotClass ? runtime.queueUrls[slotClass] : undefined;
  if (slotClass && !queueUrl) problems.push(`RUNNER_CLASS: class "${slotClass}" has no queue in JOBFLEET_QUEUES (it has: ${queueClasses.join(', ') || 'none'})`);
  const fleetClass = catalogue.fleet.classes.find((c) => c.name === slotClass);
  if (slotClass && !fleetClass && !env.RUNNER_SLOTS) problems.push(`RUNNER_SLOTS: class "${slotClass}" is not in the fleet configuration, so the slot count must be given`);
  const slots = env.RUNNER_SLOTS ?? fleetClass?.slotsPerRunner ?? 1;
  const largestJobSlots = slotClass ? catalogue.largestSlots(slotClass) : 1;
  if (slotClass && largestJobSlots > slots) {
    const big = catalogue.inClass(slotClass).filter((j) => j.snapshot.slots > slots).map((j) => `${j.name} (${j.snapshot.slots})`);
    problems.push(`RUNNER_SLOTS: ${slots} slots cannot hold the class's largest jobs: ${big.join(', ')}`);
  }
  const heartbeatMs = env.RUNNER_HEARTBEAT_MS ?? Math.max(10, Math.floor(runtime.leaseMs / 3));
  if (heartbeatMs >= runtime.leaseMs) problems.push(`RUNNER_HEARTBEAT_MS: ${heartbeatMs} must be shorter than JOBFLEET_LEASE_MS (${runtime.leaseMs}), or leases expire between heartbeats`);
  if (env.RUNNER_LOG_OWN_OBJECT_BYTES > env.RUNNER_LOG_BATCH_BYTES) problems.push(`RUNNER_LOG_OWN_OBJECT_BYTES: ${env.RUNNER_LOG_OWN_OBJECT_BYTES} is above RUNNER_LOG_BATCH_BYTES (${env.RUNNER_LOG_BATCH_BYTES}), so a log below it might not fit a batch`);
  const fenceMarginMs = env.RUNNER_FENCE_MARGIN_MS ?? Math.max(1, Math.floor(runtime.leaseMs / 10));
  if (heartbeatMs < runtime.leaseMs && heartbeatMs >= runtime.leaseMs - fenceMarginMs) {
    problems.push(`RUNNER_FENCE_MARGIN_MS: ${fenceMarginMs} leaves no time for a heartbeat: the lease (${runtime.leaseMs}) minus the margin must be longer than RUNNER_HEARTBEAT_MS (${heartbeatMs})`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid runner configuration:\n  - ${problems.join('\n  - ')}`);
  const runnerId = env.RUNNER_ID ?? `${hostname()}-${pid}`;
  return {
    runnerId,
    slotClass: slotClass as string,
    queueUrl: queueUrl as string,
    slots,
    largestJobSlots,
    waitTimeSeconds: env.RUNNER_WAIT_TIME_SECONDS,
    pollErrorDelayMs: env.RUNNER_POLL_ERROR_DELAY_MS,
    receiveLingerMs: env.RUNNER_RECEIVE_LINGER_MS,
    deleteLingerMs: env.RUNNER_DELETE_LINGER_MS,
    stopTimeoutMs: env.RUNNER_STOP_TIMEOUT_MS,
    cancelGraceMs: env.RUNNER_CANCEL_GRACE_MS,
    timeoutGraceMs: env.RUNNER_TIMEOUT_GRACE_MS,
    leaseMs: runtime.leaseMs,
    heartbeatMs,
    fenceMarginMs,
    progressIntervalMs: env.RUNNER_PROGRESS_INTERVAL_MS,
    logCapBytes: env.RUNNER_LOG_CAP_BYTES,
    logBatch: { maxDelayMs: env.RUNNER_LOG_BATCH_DELAY_MS, maxBatchBytes: env.RUNNER_LOG_BATCH_BYTES, ownObjectBytes: env.RUNNER_LOG_OWN_OBJECT_BYTES },
    inlineResultBytes: env.RUNNER_RESULT_INLINE_BYTES,
    spares: env.RUNNER_SPARES,
    // Each spare is a booted Node process held in memory; a quarter of the slots covers the demand
    // of short tasks (spares.ts sizes them to it) without holding a process per slot.
    maxSpares: Math.max(env.RUNNER_SPARES, env.RUNNER_MAX_SPARES ?? Math.min(Math.ceil(slots / 4), 64)),
    workDir: env.RUNNER_WORK_DIR ?? join(tmpdir(), `jobfleet-runner-${runnerId.replace(/[^A-Za-z0-9_.-]/g, '_')}`),
    logLevel: env.RUNNER_LOG_LEVEL,
    jobLogLevel: env.RUNNER_JOB_LOG_LEVEL,
    protectionReleaseDelayMs: env.RUNNER_PROTECTION_RELEASE_DELAY_MS,
    ...(env.ECS_CONTAINER_METADATA_URI_V4 ? { ecsMetadataUri: env.ECS_CONTAINER_METADATA_URI_V4 } : {}),
    ...(env.RUNNER_HEARTBEAT_FILE !== 'none' ? { livenessFile: env.RUNNER_HEARTBEAT_FILE ?? join(tmpdir(), 'jobfleet-runner.heartbeat') } : {}),
    ...(sandboxUids ? { sandboxUids } : {}),
    jobRoles: env.RUNNER_JOB_ROLES,
  };
}
