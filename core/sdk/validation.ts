import { z } from 'zod';
import { ValidationError } from '../errors';
import { MAX_PRIORITY } from '../model/keys';
import { parseInterval } from '../model/schedule';

/**
 * Input validation at the SDK's edge: every problem becomes a ValidationError that names the
 * field and says what to do instead.
 */
export const DEFAULT_MAX_ARGS_BYTES = 32 * 1024;

export type TimeInput = Date | string | number;

/** A date given as a Date, an ISO 8601 string or epoch milliseconds. */
export function parseTime(value: TimeInput, field: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms) || (typeof value === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(value))) {
    throw new ValidationError(field, `${JSON.stringify(value)} is not a valid date; pass a Date, an ISO 8601 string such as "2026-12-01T09:00:00Z", or epoch milliseconds`);
  }
  return ms;
}

export function parseDuration(value: number | string, field: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new ValidationError(field, `${value} must be a duration of 0 ms or more`);
    return value;
  }
  return parseInterval(value, field);
}

/** Arguments must survive a JSON round trip and stay small: tasks are copied through DynamoDB on every state change. */
export function checkArgs(args: unknown, maxBytes: number): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(args);
  } catch (err) {
    throw new ValidationError('args', `must be JSON-serialisable (${(err as Error).message})`);
  }
  if (json === undefined && args !== undefined) throw new ValidationError('args', 'must be JSON-serialisable (got a function or symbol)');
  const bytes = Buffer.byteLength(json ?? 'null');
  if (bytes > maxBytes) {
    throw new ValidationError('args', `are ${bytes} bytes, over the ${maxBytes}-byte limit; store the data in S3 or a database and pass its key or id instead`);
  }
}

/** Applies a zod schema and reports its first problem by path. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  const path = [field, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  throw new ValidationError(path, issue?.message ?? 'invalid');
}

const time = z.union([z.date(), z.string(), z.number()]);
const duration = z.union([z.number(), z.string()]);

export const ScheduleOptionsSchema = z
  .object({
    at: time.optional(),
    delay: duration.optional(),
    priority: z.number().int().min(0).max(MAX_PRIORITY).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
    expiresAt: time.optional(),
    maxAttempts: z.number().int().min(1).max(100).optional(),
    concurrencyKey: z.string().min(1).max(200).optional(),
    concurrencyLimit: z.number().int().min(1).optional(),
    startAfter: z.string().min(1).optional(),
    hold: z.boolean().optional(),
  })
  .strict();

export type ScheduleOptions = z.input<typeof ScheduleOptionsSchema>;

export const RecurringOptionsSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'use letters, digits, and _ . : - (max 100)').optional(),
    cron: z.string().optional(),
    timezone: z.string().optional(),
    every: duration.optional(),
    /** The job module's `nextRun(previous)` decides each date; the first run is at `startAt` (or now). */
    computed: z.literal(true).optional(),
    startAt: time.optional(),
    missedRuns: z.enum(['once', 'skip', 'all']).optional(),
    maxCatchUp: z.number().int().min(1).max(50).optional(),
    priority: z.number().int().min(0).max(MAX_PRIORITY).optional(),
  })
  .strict();

export type RecurringOptions = z.input<typeof RecurringOptionsSchema>;
