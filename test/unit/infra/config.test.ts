import { App } from 'aws-cdk-lib';
import { ConfigError } from '../../../core/errors';
import { DEFAULT_FLEET } from '../../../core/config/fleet';
import * as path from 'node:path';
import { catalogueFleet, DEFAULT_SETTINGS, resolveSettings } from '../../../infra/config';

const withContext = (context: Record<string, unknown>) => new App({ context }).node;

describe('deployment settings', () => {
  test('defaults when nothing is given', () => {
    expect(resolveSettings(withContext({}))).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS.fleet).toBe(DEFAULT_FLEET);
  });

  test('-c values arrive as strings and are parsed; props win over context', () => {
    const fleet = [{ name: 'tiny', slotsPerRunner: 2, cpu: 256, memoryMiB: 512, minRunners: 0, maxRunners: 3 }];
    const s = resolveSettings(
      withContext({
        'jobfleet:tickIntervalMs': '500',
        'jobfleet:containerInsights': 'true',
        'jobfleet:fleet': JSON.stringify(fleet),
        'jobfleet:statusEvents': 'all',
        'jobfleet:logsExpireAfterDays': 365,
      }),
      { tickIntervalMs: 250 },
    );
    expect(s.tickIntervalMs).toBe(250);
    expect(s.containerInsights).toBe(true);
    expect(s.fleet.classes).toEqual(fleet);
    expect(s.statusEvents).toBe('all');
    expect(s.logsExpireAfterDays).toBe(365);
  });

  test('every problem is reported at once, each naming its key', () => {
    const bad = () =>
      resolveSettings(
        withContext({
          'jobfleet:tickIntervalMs': 'soon',
          'jobfleet:tickIntervalMz': 5,
          'jobfleet:fleet': [{ name: 'small', slotsPerRunner: 4, cpu: 300, memoryMiB: 1024, minRunners: 0, maxRunners: 2 }],
          'jobfleet:logsInfrequentAccessAfterDays': 7,
          'jobfleet:runnerStopTimeoutSeconds': 600,
          'jobfleet:logRetentionDays': 10,
        }),
      );
    expect(bad).toThrow(ConfigError);
    let message = '';
    try {
      bad();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('jobfleet:tickIntervalMs: "soon" is not an integer');
    expect(message).toContain('jobfleet:tickIntervalMz: unknown setting');
    expect(message).toMatch(/jobfleet:fleet: .*cpu: 300 is not a Fargate CPU size/);
    expect(message).toContain('jobfleet:logsInfrequentAccessAfterDays: S3 moves objects to Standard-IA after 30 days at the earliest');
    expect(message).toContain('jobfleet:runnerStopTimeoutSeconds: 600 is not an integer in 2..120');
    expect(message).toContain('jobfleet:logRetentionDays: 10 is not a CloudWatch Logs retention');
  });

  test("the fleet defaults to the job catalogue's, and an explicit fleet must equal it", () => {
    const fleet = catalogueFleet(path.join(__dirname, 'fixtures/catalogue'));
    expect(fleet?.classes.map((c) => c.name)).toEqual(['tiny']);
    expect(resolveSettings(withContext({}), {}, fleet).fleet).toBe(fleet);
    expect(() => resolveSettings(withContext({}), { fleet: DEFAULT_FLEET }, fleet)).toThrow(/jobfleet:fleet: differs from the fleet of the job catalogue/);
    expect(catalogueFleet(path.join(__dirname, 'fixtures/no-such-catalogue'))).toBeUndefined();
  });

  test('the tick interval must fit in the ticker timeout', () => {
    expect(() => resolveSettings(withContext({}), { tickIntervalMs: 30_000, tickerTimeoutSeconds: 20 })).toThrow(/shorter than the ticker timeout/);
  });
});
