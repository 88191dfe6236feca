import { DEFAULT_FLEET } from '../../../core/config/fleet';
import { ConfigError } from '../../../core/errors';
import { loadTickerSettings, parseFleet } from '../../../functions/ticker/config';

describe('ticker configuration', () => {
  it('has defaults for everything', () => {
    const s = loadTickerSettings({});
    expect(s.options).toMatchObject({ tickIntervalMs: 1000, lookaheadMs: 1000, headroomMargin: 0.1 });
    expect(s.fleet).toEqual(DEFAULT_FLEET);
    expect(s.metrics).toBe('emf');
  });

  it('reads the fleet from JOBFLEET_FLEET and reports every problem at once', () => {
    const fleet = { classes: [{ name: 'gpu', slotsPerRunner: 2, cpu: 1024, memoryMiB: 2048, minRunners: 0, maxRunners: 3 }] };
    expect(parseFleet(JSON.stringify(fleet))).toEqual(fleet);
    let err: unknown;
    try {
      loadTickerSettings({ JOBFLEET_TICK_INTERVAL_MS: 'soon', JOBFLEET_FLEET: '{"classes":[{"name":"X"}]}' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/JOBFLEET_TICK_INTERVAL_MS/);
    expect((err as Error).message).toMatch(/JOBFLEET_FLEET:[\s\S]*classes\.0\.slotsPerRunner/);
    expect(() => parseFleet('{"classes":[]}')).toThrow(/at least one slot class/);
    expect(() => parseFleet('nope')).toThrow(/not JSON/);
  });

  it('keeps enough of the invocation in reserve to send what the look-ahead holds', () => {
    expect(() => loadTickerSettings({ JOBFLEET_LOOKAHEAD_MS: '3000', JOBFLEET_TICK_RESERVE_MS: '1000' })).toThrow(/must cover JOBFLEET_LOOKAHEAD_MS/);
    expect(loadTickerSettings({ JOBFLEET_TICK_INTERVAL_MS: '500', JOBFLEET_LOOKAHEAD_MS: '0' }).options).toMatchObject({ tickIntervalMs: 500, lookaheadMs: 0 });
  });
});
