import ms from 'ms';
import { ValidationError } from '../errors';

/**
 * Durations: the one parser for every length of time a caller gives (`delay`, `every`,
 * `maxExecutionTime`, `retention`, backoff, `waitFor`). `ms` does the arithmetic; the grammar
 * in front of it is anchored and small, so "500ms" is 500 milliseconds, never 500 minutes:
 *
 *   [every] <number> [space] <unit>      unit: ms, s, m, h, d, w, or their names, singular or plural
 *   every <unit name>                    "every minute", "every hour" (one of it)
 *   a number                             milliseconds
 *
 * Each use has its own bounds (DURATION_BOUNDS), and a value outside them is refused.
 */
export interface DurationBounds {
  readonly min: number;
  readonly max: number;
}

const DAY = 86_400_000;

/** Bounds of each kind of duration, and why. */
export const DURATION_BOUNDS = {
  /** How long to wait before a task is due. The due time itself must stay in the supported range. */
  delay: { min: 0, max: 100 * 365 * DAY },
  /** A schedule's interval: at least a second (the ticker's resolution), at most ten years. */
  interval: { min: 1000, max: 10 * 365 * DAY },
  /** Node timers hold at most 2^31 - 1 ms (about 24.8 days); the runner's time limit is such a timer. */
  maxExecutionTime: { min: 1000, max: 24 * DAY },
  /** How long ended tasks are kept (DynamoDB TTL). */
  retention: { min: 60_000, max: 10 * 365 * DAY },
  /** Backoff between attempts. */
  backoff: { min: 0, max: 365 * DAY },
  /** `waitFor`'s timeout: a Node timer. */
  timeout: { min: 1, max: 24 * DAY },
  /** `waitFor`'s polling interval: not faster than 20 reads a second. */
  poll: { min: 50, max: 3_600_000 },
} as const satisfies Record<string, DurationBounds>;

const UNITS = 'ms|msecs?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?';
const GRAMMAR = new RegExp(`^(?:every\\s+)?(\\d+(?:\\.\\d+)?)\\s*(${UNITS})$`, 'i');
const EVERY_ONE = /^every\s+(millisecond|second|minute|hour|day|week)$/i;
const EXAMPLES = '"500ms", "30 seconds", "every 5 minutes", "2h", "1 day", "1w"';

/** Human form of a number of milliseconds, for messages. */
export const showDuration = (value: number): string => (value < 1000 ? `${value} ms` : `${value} ms (${ms(value, { long: true })})`);

function fromString(value: string, field: string): number {
  const text = value.trim();
  const one = EVERY_ONE.exec(text);
  const m = one ? ['', '1', one[1] as string] : GRAMMAR.exec(text);
  if (!m) {
    if (/^\d+(?:\.\d+)?$/.test(text)) throw new ValidationError(field, `"${value}" has no unit; write e.g. "${text}ms" or "${text}s", or pass the number ${text} for milliseconds`);
    throw new ValidationError(field, `"${value}" is not a duration; write a number and a unit (ms, s, m, h, d, w), e.g. ${EXAMPLES}, or a number of milliseconds`);
  }
  const result = ms(`${m[1]}${(m[2] as string).toLowerCase()}` as ms.StringValue);
  if (!Number.isInteger(result)) throw new ValidationError(field, `"${value}" is ${result} ms, not a whole number of milliseconds; use a smaller unit`);
  return result;
}

/** A duration in milliseconds, within `bounds`. */
export function parseDuration(value: unknown, field: string, bounds: DurationBounds): number {
  let result: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError(field, `is ${value}; pass a number of milliseconds or a duration such as ${EXAMPLES}`);
    if (!Number.isInteger(value)) throw new ValidationError(field, `${value} is not a whole number of milliseconds; round it`);
    result = value;
  } else if (typeof value === 'string') {
    result = fromString(value, field);
  } else {
    throw new ValidationError(field, `is ${value === null ? 'null' : `a ${typeof value}`}; pass a number of milliseconds or a duration such as ${EXAMPLES}`);
  }
  const shown = typeof value === 'string' ? `"${value}" (${showDuration(result)})` : showDuration(result);
  if (result < bounds.min) {
    throw new ValidationError(field, result < 0 ? `${shown} is negative; give ${bounds.min === 0 ? '0' : showDuration(bounds.min)} or more` : `${shown} is shorter than the minimum of ${showDuration(bounds.min)}; give at least that`);
  }
  if (result > bounds.max) throw new ValidationError(field, `${shown} is longer than the maximum of ${showDuration(bounds.max)}; give at most that`);
  return result;
}
