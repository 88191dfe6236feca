import type { Catalogue, JobRoleDefinition } from '../core/catalogue';
import type { JobRoleSpec } from './constructs/job-role';
import * as path from 'node:path';
import type { Node } from 'constructs';
import { ConfigError } from '../core/errors';
import { DEFAULT_FLEET, validateFleet, type FleetConfig, type SlotClass } from '../core/config/fleet';

/** The repository root: asset paths (ticker entry, runner Dockerfile, lock file) are relative to it. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** Prefix of every CDK context key jobfleet reads, e.g. `-c jobfleet:tickIntervalMs=1000`. */
export const CONTEXT_PREFIX = 'jobfleet:';

/**
 * Everything a deployment can tune. Each value comes from, in order: the stack's props, the CDK
 * context (`cdk.json` "context" or `-c jobfleet:<key>=<value>`), then the default below.
 * docs/deploy.md has the same list as a table.
 */
export interface JobfleetSettings {
  /** Slot classes: one SQS queue and one Fargate service each. @default DEFAULT_FLEET */
  readonly fleet: FleetConfig;
  /** Pause between two ticks inside one ticker invocation. @default 1000 */
  readonly tickIntervalMs: number;
  /** Ticker Lambda timeout; its inner loop runs until this is nearly used up. @default 60 */
  readonly tickerTimeoutSeconds: number;
  /** @default 256 */
  readonly tickerMemoryMiB: number;
  /** Reserved concurrency of the ticker (bounds overlapping invocations); 0 = no reservation. @default 2 */
  readonly tickerReservedConcurrency: number;
  /** JOBFLEET_SHARDS: partitions of each sharded index. Never change it on a table with tasks. @default 4 */
  readonly shards: number;
  /** JOBFLEET_STATUS_EVENTS: which status changes go to the event bus. @default 'terminal' */
  readonly statusEvents: 'none' | 'terminal' | 'all';
  /** JOBFLEET_DISPATCH_WINDOW_MS @default 60000 */
  readonly dispatchWindowMs: number;
  /** JOBFLEET_LEASE_MS @default 30000 */
  readonly leaseMs: number;
  /** JOBFLEET_GRACE_MS: a cancelled task's time to stop before it is killed. @default 60000 */
  readonly graceMs: number;
  /** Seconds ECS waits after SIGTERM before SIGKILL (Fargate maximum 120). @default 120 */
  readonly runnerStopTimeoutSeconds: number;
  /** Receives before a message goes to the class's dead-letter queue. @default 5 */
  readonly maxReceiveCount: number;
  /** Task logs move to S3 Standard-IA after this many days (S3 minimum 30); 0 = never. @default 30 */
  readonly logsInfrequentAccessAfterDays: number;
  /** Task logs are deleted after this many days; 0 = never. @default 90 */
  readonly logsExpireAfterDays: number;
  /** Retention of the ticker's and runners' CloudWatch log groups, in days. @default 30 */
  readonly logRetentionDays: number;
  /** Minutes of zero slot demand before a class scales in to its minimum. @default 5 */
  readonly scaleInAfterMinutes: number;
  /** Alarm when the oldest due task waits longer than this. @default 300000 (5 minutes) */
  readonly alarmOldestDueLagMs: number;
  /** Alarm when the ticker fails this many times within 5 minutes. @default 1 */
  readonly alarmTickerErrors: number;
  /** Alarm when a dead-letter queue holds this many messages. @default 1 */
  readonly alarmDlqMessages: number;
  /** Alarm when this many runners stop unexpectedly within 5 minutes. @default 1 */
  readonly alarmRunnerFailures: number;
  /** SNS topic ARN every alarm notifies (alarm and OK). @default - a topic of the stack's own */
  readonly alarmTopicArn?: string;
  /** An email address subscribed to the stack's own alarm topic (confirm the subscription mail). @default none */
  readonly alarmEmail?: string;
  /** DynamoDB deletion protection on the task table. @default true, unless removalPolicy is 'destroy' */
  readonly tableDeletionProtection?: boolean;
  /** ECS Container Insights on the runner cluster (adds CloudWatch custom metrics cost). @default false */
  readonly containerInsights: boolean;
  /** 'retain' keeps the table and the logs bucket when the stack is deleted. @default 'retain' */
  readonly removalPolicy: 'retain' | 'destroy';
}

export const DEFAULT_SETTINGS: JobfleetSettings = {
  fleet: DEFAULT_FLEET,
  tickIntervalMs: 1000,
  tickerTimeoutSeconds: 70,
  tickerMemoryMiB: 256,
  tickerReservedConcurrency: 2,
  shards: 4,
  statusEvents: 'terminal',
  dispatchWindowMs: 60_000,
  leaseMs: 30_000,
  graceMs: 60_000,
  runnerStopTimeoutSeconds: 120,
  maxReceiveCount: 5,
  logsInfrequentAccessAfterDays: 30,
  logsExpireAfterDays: 90,
  logRetentionDays: 30,
  scaleInAfterMinutes: 5,
  alarmOldestDueLagMs: 300_000,
  alarmTickerErrors: 1,
  alarmDlqMessages: 1,
  alarmRunnerFailures: 1,
  containerInsights: false,
  removalPolicy: 'retain',
};

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

