import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { ValidationError } from '../../../core/errors';
import { canonicalArgs } from '../../../core/input/args';
import { DURATION_BOUNDS, parseDuration } from '../../../core/input/duration';
import { EARLIEST_TIME, LATEST_TIME, parseInstant } from '../../../core/input/instant';
import { ENCODABLE_TIME_MAX, encodeSortTime, MAX_PRIORITY, schedSk, timeUpperBound, TimeEncodingError } from '../../../core/model/keys';
import { initialOccurrences } from '../../../core/model/schedule';

/** Either a value, or a ValidationError: never anything untyped. */
const parsesOrRefuses = (run: () => unknown): boolean => {
  try {
    run();
    return true;
  } catch (err) {
    if (err instanceof ValidationError) return true;
    throw err;
  }
};

const validTime = fc.integer({ min: EARLIEST_TIME, max: LATEST_TIME });
const priority = fc.integer({ min: 0, max: MAX_PRIORITY });
const id = fc.stringMatching(/^[0-9A-Z]{26}\.[a-z]{1,8}$/);

describe('the sort-key time encoding', () => {
  it('sorts as the times do: for all valid times a < b, key(a) < key(b), whatever the priorities and ids', () => {
    fc.assert(
      fc.property(validTime, validTime, priority, priority, id, id, (x, y, p, q, i, j) => {
        fc.pre(x !== y);
        const [a, b] = x < y ? [x, y] : [y, x];
        expect(schedSk(a, p, i) < schedSk(b, q, j)).toBe(true);
        // A query up to `a` includes every entry at `a` and none after it.
        expect(schedSk(a, p, i) <= timeUpperBound(a)).toBe(true);
        expect(timeUpperBound(a) < schedSk(b, q, j)).toBe(true);
      }),
    );
  });

  it('holds over the whole encodable range, far beyond the input range (leases and backoffs added on top)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ENCODABLE_TIME_MAX }), fc.integer({ min: 0, max: ENCODABLE_TIME_MAX }), (x, y) => {
        fc.pre(x !== y);
        expect(encodeSortTime(Math.min(x, y)) < encodeSortTime(Math.max(x, y))).toBe(true);
      }),
    );
    expect(LATEST_TIME + 365 * 86_400_000 * 80).toBeLessThan(ENCODABLE_TIME_MAX);
  });

  it('refuses a time it could not sort, instead of writing it where it sorts before now', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: ENCODABLE_TIME_MAX + 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ max: -1 }), fc.constant(NaN)), (t) => {
        expect(() => encodeSortTime(t)).toThrow(TimeEncodingError);
      }),
    );
  });
});

