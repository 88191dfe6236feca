import { ValidationError } from '../errors';

/**
 * Instants: the one parser for every time a caller gives (`at`, `expiresAt`, `startAt`, the CLI's
 * `--at`). A time means exactly what was written or is refused: ISO 8601 strings need an explicit
 * offset (or `Z`) and a date that exists on the calendar, numbers are epoch milliseconds.
 */
export type TimeInput = Date | string | number;

/**
 * The supported range. Every stored time lies in it, so the 13-digit time encoding of the
 * scheduling keys (core/model/keys.ts, valid for 0 to 10^13 - 1) sorts them correctly, with room
 * to spare for leases and backoffs added on top.
 */
export const EARLIEST_TIME = Date.UTC(2000, 0, 1);
export const LATEST_TIME = Date.UTC(2200, 0, 1) - 1;

const RANGE = `${new Date(EARLIEST_TIME).toISOString()} to ${new Date(LATEST_TIME).toISOString()}`;
const PASS = 'pass a Date, an ISO 8601 string with an offset such as "2027-01-10T12:00:00Z" or "2027-01-10T13:00:00+01:00", or epoch milliseconds';

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const NO_OFFSET = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Checks a time (epoch ms) against the supported range. */
export function checkTimeInRange(ms: number, field: string, shown: string): number {
  if (ms < EARLIEST_TIME || ms > LATEST_TIME) {
    throw new ValidationError(field, `${shown} is outside the supported range ${RANGE}; give a time inside it`);
  }
  return ms;
}

function parseIso(value: string, field: string): number {
  const shown = JSON.stringify(value);
  const m = ISO.exec(value);
  if (!m) {
    const date = DATE_ONLY.exec(value);
    if (date) {
      const [y, mo, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
      if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) throw new ValidationError(field, `${shown} is not a date on the calendar (${date[1]}-${date[2]} has no day ${date[3]}); give a date that exists, with a time and offset`);
      throw new ValidationError(field, `${shown} has no time of day or offset; write e.g. "${value}T00:00:00Z"`);
    }
    if (NO_OFFSET.test(value.trim())) {
      throw new ValidationError(field, `${shown} has no offset, so machines in different time zones would read it differently; add "Z" for UTC or an offset such as "+01:00"`);
    }
    throw new ValidationError(field, `${shown} is not an ISO 8601 time; ${PASS}`);
  }
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i])) as [number, number, number, number, number];
  const second = Number(m[6] ?? 0);
  const millis = Number((m[7] ?? '').padEnd(3, '0') || 0);
  if (month < 1 || month > 12) throw new ValidationError(field, `${shown} has month ${m[2]}; months go from 01 to 12`);
  if (day < 1 || day > daysIn(year, month)) {
    throw new ValidationError(field, `${shown}: ${m[1]}-${m[2]} has no day ${m[3]} (it has ${daysIn(year, month)} days); give a date that exists`);
  }
  if (hour > 23 || minute > 59 || second > 59) throw new ValidationError(field, `${shown} has no such time of day (hours 00-23, minutes and seconds 00-59)`);
  let offset = 0;
  if (!m[8]) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) throw new ValidationError(field, `${shown} has an offset out of range; offsets go from -23:59 to +23:59`);
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return checkTimeInRange(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset, field, shown);
}

function parseEpoch(value: number, field: string): number {
  if (Number.isNaN(value)) throw new ValidationError(field, `is NaN; ${PASS}`);
  if (!Number.isFinite(value)) throw new ValidationError(field, `is ${value}; ${PASS}`);
  if (!Number.isInteger(value)) throw new ValidationError(field, `${value} is not a whole number of epoch milliseconds; round it, or ${PASS}`);
  if (value >= EARLIEST_TIME / 1000 && value <= LATEST_TIME / 1000) {
    throw new ValidationError(field, `${value} looks like epoch seconds (${new Date(value * 1000).toISOString()}); times are epoch milliseconds: pass ${value * 1000}`);
  }
  return checkTimeInRange(value, field, String(value));
}

/** A time as epoch milliseconds, from a Date, an ISO 8601 string with an offset, or epoch milliseconds. */
export function parseInstant(value: unknown, field: string): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new ValidationError(field, `is an Invalid Date (the Date constructor could not read what it was given); ${PASS}`);
    return checkTimeInRange(ms, field, value.toISOString());
  }
  if (typeof value === 'number') return parseEpoch(value, field);
  if (typeof value === 'string') return parseIso(value, field);
  throw new ValidationError(field, `is ${value === null ? 'null' : `a ${typeof value}`}; ${PASS}`);
}