type Kind = 'int' | 'bool' | 'string' | 'fleet';
const KINDS: { readonly [K in keyof JobfleetSettings]-?: Kind } = {
  fleet: 'fleet',
  tickIntervalMs: 'int',
  tickerTimeoutSeconds: 'int',
  tickerMemoryMiB: 'int',
  tickerReservedConcurrency: 'int',
  shards: 'int',
  statusEvents: 'string',
  dispatchWindowMs: 'int',
  leaseMs: 'int',
  graceMs: 'int',
  runnerStopTimeoutSeconds: 'int',
  maxReceiveCount: 'int',
  logsInfrequentAccessAfterDays: 'int',
  logsExpireAfterDays: 'int',
  logRetentionDays: 'int',
  scaleInAfterMinutes: 'int',
  alarmOldestDueLagMs: 'int',
  alarmTickerErrors: 'int',
  alarmDlqMessages: 'int',
  alarmRunnerFailures: 'int',
  alarmTopicArn: 'string',
  alarmEmail: 'string',
  tableDeletionProtection: 'bool',
  containerInsights: 'bool',
  removalPolicy: 'string',
};

/** Every context key jobfleet understands (for docs and for typo detection). */
export const SETTING_KEYS = Object.keys(KINDS) as (keyof JobfleetSettings)[];
/** `jobfleet:` context keys read elsewhere (infra/app.ts), not settings. */
const OTHER_KEYS = ['stackName'];

/**
 * Reads `jobfleet:*` context values. Values given with `-c` arrive as strings and are parsed
 * here; values from cdk.json keep their JSON type. Unknown `jobfleet:` keys are reported, since
 * a typo would otherwise silently fall back to the default.
 */
export function settingsFromContext(node: Node): { settings: Partial<JobfleetSettings>; problems: string[] } {
  const problems: string[] = [];
  const settings: Record<string, unknown> = {};
  const all = node.getAllContext() as Record<string, unknown>;
  for (const [fullKey, raw] of Object.entries(all)) {
    if (!fullKey.startsWith(CONTEXT_PREFIX)) continue;
    const key = fullKey.slice(CONTEXT_PREFIX.length) as keyof JobfleetSettings;
    if (OTHER_KEYS.includes(key)) continue;
    const kind = KINDS[key];
    if (!kind) {
      problems.push(`${fullKey}: unknown setting (known: ${SETTING_KEYS.join(', ')})`);
      continue;
    }
    const parsed = parseValue(kind, raw);
    if (parsed === undefined) problems.push(`${fullKey}: ${JSON.stringify(raw)} is not ${describeKind(kind)}`);
    else settings[key] = parsed;
  }
  return { settings: settings as Partial<JobfleetSettings>, problems };
}

