import { loadRuntimeConfig } from '../../../core/config/runtime';
import { ConfigError } from '../../../core/errors';

/** JOBFLEET_*_MS and RUNNER_*_MS read with the one duration parser: digits are milliseconds. */
describe('durations in the environment', () => {
  const lease = (value: string) => loadRuntimeConfig({ JOBFLEET_LEASE_MS: value }).leaseMs;

  it.each([
    ['30000', 30_000],
    [' 30000 ', 30_000],
    ['30s', 30_000],
    ['500ms', 500],
    ['2 minutes', 120_000],
  ])('reads %j as %d ms', (value, expected) => {
    expect(lease(value)).toBe(expected);
  });

  it.each([
    ['', /JOBFLEET_LEASE_MS: is empty; give a number of milliseconds/],
    ['1e3', /JOBFLEET_LEASE_MS: "1e3" is not a duration/],
    ['0x10', /JOBFLEET_LEASE_MS: "0x10" is not a duration/],
    ['0', /JOBFLEET_LEASE_MS: 0 ms is shorter than the minimum of 1 ms/],
    ['-5', /JOBFLEET_LEASE_MS: "-5" is not a duration/],
    ['2 days', /JOBFLEET_LEASE_MS: "2 days" \(172800000 ms \(2 days\)\) is longer than the maximum of 86400000 ms \(1 day\)/],
  ])('refuses %j, naming the variable and the fix', (value, message) => {
    expect(() => lease(value)).toThrow(ConfigError);
    expect(() => lease(value)).toThrow(message);
  });

  it('takes the default when the variable is unset', () => {
    expect(loadRuntimeConfig({}).leaseMs).toBe(30_000);
  });
});
