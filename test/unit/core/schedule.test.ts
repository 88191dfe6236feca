import { InvalidScheduleError } from '../../../core/errors';
import { firstOccurrence, nextOccurrence, occurrencesToCreate, parseCron, parseInterval } from '../../../core/model/schedule';
import type { ScheduleSpec } from '../../../core/model/task';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const cron = (expression: string, timezone: string): ScheduleSpec => ({ kind: 'cron', expression, timezone });

describe('cron occurrences across daylight-saving changes', () => {
  describe('Europe/Berlin (spring forward 2026-03-29 02:00 -> 03:00, fall back 2026-10-25 03:00 -> 02:00)', () => {
    it('runs a 02:30 job at the first valid instant after the skipped hour, once', () => {
      const spec = cron('0 30 2 * * *', 'Europe/Berlin');
      const before = at('2026-03-28T12:00:00Z');
      const first = nextOccurrence(spec, before);
      expect(iso(first)).toBe('2026-03-29T01:00:00.000Z'); // 03:00 CEST: 02:30 does not exist that day
      expect(iso(nextOccurrence(spec, first as number))).toBe('2026-03-30T00:30:00.000Z'); // 02:30 CEST
    });

    it('runs a 02:30 job once on the day 02:30 happens twice', () => {
      const spec = cron('0 30 2 * * *', 'Europe/Berlin');
      const runs: string[] = [];
      let t = at('2026-10-24T12:00:00Z');
      for (let i = 0; i < 3; i++) {
        t = nextOccurrence(spec, t) as number;
        runs.push(iso(t) as string);
      }
      expect(runs).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z']);
    });

    it('keeps an hourly job hourly in UTC terms through the fall-back hour', () => {
      const spec = cron('0 0 * * * *', 'Europe/Berlin');
      let t = at('2026-10-24T23:30:00Z');
      const runs: number[] = [];
      for (let i = 0; i < 4; i++) runs.push((t = nextOccurrence(spec, t) as number));
      const gaps = runs.slice(1).map((r, i) => (r - (runs[i] as number)) / 3_600_000);
      expect(gaps.every((g) => g === 1)).toBe(true);
    });
  });

  describe('America/New_York (spring forward 2026-03-08, fall back 2026-11-01)', () => {
    it('shifts a 09:00 local job by one hour in UTC across spring forward', () => {
      const spec = cron('0 9 * * *', 'America/New_York');
      const a = nextOccurrence(spec, at('2026-03-07T00:00:00Z'));
      const b = nextOccurrence(spec, a as number);
      expect(iso(a)).toBe('2026-03-07T14:00:00.000Z'); // EST
      expect(iso(b)).toBe('2026-03-08T13:00:00.000Z'); // EDT
    });

    it('runs a 01:30 job once on the fall-back night', () => {
      const spec = cron('0 30 1 * * *', 'America/New_York');
      const a = nextOccurrence(spec, at('2026-10-31T12:00:00Z')) as number;
      const b = nextOccurrence(spec, a) as number;
      expect(iso(a)).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT, the first of the two
      expect(iso(b)).toBe('2026-11-02T06:30:00.000Z'); // next day, EST
    });
  });

  it('is a pure function: same inputs, same answer', () => {
    const spec = cron('*/15 * * * * *', 'UTC');
    expect(nextOccurrence(spec, at('2026-01-01T00:00:07Z'))).toBe(nextOccurrence(spec, at('2026-01-01T00:00:07Z')));
    expect(iso(nextOccurrence(spec, at('2026-01-01T00:00:07Z')))).toBe('2026-01-01T00:00:15.000Z');
  });
});

describe('cron validation', () => {
  it('rejects a bad expression naming the field and showing a valid one', () => {
    expect(() => parseCron('61 * * * *', 'UTC', 'options.cron')).toThrow(InvalidScheduleError);
    expect(() => parseCron('61 * * * *', 'UTC', 'options.cron')).toThrow(/options\.cron/);
    expect(() => parseCron('* * *', 'UTC')).toThrow(/use 5 .* or 6/);
  });

  it('rejects an unknown time zone', () => {
    expect(() => parseCron('* * * * *', 'Mars/Olympus')).toThrow(/IANA time zone/);
  });
});

describe('intervals', () => {
  it.each([
    ['every 5 minutes', 300_000],
    ['30 seconds', 30_000],
    ['2h', 7_200_000],
    ['every hour', 3_600_000],
    [1500, 1500],
  ])('parses %p', (input, ms) => expect(parseInterval(input as string | number)).toBe(ms));

  it.each(['soon', 'every 5 parsecs', '', 10])('rejects %p', (input) => expect(() => parseInterval(input as string | number)).toThrow(InvalidScheduleError));

  it('starts an interval schedule now and steps by the interval', () => {
    const spec: ScheduleSpec = { kind: 'interval', everyMs: 60_000 };
    expect(firstOccurrence(spec, 1_000_000)).toBe(1_000_000);
    expect(nextOccurrence(spec, 1_000_000)).toBe(1_060_000);
  });
});

describe('missed runs after an outage', () => {
  const spec: ScheduleSpec = { kind: 'interval', everyMs: 60_000 };
  const last = 0;
  const now = 5 * 60_000 + 30_000; // occurrences at 1..5 min were missed

  it("'once' runs only the latest missed occurrence", () => {
    expect(occurrencesToCreate(spec, last, now, 'once', 10)).toEqual([300_000]);
  });

  it("'skip' jumps to the first future occurrence", () => {
    expect(occurrencesToCreate(spec, last, now, 'skip', 10)).toEqual([360_000]);
  });

  it("'all' runs every missed occurrence, up to the cap", () => {
    expect(occurrencesToCreate(spec, last, now, 'all', 10)).toEqual([60_000, 120_000, 180_000, 240_000, 300_000]);
    expect(occurrencesToCreate(spec, last, now, 'all', 2)).toEqual([60_000, 120_000]);
  });

  it('without an outage, creates just the next occurrence', () => {
    expect(occurrencesToCreate(spec, last, 10_000, 'all', 10)).toEqual([60_000]);
  });
});
