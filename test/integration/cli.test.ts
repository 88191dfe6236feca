import { buildProgram, exitCodeOf } from '../../core/cli';
import { EXIT } from '../../core/cli/output';
import { createTestEnvironment, type TestEnvironment } from '../support/resources';

/** The CLI runs in-process against a test table: what it prints is what a user would see. */
describe('jobfleet CLI', () => {
  let env: TestEnvironment;
  let printed: string[];
  const saved = { ...process.env };

  beforeAll(async () => {
    env = await createTestEnvironment('cli');
    Object.assign(process.env, { JOBFLEET_TABLE: env.config.tableName, JOBFLEET_BUCKET: env.config.bucket, JOBFLEET_QUEUES: JSON.stringify(env.config.queueUrls) });
  });
  afterAll(async () => {
    process.env = saved;
    await env.cleanup();
  });
  beforeEach(() => {
    printed = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => jest.restoreAllMocks());

  const run = (...args: string[]) => buildProgram({ throwInsteadOfExit: true }).parseAsync(['node', 'jobfleet', ...args]);
  const json = <T>() => JSON.parse(printed.join('\n')) as T;

  it('schedules, shows, lists and cancels a task; --json for scripts, a table otherwise', async () => {
    await run('--json', 'schedule', 'noop', '--delay', '1 minute', '--priority', '7');
    const task = json<{ id: string; status: string; priority: number }>();
    expect(task).toMatchObject({ status: 'pending', priority: 7 });

    printed = [];
    await run('list', '--job', 'noop', '--from', '-5m');
    expect(printed.join('\n').split('\n')[0]).toMatch(/^id\s+job\s+status/);
    expect(printed.join('\n')).toMatch(new RegExp(`${task.id}\\s+noop\\s+pending`));

    printed = [];
    await run('--json', 'list', '--job', 'noop', '--to', '-1h');
    expect(json<{ tasks: unknown[] }>().tasks).toEqual([]);

    printed = [];
    await run('--json', 'cancel', task.id);
    expect(json()).toMatchObject({ id: task.id, status: 'cancelled' });
  });

  it('bulk cancel by filter counts first with --dry-run, then cancels', async () => {
    for (let i = 0; i < 3; i++) await run('--json', 'schedule', 'report', '--args', '{}', '--delay', '1 hour');
    printed = [];
    await run('--json', 'cancel', '--job', 'report', '--status', 'pending', '--dry-run');
    expect(json()).toMatchObject({ action: 'cancel', eligible: 3, done: 0, dryRun: true });
    printed = [];
    await run('--json', 'cancel', '--job', 'report', '--status', 'pending');
    expect(json()).toMatchObject({ eligible: 3, done: 3, failed: [] });
    printed = [];
    await run('--json', 'list', '--job', 'report', '--status', 'pending');
    expect(json<{ tasks: unknown[] }>().tasks).toEqual([]);
  });

  it('shows the next occurrences of a schedule and the catalogue', async () => {
    await run('--json', 'schedule', 'noop', '--delay', '1 hour'); // the table exists and answers
    const { JobfleetClient } = await import('../../core/sdk/client');
    const catalogue = (await import('../../jobs/catalogue')).default;
    await new JobfleetClient({ catalogue, services: env.services }).schedules.create('noop', null, { id: 'cli-every', every: '10 minutes' });
    printed = [];
    await run('--json', 'schedules', 'next', 'cli-every', '-n', '5');
    const next = json<{ next: string[]; when: string }>();
    expect(next.when).toBe('every 10 minutes');
    expect(next.next).toHaveLength(5);
    expect(Date.parse(next.next[1] as string) - Date.parse(next.next[0] as string)).toBe(600_000);
    printed = [];
    await run('jobs');
    expect(printed.join('\n')).toMatch(/report\s+1\s+small/);
  });

  it('passes the SDK’s validation errors through, naming the field, with exit codes scripts can rely on', async () => {
    await expect(run('schedule', 'report', '--args', '{"title":42}')).rejects.toThrow(/args\.title/);
    await expect(run('schedule', 'report', '--args', 'not json')).rejects.toThrow(/not JSON/);
    const notFound = await run('get', '01JZZZZZZZZZZZZZZZZZZZZZZZ.noop').catch((e: unknown) => e);
    expect(exitCodeOf(notFound)).toBe(EXIT.notFound);
    const invalid = await run('schedule', 'report', '--args', '{"title":42}').catch((e: unknown) => e);
    expect(exitCodeOf(invalid)).toBe(EXIT.usage);
    const usage = await run('cancel', '--dry-run').catch((e: unknown) => e);
    expect(exitCodeOf(usage)).toBe(EXIT.usage);
  });
});
