import { ValidationError } from '../errors';
import { JOB_NAME, parseTaskId } from '../model/keys';

/** Shapes of the ids a caller passes, checked before any read, so a malformed id never reaches DynamoDB. */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** An occurrence's stem: the ULID time part, "OC", ten hex digits (see occurrenceId in core/model/keys.ts). */
const OCCURRENCE = /^[0-9A-HJKMNP-TV-Z]{10}OC[0-9A-F]{10}$/;

export const SCHEDULE_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
export const SCHEDULE_ID_RULE = 'use 1 to 100 letters, digits, and _ . : -';

export function checkTaskId(value: unknown, field: string): string {
  const shown = typeof value === 'string' ? (value.length > 80 ? `"${value.slice(0, 60)}..." (${value.length} characters)` : JSON.stringify(value)) : `a ${value === null ? 'null' : typeof value}`;
  const parsed = typeof value === 'string' && value.length <= 100 ? parseTaskId(value) : undefined;
  if (!parsed || !(ULID.test(parsed.stem) || OCCURRENCE.test(parsed.stem)) || !JOB_NAME.test(parsed.job)) {
    throw new ValidationError(field, `${shown} is not a task id; pass the "id" of a task that schedule() returned, e.g. "01KB8ZJ2V9Q4X6W3M5N7P8R0ST.report"`);
  }
  return value as string;
}

export function checkScheduleId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !SCHEDULE_ID.test(value)) {
    throw new ValidationError(field, `${typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 60)}...` : value) : `a ${typeof value}`} is not a schedule id; ${SCHEDULE_ID_RULE}`);
  }
  return value;
}

export const IDEMPOTENCY_KEY_MAX = 200;

export function checkIdempotencyKey(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > IDEMPOTENCY_KEY_MAX) {
    throw new ValidationError(field, `${typeof value === 'string' ? `is ${value.length} characters` : `is a ${typeof value}`}; pass a string of 1 to ${IDEMPOTENCY_KEY_MAX} characters, e.g. "invoice-2027-01-42"`);
  }
  return value;
}