function parseValue(kind: Kind, raw: unknown): unknown {
  switch (kind) {
    case 'int': {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'string':
      return typeof raw === 'string' ? raw : undefined;
    case 'fleet': {
      let value = raw;
      if (typeof raw === 'string') {
        try {
          value = JSON.parse(raw);
        } catch {
          return undefined;
        }
      }
      // Accept either {"classes": [...]} or the bare array of classes.
      if (Array.isArray(value)) return { classes: value as SlotClass[] };
      if (value && typeof value === 'object' && Array.isArray((value as FleetConfig).classes)) return value;
      return undefined;
    }
  }
}

const describeKind = (kind: Kind): string =>
  ({ int: 'an integer', bool: 'true or false', string: 'a string', fleet: 'a JSON array of slot classes (or {"classes": [...]})' })[kind];

/** Where the repository's job catalogue lives (its `fleet` is the one the SDK and the runners use). */
export const CATALOGUE_MODULE = path.join(REPO_ROOT, 'jobs/catalogue');

/** The fleet of a catalogue module (`export default defineCatalogue(...)`), or undefined if there is no such module. */
export function catalogueFleet(modulePath: string = CATALOGUE_MODULE): FleetConfig | undefined {
  let resolved: string;
  try {
    resolved = require.resolve(modulePath);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(resolved) as { default?: { fleet?: FleetConfig }; fleet?: FleetConfig };
  return (mod.default ?? mod).fleet;
}

/** The jobs of a catalogue module that declare a role of their own (none if there is no such module). */
export function catalogueJobRoles(modulePath: string = CATALOGUE_MODULE): JobRoleSpec[] {
  let resolved: string;
  try {
    resolved = require.resolve(modulePath);
  } catch {
    return [];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(resolved) as { default?: Catalogue } & Partial<Catalogue>;
  const catalogue = (mod.default ?? mod) as Catalogue;
  return [...(catalogue.jobs?.values() ?? [])]
    .filter((j) => j.definition.role)
    .map((j) => ({ job: j.snapshot.job, slotClass: j.snapshot.slotClass, role: j.definition.role as JobRoleDefinition }));
}

/**
 * Merges defaults, context and props, then checks every value and throws one ConfigError listing
 * all problems (the fleet is checked by the shared validateFleet). With `fromCatalogue` (the job
 * catalogue's fleet) the fleet defaults to it, and an explicit fleet must equal it: the SDK
 * routes tasks and the runners size themselves by the catalogue's classes.
 */
export function resolveSettings(node: Node, props: Partial<JobfleetSettings> = {}, fromCatalogue?: FleetConfig): JobfleetSettings {
  const fromContext = settingsFromContext(node);
  const defined = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
  const base: JobfleetSettings = fromCatalogue ? { ...DEFAULT_SETTINGS, fleet: fromCatalogue } : DEFAULT_SETTINGS;
  const s: JobfleetSettings = { ...base, ...fromContext.settings, ...defined };
  const problems = [...fromContext.problems, ...checkSettings(s)];
  if (fromCatalogue && JSON.stringify(s.fleet.classes) !== JSON.stringify(fromCatalogue.classes)) {
    problems.push(`${CONTEXT_PREFIX}fleet: differs from the fleet of the job catalogue (jobs/catalogue.ts); the SDK and the runners use the catalogue's classes, so change the fleet there and drop this setting`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid jobfleet deployment settings:\n  - ${problems.join('\n  - ')}`);
  return s;
}

/** Every problem with a settings object, each naming its context key. */
export function checkSettings(s: JobfleetSettings): string[] {
  const problems: string[] = [];
  const at = (key: keyof JobfleetSettings) => `${CONTEXT_PREFIX}${key}`;
  const range = (key: keyof JobfleetSettings, min: number, max: number, unit = '') => {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) problems.push(`${at(key)}: ${String(v)} is not an integer in ${min}..${max}${unit}`);
  };
  try {
    validateFleet(s.fleet);
  } catch (err) {
    problems.push(`${at('fleet')}: ${(err as Error).message.replace(/\n\s*/g, ' ')}`);
  }
  range('tickIntervalMs', 50, 60_000, ' ms');
  range('tickerTimeoutSeconds', 10, 900, ' s');
  range('tickerMemoryMiB', 128, 10_240, ' MiB');
  range('tickerReservedConcurrency', 0, 10);
  range('shards', 1, 64);
  range('dispatchWindowMs', 1000, 3_600_000, ' ms');
  range('leaseMs', 1000, 3_600_000, ' ms');
  range('graceMs', 0, 3_600_000, ' ms');
  range('runnerStopTimeoutSeconds', 2, 120, ' s (Fargate allows at most 120)');
  range('maxReceiveCount', 1, 1000);
  range('logsInfrequentAccessAfterDays', 0, 36_500, ' days');
  range('logsExpireAfterDays', 0, 36_500, ' days');
  range('scaleInAfterMinutes', 1, 60, ' minutes');
  range('alarmOldestDueLagMs', 1000, 86_400_000, ' ms');
  range('alarmTickerErrors', 1, 10_000);
  range('alarmDlqMessages', 1, 100_000);
  range('alarmRunnerFailures', 1, 10_000);
  if (s.tickIntervalMs >= s.tickerTimeoutSeconds * 1000) problems.push(`${at('tickIntervalMs')}: ${s.tickIntervalMs} ms must be shorter than the ticker timeout (${s.tickerTimeoutSeconds} s)`);
  if (!['none', 'terminal', 'all'].includes(s.statusEvents)) problems.push(`${at('statusEvents')}: "${s.statusEvents}" is not one of none, terminal, all`);
  if (!['retain', 'destroy'].includes(s.removalPolicy)) problems.push(`${at('removalPolicy')}: "${s.removalPolicy}" is not one of retain, destroy`);
  if (!LOG_RETENTION_DAYS.includes(s.logRetentionDays)) problems.push(`${at('logRetentionDays')}: ${s.logRetentionDays} is not a CloudWatch Logs retention (${LOG_RETENTION_DAYS.join(', ')})`);
  const ia = s.logsInfrequentAccessAfterDays;
  const exp = s.logsExpireAfterDays;
  if (ia > 0 && ia < 30) problems.push(`${at('logsInfrequentAccessAfterDays')}: S3 moves objects to Standard-IA after 30 days at the earliest (got ${ia}); use 0 to never move them`);
  if (ia > 0 && exp > 0 && exp <= ia) problems.push(`${at('logsExpireAfterDays')}: ${exp} must be later than logsInfrequentAccessAfterDays (${ia}), or 0`);
  if (s.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(s.alarmEmail)) problems.push(`${at('alarmEmail')}: "${s.alarmEmail}" is not an email address`);
  if (s.alarmEmail !== undefined && s.alarmTopicArn !== undefined) problems.push(`${at('alarmEmail')}: subscribe the address to your own topic (${s.alarmTopicArn}); alarmEmail is for the stack's own topic`);
  if (s.alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/.test(s.alarmTopicArn)) problems.push(`${at('alarmTopicArn')}: "${s.alarmTopicArn}" is not an SNS topic ARN`);
  return problems;
}
