import { Cron } from 'croner';
import { InvalidScheduleError } from '../errors';
import type { MissedRunPolicy, ScheduleSpec } from './task';

/** Accepts 5-field (minute) or 6-field (with seconds) cron; throws a typed error naming the field. */
export function parseCron(expression: string, timezone: string, field = 'cron'): Cron {
  assertTimezone(timezone, `${field}.timezone`);
  const parts = expression.trim().split(/\s+/);
  if (parts.length < 5 || parts.length > 6) {
    throw new InvalidScheduleError(field, `"${expression}" has ${parts.length} fields; use 5 (minute hour day month weekday) or 6 (with seconds first), e.g. "0 */5 * * * *"`);
  }
  try {
    return new Cron(expression, { timezone, paused: true });
  } catch (err) {
    throw new InvalidScheduleError(field, `"${expression}" is not a valid cron expression (${(err as Error).message})`);
  }
}

export function assertTimezone(timezone: string, field = 'timezone'): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidScheduleError(field, `"${timezone}" is not an IANA time zone; use a name such as "Europe/Berlin" or "UTC"`);
  }
}

const UNIT_MS: Record<string, number> = {
  ms: 1, millisecond: 1, s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000,
  h: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000, w: 604_800_000, week: 604_800_000,
};

/** "every 5 minutes", "30s", "1 hour", or a number of milliseconds. */
export function parseInterval(every: string | number, field = 'every'): number {
  if (typeof every === 'number') {
    if (!Number.isFinite(every) || every < 1000) throw new InvalidScheduleError(field, `${every} ms is too short; intervals start at 1000 ms`);
    return Math.floor(every);
  }
  const m = /^\s*(?:every\s+)?(\d+(?:\.\d+)?)?\s*([a-z]+?)s?\s*$/i.exec(every);
  const unit = m?.[2] ? UNIT_MS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new InvalidScheduleError(field, `"${every}" is not an interval; write e.g. "every 5 minutes", "30 seconds", "2h" or a number of milliseconds`);
  }
  return parseInterval(Number(m[1] ?? 1) * unit, field);
}

/**
 * The first occurrence strictly after `previous`. Pure: the same inputs give the same date.
 * `computed` schedules get their dates from the job module and return undefined here.
 */
export function nextOccurrence(spec: ScheduleSpec, previous: number): number | undefined {
  switch (spec.kind) {
    case 'cron': {
      const next = parseCron(spec.expression, spec.timezone).nextRun(new Date(previous));
      return next ? next.getTime() : undefined;
    }
    case 'interval':
      return previous + spec.everyMs;
    case 'computed':
      return undefined;
  }
}

/**
 * Which occurrences to create now, given the one that just ended was due at `lastDueAt`.
 * After an outage several may have been missed: 'once' runs one now (the default), 'skip'
 * jumps to the next future one, 'all' runs each missed one up to `maxCatchUp`.
 */
export function occurrencesToCreate(
  spec: ScheduleSpec,
  lastDueAt: number,
  now: number,
  policy: MissedRunPolicy,
  maxCatchUp: number,
): number[] {
  const missed: number[] = [];
  let next = nextOccurrence(spec, lastDueAt);
  while (next !== undefined && next <= now && missed.length < maxCatchUp) {
    missed.push(next);
    next = nextOccurrence(spec, next);
  }
  // `next` is now the first future occurrence (or the cap stopped us first).
  while (next !== undefined && next <= now) next = nextOccurrence(spec, next);
  if (missed.length === 0) return next === undefined ? [] : [next];
  switch (policy) {
    case 'all':
      return missed;
    case 'once':
      return [missed[missed.length - 1] as number];
    case 'skip':
      return next === undefined ? [] : [next];
  }
}

/** First due time of a new schedule: its first occurrence after `now`. */
export function firstOccurrence(spec: ScheduleSpec, now: number): number | undefined {
  return nextOccurrence(spec, spec.kind === 'interval' ? now - spec.everyMs : now);
}
