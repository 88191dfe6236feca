import catalogue from '../../../jobs/catalogue';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { enqueue, readObject, settled, taskLogText, startRunner, waitForTask, type TestRunner } from './runner-harness';

jest.setTimeout(60_000);

/** The repository's example jobs (jobs/catalogue.ts), run by a real runner on the local AWS. */
describe('runner: example jobs', () => {
  let env: TestEnvironment;
  let runner: TestRunner;

  beforeAll(async () => {
    env = await createTestEnvironment('runner-examples');
    // report has a job role (its only credentials) and its bucket as a JOB_* variable, as the CDK app sets them.
    runner = await startRunner(
      env,
      { RUNNER_SPARES: '2', JOB_REPORTS_BUCKET: env.config.bucket, RUNNER_JOB_ROLES: JSON.stringify({ report: 'arn:aws:iam::000000000000:role/jobfleet-report' }) },
      { catalogue },
    );
  });

  afterAll(async () => {
    await runner?.stop();
    await env?.cleanup();
  });

  it('report writes its JSON report to the bucket', async () => {
    const queued = await enqueue(env, 'report', { title: 'weekly', figures: { users: 42 } }, {}, catalogue);
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    const { key } = task.result as { key: string };
    expect(key).toMatch(new RegExp(`^reports/weekly/\\d{4}-\\d{2}-\\d{2}/${queued.id}\\.json$`));
    expect(JSON.parse(await readObject(env, key))).toMatchObject({ title: 'weekly', taskId: queued.id, figures: { users: 42 } });
  });

  it('crunch counts primes (2 slots) and can be cancelled mid-way', async () => {
    const small = await enqueue(env, 'crunch', { limit: 100_000 }, {}, catalogue);
    expect((await waitForTask(env, small.id, settled)).result).toEqual({ limit: 100_000, primes: 9592, largest: 99_991 });
    const big = await enqueue(env, 'crunch', { limit: 2_000_000_000 }, {}, catalogue);
    const running = await waitForTask(env, big.id, (t) => t.status === 'running' && t.progress !== undefined);
    await env.services.store.requestCancel(running);
    const cancelled = await waitForTask(env, big.id, settled);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error?.message).toContain('the task was cancelled');
  });

  it('long-progress reports progress and completes; noop completes', async () => {
    const lp = await enqueue(env, 'long-progress', { seconds: 1.2, steps: 4 }, {}, catalogue);
    const noop = await enqueue(env, 'noop', {}, {}, catalogue);
    const done = await waitForTask(env, lp.id, settled);
    expect(done.status).toBe('completed');
    expect(done.result).toEqual({ steps: 4 });
    const log = (await taskLogText(env, done)).trim().split('\n').map((l) => JSON.parse(l));
    expect(log.filter((l) => l.msg === 'progress').map((l) => l.percent)).toEqual([25, 50, 75, 100]);
    expect((await waitForTask(env, noop.id, settled)).status).toBe('completed');
  });
});
