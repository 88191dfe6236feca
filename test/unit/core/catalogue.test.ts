import { z } from 'zod';
import { defineCatalogue } from '../../../core/catalogue';
import { ConfigError, UnknownJobError } from '../../../core/errors';
import { validateFleet } from '../../../core/config/fleet';

describe('job catalogue', () => {
  const catalogue = defineCatalogue({
    root: '/jobs',
    jobs: [
      { name: 'send-email', module: 'send-email.js', args: z.object({ to: z.string().email() }) },
      { name: 'render', module: 'render.js', slots: 8, maxExecutionTime: '10 minutes', maxConcurrency: 1 },
    ],
  });

  it('resolves defaults and routes a job to the smallest slot class that fits it', () => {
    expect(catalogue.get('send-email').snapshot).toMatchObject({ slots: 1, slotClass: 'small', maxAttempts: 3, maxExecutionMs: 900_000, retentionMs: 604_800_000 });
    expect(catalogue.get('render').snapshot).toMatchObject({ slots: 8, slotClass: 'large', maxExecutionMs: 600_000, maxConcurrency: 1 });
  });

  it('names the known jobs when asked for an unknown one', () => {
    expect(() => catalogue.get('nope')).toThrow(UnknownJobError);
    expect(() => catalogue.get('nope')).toThrow(/Known jobs: send-email, render/);
  });

  it('reports every problem at once', () => {
    const build = () =>
      defineCatalogue({
        root: '/jobs',
        jobs: [
          { name: 'Bad Name', module: 'x.js' },
          { name: 'huge', module: 'huge.js', slots: 64 },
          { name: 'escape', module: '../etc/passwd' },
          { name: 'cron', module: 'c.js', schedules: [{ id: 'c', cron: '0 25 * * *' }] },
          { name: 'slow', module: 's.js', maxExecutionTime: 'forever' },
        ],
      });
    expect(build).toThrow(ConfigError);
    const message = (() => {
      try {
        build();
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/Bad Name\.name/);
    expect(message).toMatch(/64 slots fit no slot class/);
    expect(message).toMatch(/no "\.\."/);
    expect(message).toMatch(/jobs\.cron\.schedules\.c\.cron: "0 25 \* \* \*" is not a valid cron expression \(.*hour: 25\)/);
    expect(message).toMatch(/jobs\.slow\.maxExecutionTime: "forever" is not a duration/);
  });
});

describe('fleet configuration', () => {
  it('rejects a memory size Fargate does not offer for the CPU', () => {
    expect(() => validateFleet({ classes: [{ name: 'x', slotsPerRunner: 1, cpu: 256, memoryMiB: 4096, minRunners: 0, maxRunners: 1 }] })).toThrow(/4096 MiB is not valid with 256 CPU units/);
  });
});
