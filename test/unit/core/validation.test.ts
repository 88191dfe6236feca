import { ValidationError } from '../../../core/errors';
import { checkArgs, parseTime, parseWith, ScheduleOptionsSchema } from '../../../core/sdk/validation';

describe('SDK input validation', () => {
  it('rejects oversized args and says what to pass instead', () => {
    expect(() => checkArgs({ blob: 'x'.repeat(40_000) }, 32_768)).toThrow(/over the 32768-byte limit; store the data in S3/);
  });

  it('rejects args that are not JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => checkArgs(cyclic, 1000)).toThrow(ValidationError);
    expect(() => checkArgs(() => 1, 1000)).toThrow(/^args: is a function; args are data/);
  });

  it('parses dates and names the field of a bad one', () => {
    expect(parseTime('2026-12-01T09:00:00Z', 'at')).toBe(Date.parse('2026-12-01T09:00:00Z'));
    expect(parseTime(new Date(Date.UTC(2027, 0, 1)), 'at')).toBe(Date.UTC(2027, 0, 1));
    expect(() => parseTime('tomorrow', 'options.at')).toThrow(/^options\.at: "tomorrow" is not an ISO 8601 time/);
  });

  it('names the path of an invalid option', () => {
    expect(() => parseWith(ScheduleOptionsSchema, { priority: 5000 }, 'options')).toThrow(/options\.priority/);
    expect(() => parseWith(ScheduleOptionsSchema, { prioritee: 1 }, 'options')).toThrow(/prioritee/);
  });
});
