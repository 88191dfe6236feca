import { JOB_NAME } from './model/keys';
import { z } from 'zod';
import { ConfigError, UnknownJobError } from './errors';
import { classForSlots, DEFAULT_FLEET, validateFleet, type FleetConfig } from './config/fleet';
import { DEFAULT_BACKOFF } from './model/backoff';
import { assertTimezone, parseCron, parseInterval } from './model/schedule';
import type { JobSnapshot, MissedRunPolicy, ScheduleSpec } from './model/task';

/**
 * The job catalogue: metadata only. The ticker and the SDK never load job code; the runner
 * imports `module` when it runs a task. Metadata is copied onto each task when scheduled.
 */
export interface DeclaredSchedule {
  /** Stable id: sync reconciles declared schedules by it. */
  readonly id: string;
  readonly cron?: string;
  readonly timezone?: string;
  readonly every?: string | number;
  readonly args?: unknown;
  readonly missedRuns?: MissedRunPolicy;
}

/**
 * A job's own IAM role (AWS Batch's jobRoleArn): the CDK app creates one per job that declares
 * it, the runner assumes it for each task (a session named and tagged after the task) and hands
 * the short-lived credentials to that task's sandbox alone. A job without a role gets no AWS
 * credentials at all. More grants can be added in CDK (`JobfleetStack.jobRoles`).
 */
export interface JobRoleDefinition {
  /** Statements of the role's policy, with literal ARNs. @default none (grant in CDK instead) */
  readonly statements?: readonly { readonly actions: readonly string[]; readonly resources: readonly string[] }[];
  /** Managed policies to attach, by ARN. @default none */
  readonly managedPolicyArns?: readonly string[];
}

export interface JobDefinition {
  readonly name: string;
  /** Path of the job module, relative to the catalogue's `root`. */
  readonly module: string;
  /** @default 1 */
  readonly slots?: number;
  /** Milliseconds or an interval string such as "5 minutes". @default 15 minutes */
  readonly maxExecutionTime?: number | string;
  /** @default 3 */
  readonly maxAttempts?: number;
  readonly backoff?: { readonly initialMs?: number; readonly factor?: number; readonly maxMs?: number };
  /** How long finished tasks are kept. @default 7 days */
  readonly retention?: number | string;
  /** At most this many tasks of the job run at once; 1 = singleton, 0 = unlimited. @default 0 */
  readonly maxConcurrency?: number;
  /** At most this many tasks with the same `concurrencyKey` (e.g. a tenant id) run at once, unless the task sets its own limit. */
  readonly maxConcurrencyPerKey?: number;
  /** Optional schema the SDK validates arguments with. */
  readonly args?: z.ZodType;
  readonly schedules?: readonly DeclaredSchedule[];
  /** The job's own IAM role; without one its code gets no AWS credentials. @default none */
  readonly role?: JobRoleDefinition;
}

export interface ResolvedJob {
  readonly definition: JobDefinition;
  readonly snapshot: JobSnapshot;
  readonly modulePath: string;
}

export interface Catalogue {
  readonly root: string;
  readonly fleet: FleetConfig;
  readonly jobs: ReadonlyMap<string, ResolvedJob>;
  get(name: string): ResolvedJob;
}

const WEEK_MS = 7 * 86_400_000;

/** Validates every job at once and reports all problems together. */
export function defineCatalogue(options: { root: string; jobs: readonly JobDefinition[]; fleet?: FleetConfig }): Catalogue {
  const fleet = validateFleet(options.fleet ?? DEFAULT_FLEET);
  const problems: string[] = [];
  const jobs = new Map<string, ResolvedJob>();
  for (const def of options.jobs) {
    const at = `jobs.${def.name}`;
    const check = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        problems.push((err as Error).message);
      }
    };
    if (!JOB_NAME.test(def.name)) problems.push(`${at}.name: use lowercase letters, digits and dashes (max 63)`);
    if (jobs.has(def.name)) problems.push(`${at}: defined twice`);
    if (def.module.includes('..')) problems.push(`${at}.module: must stay inside the catalogue root (no "..")`);
    const slots = def.slots ?? 1;
    const slotClass = classForSlots(fleet, slots);
    if (!Number.isInteger(slots) || slots < 1) problems.push(`${at}.slots: must be a positive integer`);
    else if (!slotClass) problems.push(`${at}.slots: ${slots} slots fit no slot class (largest offers ${Math.max(...fleet.classes.map((c) => c.slotsPerRunner))}); lower it or add a bigger class`);
    let maxExecutionMs = 15 * 60_000;
    let retentionMs = WEEK_MS;
    check(() => (maxExecutionMs = def.maxExecutionTime === undefined ? maxExecutionMs : parseInterval(def.maxExecutionTime, `${at}.maxExecutionTime`)));
    check(() => (retentionMs = def.retention === undefined ? retentionMs : parseInterval(def.retention, `${at}.retention`)));
    const maxAttempts = def.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) problems.push(`${at}.maxAttempts: must be an integer >= 1`);
    const maxConcurrency = def.maxConcurrency ?? 0;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 0) problems.push(`${at}.maxConcurrency: must be an integer >= 0 (0 = unlimited)`);
    if (def.maxConcurrencyPerKey !== undefined && (!Number.isInteger(def.maxConcurrencyPerKey) || def.maxConcurrencyPerKey < 1)) problems.push(`${at}.maxConcurrencyPerKey: must be an integer >= 1`);
    for (const s of def.schedules ?? []) check(() => declaredScheduleSpec(s, `${at}.schedules.${s.id}`));
    (def.role?.statements ?? []).forEach((st, i) => {
      if (st.actions.length === 0 || st.actions.some((a) => !/^[a-z0-9-]+:[A-Za-z0-9*]+$/.test(a))) problems.push(`${at}.role.statements.${i}.actions: give service:Action names (e.g. s3:PutObject)`);
      if (st.resources.length === 0 || st.resources.some((r) => r !== '*' && !r.startsWith('arn:'))) problems.push(`${at}.role.statements.${i}.resources: give ARNs`);
    });
    jobs.set(def.name, {
      definition: def,
      modulePath: def.module,
      snapshot: {
        job: def.name,
        slots,
        slotClass: slotClass?.name ?? '',
        maxExecutionMs,
        maxAttempts,
        backoff: { ...DEFAULT_BACKOFF, ...def.backoff },
        retentionMs,
        maxConcurrency,
      },
    });
  }
  if (problems.length > 0) throw new ConfigError(`invalid job catalogue:\n  - ${problems.join('\n  - ')}`);
  return {
    root: options.root,
    fleet,
    jobs,
    get(name: string): ResolvedJob {
      const job = jobs.get(name);
      if (!job) throw new UnknownJobError(name, [...jobs.keys()]);
      return job;
    },
  };
}

export function declaredScheduleSpec(s: DeclaredSchedule, field: string): ScheduleSpec {
  if ((s.cron === undefined) === (s.every === undefined)) throw new ConfigError(`${field}: give exactly one of "cron" or "every"`);
  if (s.cron !== undefined) {
    const timezone = s.timezone ?? 'UTC';
    assertTimezone(timezone, `${field}.timezone`);
    parseCron(s.cron, timezone, `${field}.cron`);
    return { kind: 'cron', expression: s.cron, timezone };
  }
  return { kind: 'interval', everyMs: parseInterval(s.every as string | number, `${field}.every`) };
}
