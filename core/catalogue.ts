import { JOB_NAME } from './model/keys';
import { z } from 'zod';
import { ConfigError, UnknownJobError, ValidationError } from './errors';
import { canonicalArgs } from './input/args';
import { DURATION_BOUNDS, parseDuration, type DurationBounds } from './input/duration';
import { checkScheduleId } from './input/ids';
import { classForSlots, DEFAULT_FLEET, validateFleet, type FleetConfig } from './config/fleet';
import { DEFAULT_BACKOFF } from './model/backoff';
import { scheduleSpecOf } from './model/schedule';
import { MAX_CONCURRENCY_LIMIT, parseWith, RecurringOptionsSchema } from './sdk/validation';
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
  /** @default 10 */
  readonly maxCatchUp?: number;
  /** @default 100 */
  readonly priority?: number;
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
  /** Milliseconds or duration strings; factor from 1 to 100. */
  readonly backoff?: { readonly initialMs?: number | string; readonly factor?: number; readonly maxMs?: number | string };
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
  const scheduleIds = new Map<string, string>();
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
    const duration = (value: unknown, field: string, bounds: DurationBounds, fallback: number): number => {
      let ms = fallback;
      check(() => (ms = value === undefined ? fallback : parseDuration(value, `${at}.${field}`, bounds)));
      return ms;
    };
    const maxExecutionMs = duration(def.maxExecutionTime, 'maxExecutionTime', DURATION_BOUNDS.maxExecutionTime, 15 * 60_000);
    const retentionMs = duration(def.retention, 'retention', DURATION_BOUNDS.retention, WEEK_MS);
    const backoff = {
      initialMs: duration(def.backoff?.initialMs, 'backoff.initialMs', DURATION_BOUNDS.backoff, DEFAULT_BACKOFF.initialMs),
      factor: def.backoff?.factor ?? DEFAULT_BACKOFF.factor,
      maxMs: duration(def.backoff?.maxMs, 'backoff.maxMs', DURATION_BOUNDS.backoff, DEFAULT_BACKOFF.maxMs),
    };
    if (typeof backoff.factor !== 'number' || !(backoff.factor >= 1 && backoff.factor <= 100)) problems.push(`${at}.backoff.factor: ${backoff.factor} must be a number from 1 to 100 (each retry waits this many times longer)`);
    const maxAttempts = def.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) problems.push(`${at}.maxAttempts: ${maxAttempts} must be a whole number from 1 to 100`);
    const maxConcurrency = def.maxConcurrency ?? 0;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 0 || maxConcurrency > MAX_CONCURRENCY_LIMIT) {
      problems.push(`${at}.maxConcurrency: ${maxConcurrency} must be a whole number from 0 (unlimited) to ${MAX_CONCURRENCY_LIMIT}`);
    }
    if (def.maxConcurrencyPerKey !== undefined && (!Number.isInteger(def.maxConcurrencyPerKey) || def.maxConcurrencyPerKey < 1 || def.maxConcurrencyPerKey > MAX_CONCURRENCY_LIMIT)) {
      problems.push(`${at}.maxConcurrencyPerKey: ${def.maxConcurrencyPerKey} must be a whole number from 1 to ${MAX_CONCURRENCY_LIMIT} (the counter item holds each running task's id)`);
    }
    (def.schedules ?? []).forEach((s, i) => {
      const id = typeof s?.id === 'string' ? s.id : `[${i}]`;
      const field = `${at}.schedules.${id}`;
      check(() => declaredScheduleSpec(s, field));
      check(() => declaredScheduleArgs(def, s, field));
      const owner = scheduleIds.get(id);
      if (owner !== undefined) problems.push(`${field}.id: "${id}" is declared twice (${owner === def.name ? 'in this job' : `also under job "${owner}"`}); schedule ids are unique across the catalogue: give one another id`);
      else scheduleIds.set(id, def.name);
    });
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
        backoff,
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

/**
 * A declared schedule's spec, through exactly the validation `schedules.create` runs (the same
 * options schema and the same schedule parser), so the catalogue accepts what the SDK accepts.
 */
export function declaredScheduleSpec(s: DeclaredSchedule, field: string): ScheduleSpec {
  try {
    checkScheduleId(s.id, `${field}.id`);
    const { args: _args, ...options } = s;
    void _args;
    const opts = parseWith(RecurringOptionsSchema, options, field);
    return scheduleSpecOf(opts, field, false);
  } catch (err) {
    if (err instanceof ValidationError) throw new ConfigError(err.message);
    throw err;
  }
}

/** A declared schedule's args, as `schedules.create` would store them: canonical JSON, through the job's args schema. */
export function declaredScheduleArgs(def: JobDefinition, s: DeclaredSchedule, field: string): unknown {
  try {
    const given = canonicalArgs(s.args, undefined, `${field}.args`);
    return def.args ? canonicalArgs(parseWith(def.args, given === null ? undefined : given, `${field}.args`), undefined, `${field}.args`) : given;
  } catch (err) {
    if (err instanceof ValidationError) throw new ConfigError(err.message);
    throw err;
  }
}
