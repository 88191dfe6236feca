import { buildProgram } from '../../core/cli';
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
  });
  afterEach(() => jest.restoreAllMocks());

  const run = (...args: string[]) => buildProgram({ throwInsteadOfExit: true }).parseAsync(['node', 'jobfleet', ...args]);

  it('schedules, shows, lists and cancels a task', async () => {
    await run('schedule', 'noop', '--delay', '1 minute', '--priority', '7');
    const task = JSON.parse(printed.join('\n')) as { id: string; status: string; priority: number };
    expect(task).toMatchObject({ status: 'pending', priority: 7 });

    printed = [];
    await run('list', '--job', 'noop');
    expect(printed[0]).toMatch(new RegExp(`^${task.id}  noop  pending`));

    printed = [];
    await run('cancel', task.id);
    expect(JSON.parse(printed.join('\n'))).toMatchObject({ id: task.id, status: 'cancelled' });
  });

  it('passes the SDK’s validation errors through, naming the field', async () => {
    await expect(run('schedule', 'report', '--args', '{"title":42}')).rejects.toThrow(/args\.title/);
    await expect(run('schedule', 'report', '--args', 'not json')).rejects.toThrow(/not JSON/);
  });
});
