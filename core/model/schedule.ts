import { Cron } from 'croner';
import { InvalidScheduleError, ValidationError } from '../errors';
import { DURATION_BOUNDS, parseDuration } from '../input/duration';
import { EARLIEST_TIME, LATEST_TIME } from '../input/instant';
import type { MissedRunPolicy, ScheduleSpec } from './task';

/** Cron nicknames croner understands; anything else starting with "@" is refused with this list. */
const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * Accepts 5-field (minute) or 6-field (with seconds) cron, or a nickname such as "@daily"; throws
 * a typed error naming the field. A cron that can never fire (day 30 of February) is refused too.
 */
export function parseCron(expression: unknown, timezone: unknown, field = 'cron', timezoneField = `${field}.timezone`): Cron {
  assertTimezone(timezone, timezoneField);
  if (typeof expression !== 'string') throw new InvalidScheduleError(field, `is a ${typeof expression}; pass a cron expression string such as "0 30 2 * * *" or "@daily"`);
  const text = expression.trim();
  if (text.startsWith('@')) {
    if (!NICKNAMES.includes(text.toLowerCase())) throw new InvalidScheduleError(field, `"${expression}" is not a cron nickname we support; use one of ${NICKNAMES.join(', ')}, or 5 or 6 fields`);
  } else {
    const parts = text === '' ? [] : text.split(/\s+/);
    if (parts.length < 5 || parts.length > 6) {
      throw new InvalidScheduleError(field, `"${expression}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; use 5 (minute hour day month weekday) or 6 (with seconds first), e.g. "0 */5 * * * *", or a nickname such as "@daily"`);
    }
  }
  let cron: Cron;
  try {
    cron = new Cron(text, { timezone: timezone as string, paused: true });
  } catch (err) {
    throw new InvalidScheduleError(field, `"${expression}" is not a valid cron expression (${(err as Error).message.replace(/^CronPattern: /, '')})`);
  }
  const first = cron.nextRun(new Date(EARLIEST_TIME - 1));
  if (!first || first.getTime() > LATEST_TIME) {
    throw new InvalidScheduleError(field, `"${expression}" never fires: no date matches its day and month fields (e.g. 30 February); check those fields`);
  }
  return cron;
}

export function assertTimezone(timezone: unknown, field = 'timezone'): void {
  try {
    if (typeof timezone !== 'string' || timezone === '') throw new Error('not a string');
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidScheduleError(field, `${JSON.stringify(timezone) ?? String(timezone)} is not an IANA time zone; use a name such as "Europe/Berlin" or "UTC"`);
  }
}

/** "every 5 minutes", "30s", "1 hour", or a number of milliseconds (see core/input/duration.ts); from 1 second to 10 years. */
export function parseInterval(every: unknown, field = 'every'): number {
  try {
    return parseDuration(every, field, DURATION_BOUNDS.interval);
  } catch (err) {
    if (err instanceof ValidationError) throw new InvalidScheduleError(err.field, err.problem);
    throw err;
  }
}

/** What a schedule is given as, by the SDK (`schedules.create`) and the catalogue alike. */
export interface ScheduleInput {
  readonly cron?: unknown;
  readonly timezone?: unknown;
  readonly every?: unknown;
  readonly computed?: unknown;
}

/**
 * The one schedule validation, run by `schedules.create` and by `defineCatalogue`, so the catalogue
 * accepts exactly what the SDK does. `at` prefixes the fields ("options", "jobs.report.schedules.nightly").
 */
