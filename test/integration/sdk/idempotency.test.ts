import { sdkHarness, type SdkHarness } from './sdk-fixtures';

describe('idempotent scheduling', () => {
  let h: SdkHarness;
  beforeAll(async () => (h = await sdkHarness('sdk-idem')));
  afterAll(() => h.env.cleanup());

  it('creates exactly one task from 20 concurrent calls with the same key', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => h.client.schedule('email', { to: 'a@example.com' }, { idempotencyKey: 'welcome-42' })));
    expect(new Set(results.map((t) => t.id)).size).toBe(1);
    const { tasks } = await h.client.list({ job: 'email' });
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.idempotencyKey).toBe('welcome-42');
  });

  it('returns the existing task on a later call with the same key, job and args', async () => {
    const first = await h.client.schedule('email', { to: 'b@example.com' }, { idempotencyKey: 'k-2' });
    const again = await h.client.schedule('email', { to: 'b@example.com' }, { idempotencyKey: 'k-2' });
    expect(again.id).toBe(first.id);
  });

  it('reports hasExecutedSuccessfully only once the task completed', async () => {
    const task = await h.client.schedule('email', undefined, { idempotencyKey: 'k-3' });
    expect(await h.client.hasExecutedSuccessfully('k-3')).toBe(false);
    expect(await h.client.hasExecutedSuccessfully('never-used')).toBe(false);
    const { store } = h.env.services;
    const [entry] = (await Promise.all([0, 1, 2, 3].map((s) => store.queryDue('small', s, h.clock.now)))).flat().filter((e) => e.id === task.id);
    const claimed = await store.claim(entry!, h.clock.now, 60_000);
    const running = await store.start(task.id, claimed!.token, 'runner-1', h.clock.now, 30_000);
    const { finishTask } = await import('../../../core/lifecycle/finish');
    await finishTask(h.env.services, { task: running, outcome: { status: 'completed', result: { sent: true } } }, h.clock.now);
    expect(await h.client.hasExecutedSuccessfully('k-3')).toBe(true);
  });
});