describe('instants', () => {
  const offsetMinutes = fc.integer({ min: -14 * 60, max: 14 * 60 });
  const two = (n: number) => String(n).padStart(2, '0');
  /** The same instant written in another offset, as a caller elsewhere would. */
  const withOffset = (ms: number, minutes: number): string => {
    const local = new Date(ms + minutes * 60_000).toISOString().slice(0, 23);
    const sign = minutes < 0 ? '-' : '+';
    const abs = Math.abs(minutes);
    return `${local}${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
  };

  it('reads every valid time back exactly, as an ISO string in any offset, a Date or epoch milliseconds', () => {
    fc.assert(
      fc.property(validTime, offsetMinutes, (ms, minutes) => {
        expect(parseInstant(new Date(ms).toISOString(), 'at')).toBe(ms);
        expect(parseInstant(withOffset(ms, minutes), 'at')).toBe(ms);
        expect(parseInstant(new Date(ms), 'at')).toBe(ms);
        expect(parseInstant(ms, 'at')).toBe(ms);
      }),
    );
  });

  it('never rolls a day over: a day past the end of its month is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2000, max: 2199 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (year, month, day) => {
        const text = `${year}-${two(month)}-${two(day)}T00:00:00Z`;
        const exists = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
        if (exists) expect(parseInstant(text, 'at')).toBe(Date.UTC(year, month - 1, day));
        else expect(() => parseInstant(text, 'at')).toThrow(/has no day/);
      }),
    );
  });

  it('for any input at all, gives a time in the supported range or a ValidationError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.integer(), fc.date({ noInvalidDate: false }), fc.anything()), (value) => {
        expect(
          parsesOrRefuses(() => {
            const ms = parseInstant(value, 'at');
            expect(ms >= EARLIEST_TIME && ms <= LATEST_TIME).toBe(true);
          }),
        ).toBe(true);
      }),
    );
  });
});

describe('durations', () => {
  const units: [string[], number][] = [
    [['ms', 'msec', 'msecs', 'millisecond', 'milliseconds'], 1],
    [['s', 'sec', 'secs', 'second', 'seconds'], 1000],
    [['m', 'min', 'mins', 'minute', 'minutes'], 60_000],
    [['h', 'hr', 'hrs', 'hour', 'hours'], 3_600_000],
    [['d', 'day', 'days'], 86_400_000],
    [['w', 'week', 'weeks'], 604_800_000],
  ];
  const unit = fc.constantFrom(...units.flatMap(([names, factor]) => names.map((name) => [name, factor] as const)));

  it('means exactly what was written: n units are n times the unit, with or without a space or "every"', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), unit, fc.constantFrom('', ' ', '  '), fc.constantFrom('', 'every ', 'EVERY '), (n, [name, factor], space, every) => {
        expect(parseDuration(`${every}${n}${space}${name}`, 'delay', { min: 0, max: Number.MAX_SAFE_INTEGER })).toBe(n * factor);
      }),
    );
  });

  it('keeps every result inside its bounds, for any input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.integer(), fc.anything()), fc.constantFrom(...Object.values(DURATION_BOUNDS)), (value, bounds) => {
        expect(
          parsesOrRefuses(() => {
            const ms = parseDuration(value, 'delay', bounds);
            expect(Number.isInteger(ms) && ms >= bounds.min && ms <= bounds.max).toBe(true);
          }),
        ).toBe(true);
      }),
    );
  });
});

describe('args: one canonical form', () => {
  const key = fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }).filter((k) => k !== '__proto__');
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.double({ min: -1e15, max: 1e15, noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0) && (x === 0 || Math.abs(x) >= 1e-100)),
    fc.string({ unit: 'grapheme' }),
  );
  const { json } = fc.letrec((tie) => ({
    json: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('json'), { maxLength: 4 }), fc.dictionary(key, tie('json'), { maxKeys: 4 })),
  }));
  /** What the task item's args go through on the way to DynamoDB and back to the job, with the client's options. */
  const throughDynamo = (args: unknown): unknown =>
    unmarshall(marshall({ args }, { removeUndefinedValues: true, convertClassInstanceToMap: true })).args;

  it('keeps JSON data as it is: what is validated is what is stored and what the job receives', () => {
    fc.assert(
      fc.property(json, (value) => {
        const canonical = canonicalArgs(value, 1e9);
        expect(canonical).toEqual(value);
        expect(canonical).toEqual(JSON.parse(JSON.stringify(value)));
        expect(throughDynamo(canonical)).toEqual(canonical);
      }),
    );
  });

  it('for any value at all, refuses it with a ValidationError or gives its JSON round trip, which DynamoDB keeps as it is', () => {
    fc.assert(
      fc.property(fc.anything({ withDate: true, withMap: true, withSet: true, withBigInt: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBoxedValues: true }), (value) => {
        expect(
          parsesOrRefuses(() => {
            const canonical = canonicalArgs(value, 1e9);
            expect(canonical).toStrictEqual(JSON.parse(JSON.stringify(value ?? null)));
            expect(throughDynamo(canonical)).toStrictEqual(canonical);
          }),
        ).toBe(true);
      }),
    );
  });
});

describe('a schedule starting at a past startAt follows missedRuns', () => {
  const every = fc.integer({ min: 1000, max: 86_400_000 });
  it('stays on the schedule\'s own times (startAt + k x every): all catches up to maxCatchUp, once runs the latest missed, skip the next', () => {
    fc.assert(
      fc.property(validTime, every, fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 50 }), (startAt, everyMs, steps, maxCatchUp) => {
        const now = Math.min(LATEST_TIME - 2 * everyMs, startAt + Math.floor(steps * everyMs * 0.77) + 1);
        fc.pre(now > startAt);
        const spec = { kind: 'interval', everyMs } as const;
        const onGrid = (t: number) => t >= startAt && (t - startAt) % everyMs === 0;
        const all = initialOccurrences(spec, startAt, now, 'all', maxCatchUp);
        expect(all[0]).toBe(startAt);
        expect(all.length).toBe(Math.min(maxCatchUp, Math.ceil((now - startAt) / everyMs)));
        expect(all.every((t, i) => onGrid(t) && t < now && (i === 0 || t === (all[i - 1] as number) + everyMs))).toBe(true);
        const [once] = initialOccurrences(spec, startAt, now, 'once', maxCatchUp) as [number];
        expect(onGrid(once) && once < now && once + everyMs >= now).toBe(true);
        const [skip] = initialOccurrences(spec, startAt, now, 'skip', maxCatchUp) as [number];
        expect(onGrid(skip) && skip >= now && skip - everyMs < now).toBe(true);
      }),
    );
  });
});
