import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { enqueue, settled, startRunner, waitForTask, type TestRunner } from './runner-harness';

jest.setTimeout(180_000);

/**
 * Runners sharing a host (`jobfleet local`, the benches) share the sandbox uid range. Before each
 * runner claimed a block of its own, a uid freed by one runner's sandbox could be handed to the
 * other's before the first runner's kill sweep, which then SIGKILLed the stranger: no-op tasks
 * failed with "killed by SIGKILL" (22 of 1,500 in a two-runner pipeline bench).
 */
describe('runner: two runners on one host', () => {
  let env: TestEnvironment;
  const runners: TestRunner[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment('runner-shared-host', { env: { JOBFLEET_LEASE_MS: '30000', JOBFLEET_GRACE_MS: '30000' } });
  });

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await env?.cleanup();
  });

  it('run many short tasks side by side without touching each other\'s sandboxes', async () => {
    const queued = [];
    for (let i = 0; i < 40; i++) queued.push(await enqueue(env, 'noop', null));
    runners.push(await startRunner(env, { RUNNER_ID: 'host-runner-a', RUNNER_SLOTS: '4' }));
    runners.push(await startRunner(env, { RUNNER_ID: 'host-runner-b', RUNNER_SLOTS: '4' }));
    const tasks = await Promise.all(queued.map((q) => waitForTask(env, q.id, settled, 120_000)));
    const failed = tasks.filter((t) => t.status !== 'completed').map((t) => `${t.id}: ${t.status} ${t.error?.message ?? ''}`);
    expect(failed).toEqual([]);
    // Both took part.
    expect(new Set(tasks.map((t) => t.runnerId))).toEqual(new Set(['host-runner-a', 'host-runner-b']));
    // As root, each took a block of the uid range of its own.
    const blocks = runners.map((r) => r.lines.find((l) => l.msg === 'sandbox uid block claimed')?.sandboxUids as string | undefined);
    if (process.getuid?.() === 0) {
      expect(blocks.every((b) => typeof b === 'string')).toBe(true);
      const [a, b] = blocks.map((s) => (s as string).split('-').map(Number) as [number, number]);
      expect(a![1] < b![0] || b![1] < a![0]).toBe(true);
    }
  });
});