export function scheduleSpecOf(input: ScheduleInput, at: string, allowComputed = true): ScheduleSpec {
  const kinds = [input.cron !== undefined, input.every !== undefined, input.computed !== undefined].filter(Boolean).length;
  const choices = allowComputed ? '"cron", "every" or "computed: true"' : '"cron" or "every"';
  if (kinds !== 1) throw new InvalidScheduleError(at, `give exactly one of ${choices}`);
  if (input.timezone !== undefined && input.cron === undefined) throw new InvalidScheduleError(`${at}.timezone`, 'only applies to "cron" schedules; leave it out, or use "cron"');
  if (input.cron !== undefined) {
    const timezone = input.timezone ?? 'UTC';
    parseCron(input.cron, timezone, `${at}.cron`, `${at}.timezone`);
    return { kind: 'cron', expression: (input.cron as string).trim(), timezone: timezone as string };
  }
  if (input.every !== undefined) return { kind: 'interval', everyMs: parseInterval(input.every, `${at}.every`) };
  if (!allowComputed) throw new InvalidScheduleError(`${at}.computed`, 'declared schedules cannot be computed; create a computed schedule through the SDK');
  if (input.computed !== true) throw new InvalidScheduleError(`${at}.computed`, 'must be true when given');
  return { kind: 'computed' };
}

const cronOf = (spec: Extract<ScheduleSpec, { kind: 'cron' }>) => new Cron(spec.expression, { timezone: spec.timezone, paused: true });
const inRange = (t: number | undefined): number | undefined => (t === undefined || t > LATEST_TIME ? undefined : t);

/**
 * The first occurrence strictly after `previous`. Pure: the same inputs give the same date.
 * `computed` schedules get their dates from the job module and return undefined here, and so does
 * a schedule whose next time would be past the supported range (LATEST_TIME): it ends there.
 */
export function nextOccurrence(spec: ScheduleSpec, previous: number): number | undefined {
  switch (spec.kind) {
    case 'cron':
      return inRange(cronOf(spec).nextRun(new Date(previous))?.getTime());
    case 'interval':
      return inRange(previous + spec.everyMs);
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

/** First due time of a new (or resumed) schedule with no start time: its first occurrence after `now` (an interval's is now). */
export function firstOccurrence(spec: ScheduleSpec, now: number): number | undefined {
  return nextOccurrence(spec, spec.kind === 'interval' ? now - spec.everyMs : now);
}

/** The first of the schedule's own times at or after `startAt`: a cron's next matching time, or `startAt` itself for an interval (whose times are startAt + k * every) and a computed schedule. */
export function firstAtOrAfter(spec: ScheduleSpec, startAt: number): number | undefined {
  return spec.kind === 'cron' ? nextOccurrence(spec, startAt - 1) : startAt;
}

/**
 * The occurrences a new schedule starts with. Without `startAt`: its first time after now. With a
 * future `startAt`: its first time at or after it. With a past `startAt`, the times from it to now
 * were missed, and `missedRuns` decides as after an outage: 'all' creates the missed ones (at most
 * `maxCatchUp` at once; the rest follow as those end), 'once' the latest missed one, 'skip' none
 * but the first future one. A computed schedule starts at `startAt`, past or not: its later dates
 * come from the job. Each time is computed directly (never by stepping through every missed one).
 */
export function initialOccurrences(spec: ScheduleSpec, startAt: number | undefined, now: number, policy: MissedRunPolicy, maxCatchUp: number): number[] {
  const first = startAt === undefined ? (spec.kind === 'computed' ? now : firstOccurrence(spec, now)) : firstAtOrAfter(spec, startAt);
  if (first === undefined) return [];
  if (first >= now || spec.kind === 'computed') return [first];
  const future = spec.kind === 'interval' ? inRange(first + Math.ceil((now - first) / spec.everyMs) * spec.everyMs) : nextOccurrence(spec, now - 1);
  switch (policy) {
    case 'all': {
      const missed: number[] = [];
      for (let t: number | undefined = first; t !== undefined && t < now && missed.length < maxCatchUp; t = nextOccurrence(spec, t)) missed.push(t);
      return missed;
    }
    case 'once': {
      const latest = spec.kind === 'interval' ? first + Math.floor((now - 1 - first) / spec.everyMs) * spec.everyMs : (cronOf(spec).previousRuns(1, new Date(now))[0]?.getTime() ?? first);
      return [Math.max(first, latest)];
    }
    case 'skip':
      return future === undefined ? [] : [future];
  }
}
