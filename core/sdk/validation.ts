import { z } from 'zod';
import { ValidationError } from '../errors';
import { ARGS_LIMITS, canonicalArgs } from '../input/args';
import { DURATION_BOUNDS, parseDuration as parseBoundedDuration } from '../input/duration';
import { SCHEDULE_ID, SCHEDULE_ID_RULE, IDEMPOTENCY_KEY_MAX } from '../input/ids';
import { parseInstant, type TimeInput } from '../input/instant';
import { MAX_PRIORITY } from '../model/keys';

/**
 * Input validation at the SDK's edge: every problem becomes a ValidationError that names the
 * field, says what was wrong and what to pass instead. The parsers live in core/input/.
 */
export const DEFAULT_MAX_ARGS_BYTES = ARGS_LIMITS.maxBytes;

export type { TimeInput };

/**
 * Per-key concurrency limits: the counter item holds the id of each task holding a slot, and an
 * item is at most 400 KB, so a limit is at most 1000 (as is a job's maxConcurrency).
 */
export const MAX_CONCURRENCY_LIMIT = 1000;

/** A date given as a Date, an ISO 8601 string with an offset, or epoch milliseconds (see core/input/instant.ts). */
export function parseTime(value: unknown, field: string): number {
  return parseInstant(value, field);
}

/** A delay: 0 ms or more, as a number of milliseconds or a duration string. */
export function parseDuration(value: unknown, field: string): number {
  return parseBoundedDuration(value, field, DURATION_BOUNDS.delay);
}

/** Arguments in their canonical JSON form (see core/input/args.ts). */
export function checkArgs(args: unknown, maxBytes: number): unknown {
  return canonicalArgs(args, maxBytes);
}

/** Applies a zod schema and reports its first problem by path. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value)) && field === 'options') {
    throw new ValidationError(field, `is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}; pass an object of options, or leave it out`);
  }
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const known = schema instanceof z.ZodObject ? Object.keys(schema.shape as object).join(', ') : '';
    throw new ValidationError(field, `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${known ? `; the options are: ${known}` : ''}`);
  }
  const path = [field, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  throw new ValidationError(path, issue?.message ?? 'invalid');
}

const int = (min: number, max: number, what: string) =>
  z
    .number({ error: `must be a whole number from ${min} to ${max}${what}` })
    .int({ error: `must be a whole number from ${min} to ${max}${what}` })
    .min(min, { error: `must be a whole number from ${min} to ${max}${what}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}${what}` });
const text = (max: number, example: string) =>
  z
    .string({ error: `must be a string of 1 to ${max} characters, e.g. "${example}"` })
    .min(1, { error: `must be a string of 1 to ${max} characters, e.g. "${example}"` })
    .max(max, { error: `must be a string of 1 to ${max} characters, e.g. "${example}"` });
const flag = z.boolean({ error: 'must be true or false' });

/** Times and durations are checked by their own parsers, which say exactly what was wrong. */
const time = z.unknown();
const duration = z.unknown();
const priority = int(0, MAX_PRIORITY, ' (higher runs first among tasks due at the same time)');

export const ScheduleOptionsSchema = z
  .object({
    at: time.optional(),
    delay: duration.optional(),
    priority: priority.optional(),
    idempotencyKey: text(IDEMPOTENCY_KEY_MAX, 'invoice-2027-01-42').optional(),
    expiresAt: time.optional(),
    maxAttempts: int(1, 100, '').optional(),
    concurrencyKey: text(200, 'tenant-42').optional(),
    concurrencyLimit: int(1, MAX_CONCURRENCY_LIMIT, ' (tasks with this concurrencyKey running at once), and no more than the job\'s maxConcurrencyPerKey').optional(),
    /** Checked by shape (core/input/ids.ts) before any read. */
    startAfter: z.unknown().optional(),
    hold: flag.optional(),
  })
  .strict();

export type ScheduleOptions = {
  at?: TimeInput;
  delay?: number | string;
  priority?: number;
  idempotencyKey?: string;
  expiresAt?: TimeInput;
  maxAttempts?: number;
  concurrencyKey?: string;
  concurrencyLimit?: number;
  startAfter?: string;
  hold?: boolean;
};

export const RecurringOptionsSchema = z
  .object({
    id: z.string({ error: SCHEDULE_ID_RULE }).regex(SCHEDULE_ID, { error: SCHEDULE_ID_RULE }).optional(),
    cron: z.unknown().optional(),
    timezone: z.unknown().optional(),
    every: duration.optional(),
    /** The job module's `nextRun(previous)` decides each date; the first run is at `startAt` (or now). */
    computed: z.unknown().optional(),
    startAt: time.optional(),
    missedRuns: z.enum(['once', 'skip', 'all'], { error: 'must be "once" (the default), "skip" or "all"' }).optional(),
    maxCatchUp: int(1, 50, ' (missed runs created at once under missedRuns "all")').optional(),
    priority: priority.optional(),
  })
  .strict();

export type RecurringOptions = {
  id?: string;
  cron?: string;
  timezone?: string;
  every?: number | string;
  computed?: true;
  startAt?: TimeInput;
  missedRuns?: 'once' | 'skip' | 'all';
  maxCatchUp?: number;
  priority?: number;
};

export const ListOptionsSchema = z
  .object({
    job: z.string({ error: 'must be the name of a catalogued job' }).optional(),
    status: z.enum(['pending', 'queued', 'running', 'completed', 'failed', 'cancelled'], { error: 'must be one of pending, queued, running, completed, failed, cancelled' }).optional(),
    limit: int(1, 1000, ' (tasks per page)').optional(),
    cursor: z.string({ error: 'must be the cursor a previous page returned' }).optional(),
  })
  .strict();

/** `waitFor`'s options, validated: a finite timeout, and polling no faster than 20 reads a second. */
export function waitOptions(options: unknown, defaults: { timeoutMs: number; pollMs: number } = { timeoutMs: 60_000, pollMs: 250 }): { timeoutMs: number; pollMs: number } {
  const o = parseWith(z.object({ timeoutMs: z.unknown().optional(), pollMs: z.unknown().optional() }).strict(), options ?? {}, 'options');
  return {
    timeoutMs: o.timeoutMs === undefined ? defaults.timeoutMs : parseBoundedDuration(o.timeoutMs, 'options.timeoutMs', DURATION_BOUNDS.timeout),
    pollMs: o.pollMs === undefined ? defaults.pollMs : parseBoundedDuration(o.pollMs, 'options.pollMs', DURATION_BOUNDS.poll),
  };
}
