import { defineCatalogue } from '../../../core/catalogue';
import { ConfigError, InvalidScheduleError, JobfleetError, SlotClassUnavailableError, ValidationError } from '../../../core/errors';
import { canonicalArgs } from '../../../core/input/args';
import { DURATION_BOUNDS, parseDuration } from '../../../core/input/duration';
import { initialOccurrences, parseCron } from '../../../core/model/schedule';
import { clientWithoutIo, NOW } from './no-io';

/**
 * Every input of issue 12, with what it does now: a value, or the exact error. The SDK calls run
 * against a deployment that fails any call reaching AWS, so each refusal is proved to come before
 * any I/O (an I/O attempt would surface as a different error and fail its row).
 */
type Outcome = { readonly value: unknown } | { readonly error: new (...args: never[]) => JobfleetError; readonly message: string };

const client = clientWithoutIo();
const TASK = '01KB8ZJ2V9Q4X6W3M5N7P8R0ST.report';
const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString());
const catalogueWith = (job: object) => defineCatalogue({ root: '/', jobs: [{ name: 'a', module: 'a.js', ...job }] });
const deep = (levels: number): unknown => (levels === 0 ? 1 : { d: deep(levels - 1) });
const ANY_TIME = 'pass a Date, an ISO 8601 string with an offset such as "2027-01-10T12:00:00Z" or "2027-01-10T13:00:00+01:00", or epoch milliseconds';
const RANGE = 'is outside the supported range 2000-01-01T00:00:00.000Z to 2199-12-31T23:59:59.999Z; give a time inside it';
const hourly = { kind: 'interval', everyMs: 3_600_000 } as const;
const startedAt9 = Date.parse('2027-01-10T09:00:00Z'); // three hours before NOW (12:00)

const rows: [string, () => unknown, Outcome][] = [
  // `ms` is milliseconds
  ["delay '500ms'", () => parseDuration('500ms', 'options.delay', DURATION_BOUNDS.delay), { value: 500 }],
  ["delay '5 ms'", () => parseDuration('5 ms', 'options.delay', DURATION_BOUNDS.delay), { value: 5 }],
  ["every 'every 1000ms'", () => parseDuration('every 1000ms', 'options.every', DURATION_BOUNDS.interval), { value: 1000 }],
  ["every '5 ms' (intervals start at 1 s)", () => client.schedules.create('report', null, { every: '5 ms' }), { error: InvalidScheduleError, message: 'options.every: "5 ms" (5 ms) is shorter than the minimum of 1000 ms (1 second); give at least that' }],
  ["maxExecutionTime '500ms'", () => catalogueWith({ maxExecutionTime: '500ms' }), { error: ConfigError, message: 'invalid job catalogue:\n  - jobs.a.maxExecutionTime: "500ms" (500 ms) is shorter than the minimum of 1000 ms (1 second); give at least that' }],
  ["retention '5 ms'", () => catalogueWith({ retention: '5 ms' }), { error: ConfigError, message: 'invalid job catalogue:\n  - jobs.a.retention: "5 ms" (5 ms) is shorter than the minimum of 60000 ms (1 minute); give at least that' }],
  ["maxExecutionTime '2 hours'", () => catalogueWith({ maxExecutionTime: '2 hours' }).get('a').snapshot.maxExecutionMs, { value: 7_200_000 }],
  ["delay '500' (no unit)", () => client.schedule('report', null, { delay: '500' }), { error: ValidationError, message: 'options.delay: "500" has no unit; write e.g. "500ms" or "500s", or pass the number 500 for milliseconds' }],

  // far-future times
  ["at '2300-01-01T00:00:00Z'", () => client.schedule('report', null, { at: '2300-01-01T00:00:00Z' }), { error: ValidationError, message: `options.at: "2300-01-01T00:00:00Z" ${RANGE}` }],
  ['delay 1e13', () => client.schedule('report', null, { delay: 1e13 }), { error: ValidationError, message: 'options.delay: 10000000000000 ms (115741 days) is longer than the maximum of 3153600000000 ms (36500 days); give at most that' }],
  ["delay '20000 weeks'", () => client.schedule('report', null, { delay: '20000 weeks' }), { error: ValidationError, message: 'options.delay: "20000 weeks" (12096000000000 ms (140000 days)) is longer than the maximum of 3153600000000 ms (36500 days); give at most that' }],
  ["at year 9999", () => client.schedule('report', null, { at: '9999-12-31T00:00:00Z' }), { error: ValidationError, message: `options.at: "9999-12-31T00:00:00Z" ${RANGE}` }],
  ['at past 2^53', () => client.schedule('report', null, { at: 2 ** 53 + 2 }), { error: ValidationError, message: `options.at: 9007199254740994 ${RANGE}` }],
  ['delay 2^53', () => client.schedule('report', null, { delay: 2 ** 53 }), { error: ValidationError, message: 'options.delay: 9007199254740992 ms (104249991 days) is longer than the maximum of 3153600000000 ms (36500 days); give at most that' }],

  // impossible dates, and strings without an offset
  ["at '2027-02-30'", () => client.schedule('report', null, { at: '2027-02-30' }), { error: ValidationError, message: 'options.at: "2027-02-30" is not a date on the calendar (2027-02 has no day 30); give a date that exists, with a time and offset' }],
  ["at '2027-02-30T09:00:00Z'", () => client.schedule('report', null, { at: '2027-02-30T09:00:00Z' }), { error: ValidationError, message: 'options.at: "2027-02-30T09:00:00Z": 2027-02 has no day 30 (it has 28 days); give a date that exists' }],
  ["at '2027-04-31T09:00:00+02:00'", () => client.schedule('report', null, { at: '2027-04-31T09:00:00+02:00' }), { error: ValidationError, message: 'options.at: "2027-04-31T09:00:00+02:00": 2027-04 has no day 31 (it has 30 days); give a date that exists' }],
  ["at '2027-01-10T12:00:00' (no offset)", () => client.schedule('report', null, { at: '2027-01-10T12:00:00' }), { error: ValidationError, message: 'options.at: "2027-01-10T12:00:00" has no offset, so machines in different time zones would read it differently; add "Z" for UTC or an offset such as "+01:00"' }],
  ["at '2027-01-10' (no time)", () => client.schedule('report', null, { at: '2027-01-10' }), { error: ValidationError, message: 'options.at: "2027-01-10" has no time of day or offset; write e.g. "2027-01-10T00:00:00Z"' }],

  // schedules
  ["cron '0 0 30 2 *'", () => client.schedules.create('report', null, { cron: '0 0 30 2 *' }), { error: InvalidScheduleError, message: 'options.cron: "0 0 30 2 *" never fires: no date matches its day and month fields (e.g. 30 February); check those fields' }],
  ["declared schedule id 'a#1'", () => catalogueWith({ schedules: [{ id: 'a#1', every: '1h' }] }), { error: ConfigError, message: 'invalid job catalogue:\n  - jobs.a.schedules.a#1.id: "a#1" is not a schedule id; use 1 to 100 letters, digits, and _ . : -' }],
  [
    'the same declared id under two jobs',
    () => defineCatalogue({ root: '/', jobs: [{ name: 'a', module: 'a.js', schedules: [{ id: 'x', every: '1h' }] }, { name: 'b', module: 'b.js', schedules: [{ id: 'x', every: '1h' }] }] }),
    { error: ConfigError, message: 'invalid job catalogue:\n  - jobs.b.schedules.x.id: "x" is declared twice (also under job "a"); schedule ids are unique across the catalogue: give one another id' },
  ],
  ["declared cron '0 0 30 2 *' (the SDK's validation)", () => catalogueWith({ schedules: [{ id: 'feb', cron: '0 0 30 2 *' }] }), { error: ConfigError, message: 'invalid job catalogue:\n  - jobs.a.schedules.feb.cron: "0 0 30 2 *" never fires: no date matches its day and month fields (e.g. 30 February); check those fields' }],
  ["declared schedule with a typo ('crons')", () => catalogueWith({ schedules: [{ id: 'x', crons: '@daily' }] }), { error: ConfigError, message: 'invalid job catalogue:\n  - jobs.a.schedules.x: unknown option "crons"; the options are: id, cron, timezone, every, computed, startAt, missedRuns, maxCatchUp, priority' }],
  [
    "startAt 2027-01-10T12:00Z, '0 30 2 * * *' in New York",
    () => iso(initialOccurrences({ kind: 'cron', expression: '0 30 2 * * *', timezone: 'America/New_York' }, Date.parse('2027-01-10T12:00:00Z'), Date.parse('2027-01-01T00:00:00Z'), 'once', 10)),
    { value: ['2027-01-11T07:30:00.000Z'] },
  ],
  ["past startAt, hourly, missedRuns 'all', maxCatchUp 2", () => iso(initialOccurrences(hourly, startedAt9, NOW + 1, 'all', 2)), { value: ['2027-01-10T09:00:00.000Z', '2027-01-10T10:00:00.000Z'] }],
  ["past startAt, hourly, missedRuns 'once'", () => iso(initialOccurrences(hourly, startedAt9, NOW + 1, 'once', 10)), { value: ['2027-01-10T12:00:00.000Z'] }],
  ["past startAt, hourly, missedRuns 'skip'", () => iso(initialOccurrences(hourly, startedAt9, NOW + 1, 'skip', 10)), { value: ['2027-01-10T13:00:00.000Z'] }],

  // args
  ['args { when: Date }', () => client.schedule('report', { when: new Date('2027-01-10T12:00:00Z') }), { error: ValidationError, message: 'args.when: is a Date; pass an ISO 8601 string (value.toISOString(): "2027-01-10T12:00:00.000Z")' }],
  ['args [1, undefined, 3]', () => client.schedule('report', [1, undefined, 3]), { error: ValidationError, message: 'args[1]: is undefined, which JSON cannot hold in this place; pass null, or leave the element out' }],
  ['args { m: Map }', () => client.schedule('report', { m: new Map([['a', 1]]) }), { error: ValidationError, message: 'args.m: is a Map; pass a plain object (Object.fromEntries(map)) or an array of [key, value] pairs' }],
  ['args { s: Set }', () => client.schedule('report', { s: new Set([1]) }), { error: ValidationError, message: 'args.s: is a Set; pass an array ([...set])' }],
  ['args { x: NaN }', () => client.schedule('report', { x: NaN }), { error: ValidationError, message: 'args.x: is NaN, which JSON cannot hold (it becomes null); pass a finite number, null, or a string' }],
  ['args { id: 2^53 + 2 }', () => client.schedule('report', { id: 2 ** 53 + 2 }), { error: ValidationError, message: 'args.id: 9007199254740994 is past the safe integer range (±9007199254740991): it may not be the number you meant, and the DynamoDB marshalling refuses it; pass it as a string' }],
  ['args nested 33 levels', () => client.schedule('report', deep(33)), { error: ValidationError, message: `args${'.d'.repeat(30)}: nests deeper than 30 levels, more than DynamoDB stores; flatten the structure, or store it in S3 and pass its key` }],
  ['args { a: 1, b: undefined } (undefined properties are left out, as JSON does)', () => canonicalArgs({ a: 1, b: undefined, c: [null, 'x'] }), { value: { a: 1, c: [null, 'x'] } }],

  // the smaller ones
  ['waitFor timeoutMs NaN', () => client.waitFor(TASK, { timeoutMs: NaN }), { error: ValidationError, message: 'options.timeoutMs: is NaN; pass a number of milliseconds or a duration such as "500ms", "30 seconds", "every 5 minutes", "2h", "1 day", "1w"' }],
  ['waitFor pollMs 0', () => client.waitFor(TASK, { pollMs: 0 }), { error: ValidationError, message: 'options.pollMs: 0 ms is shorter than the minimum of 50 ms; give at least that' }],
  ['waitFor pollMs -1', () => client.waitFor(TASK, { pollMs: -1 }), { error: ValidationError, message: 'options.pollMs: -1 ms is negative; give 50 ms or more' }],
  ['waitFor pollMs NaN', () => client.waitFor(TASK, { pollMs: NaN }), { error: ValidationError, message: 'options.pollMs: is NaN; pass a number of milliseconds or a duration such as "500ms", "30 seconds", "every 5 minutes", "2h", "1 day", "1w"' }],
  [
    'concurrencyLimit 1e9',
    () => client.schedule('sync-tenant', null, { concurrencyKey: 't', concurrencyLimit: 1e9 }),
    { error: ValidationError, message: "options.concurrencyLimit: must be a whole number from 1 to 1000 (tasks with this concurrencyKey running at once), and no more than the job's maxConcurrencyPerKey" },
  ],
  [
    "concurrencyLimit 5 over the job's maxConcurrencyPerKey 2",
    () => client.schedule('sync-tenant', null, { concurrencyKey: 't', concurrencyLimit: 5 }),
    { error: ValidationError, message: 'options.concurrencyLimit: 5 is above job "sync-tenant"\'s maxConcurrencyPerKey of 2, which a caller cannot raise; pass 2 or less, or raise it in the catalogue' },
  ],
  ['maxConcurrencyPerKey 1e9 in the catalogue', () => catalogueWith({ maxConcurrencyPerKey: 1e9 }), { error: ConfigError, message: 'invalid job catalogue:\n  - jobs.a.maxConcurrencyPerKey: 1000000000 must be a whole number from 1 to 1000 (the counter item holds each running task\'s id)' }],
  [
    'startAfter of 5,000 characters',
    () => client.schedule('report', null, { startAfter: 'x'.repeat(5000) }),
    { error: ValidationError, message: `options.startAfter: "${'x'.repeat(60)}..." (5000 characters) is not a task id; pass the "id" of a task that schedule() returned, e.g. "01KB8ZJ2V9Q4X6W3M5N7P8R0ST.report"` },
  ],
  ['at NaN', () => client.schedule('report', null, { at: NaN }), { error: ValidationError, message: `options.at: is NaN; ${ANY_TIME}` }],
  ['at Infinity', () => client.schedule('report', null, { at: Infinity }), { error: ValidationError, message: `options.at: is Infinity; ${ANY_TIME}` }],
  ['at Invalid Date', () => client.schedule('report', null, { at: new Date('nope') }), { error: ValidationError, message: `options.at: is an Invalid Date (the Date constructor could not read what it was given); ${ANY_TIME}` }],
  ['at epoch seconds', () => client.schedule('report', null, { at: 1_799_596_800 }), { error: ValidationError, message: 'options.at: 1799596800 looks like epoch seconds (2027-01-10T16:00:00.000Z); times are epoch milliseconds: pass 1799596800000' }],
  ["cron '@daily'", () => parseCron('@daily', 'UTC').nextRun(new Date(NOW))?.toISOString(), { value: '2027-01-11T00:00:00.000Z' }],
  ["cron 'daily'", () => client.schedules.create('report', null, { cron: 'daily' }), { error: InvalidScheduleError, message: 'options.cron: "daily" has 1 field; use 5 (minute hour day month weekday) or 6 (with seconds first), e.g. "0 */5 * * * *", or a nickname such as "@daily"' }],
  ["delay '0s'", () => parseDuration('0s', 'options.delay', DURATION_BOUNDS.delay), { value: 0 }],
  ['delay 0', () => parseDuration(0, 'options.delay', DURATION_BOUNDS.delay), { value: 0 }],

  // issue 11: a slot class the deployment lacks
  [
    'schedule() of a job whose class has no queue',
    () => client.schedule('render', null),
    { error: SlotClassUnavailableError, message: 'job: job "render" runs in slot class "large", which this deployment has no queue for (it has: small); deploy the fleet configuration that defines "large", or give the job slots that fit one of those classes' },
  ],
  [
    'schedules.create() of a job whose class has no queue',
    () => client.schedules.create('render', null, { every: '1h' }),
    { error: SlotClassUnavailableError, message: 'job: job "render" runs in slot class "large", which this deployment has no queue for (it has: small); deploy the fleet configuration that defines "large", or give the job slots that fit one of those classes' },
  ],
];

describe('every input of issue 12, and what it does now', () => {
  it.each(rows)('%s', async (_label, run, outcome) => {
    if ('value' in outcome) {
      await expect(Promise.resolve().then(run)).resolves.toEqual(outcome.value);
      return;
    }
    const thrown = await Promise.resolve()
      .then(run)
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(thrown).toBeInstanceOf(outcome.error);
    expect((thrown as Error).message).toBe(outcome.message);
  });
});
