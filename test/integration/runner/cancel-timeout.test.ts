import { finishTask } from '../../../core/lifecycle/finish';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { alive, enqueue, pidOf, readObject, settled, startRunner, waitForTask, waitUntil, type TestRunner } from './runner-harness';

jest.setTimeout(60_000);

/** Stopping scripts: max execution time, cancel requests (with and without a cooperative script), a lost lease. */
describe('runner: timeout, cancel, lost lease', () => {
  let env: TestEnvironment;
  let runner: TestRunner;

  beforeAll(async () => {
    env = await createTestEnvironment('runner-cancel');
    runner = await startRunner(env, { RUNNER_CANCEL_GRACE_MS: '1000', RUNNER_TIMEOUT_GRACE_MS: '200' });
  });

  afterAll(async () => {
    await runner?.stop();
    await env?.cleanup();
  });

  const requestCancel = async (id: string, token: string) => env.services.store.requestCancel({ ...(await env.services.store.mustGet(id)), status: 'running', token });

  const running = (id: string) => waitForTask(env, id, (t) => t.status === 'running' && pidOf(t) !== undefined);

  it('kills a script past its max execution time, with its whole process tree: failed, reason timeout', async () => {
    const queued = await enqueue(env, 'hang', {});
    const seen = await running(queued.id);
    const [, pid, grandchild] = /pid (\d+) grandchild (\d+)/.exec(seen.progress?.message ?? '')!.map(Number);
    expect(alive(pid as number)).toBe(true);
    expect(alive(grandchild as number)).toBe(true);
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('failed');
    expect(task.error).toMatchObject({ reason: 'timeout' });
    expect(task.error?.message).toContain('1500 ms');
    // Started -> ended is the max execution time plus the short kill grace, not the script's 300 s.
    expect((task.endedAt as number) - (task.startedAt as number)).toBeLessThan(1500 + 2500);
    await waitUntil(() => !alive(pid as number) && !alive(grandchild as number), 3000, 'the script and its grandchild to be gone');
  });

  it('cancels a running script that honours its abort signal', async () => {
    const queued = await enqueue(env, 'slow', { ms: 60_000, onAbort: 'throw' });
    const seen = await running(queued.id);
    await requestCancel(queued.id, seen.token);
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('cancelled');
    expect(task.error).toMatchObject({ reason: 'cancelled' });
    expect(task.error?.message).toContain('the task was cancelled');
    const log = (await readObject(env, task.logS3Key as string)).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(log.find((l) => l.msg === 'aborted')).toBeDefined();
  });

  it('keeps the real outcome of a script that finishes within the cancel grace', async () => {
    const queued = await enqueue(env, 'slow', { ms: 60_000, onAbort: 'resolve' });
    const seen = await running(queued.id);
    await requestCancel(queued.id, seen.token);
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    expect(task.result).toMatchObject({ aborted: true });
  });

  it('cancels a script that answers the abort with process.exit(100)', async () => {
    const queued = await enqueue(env, 'slow', { ms: 60_000, onAbort: 'exit100' });
    const seen = await running(queued.id);
    await requestCancel(queued.id, seen.token);
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('cancelled');
  });

  it('kills a script that ignores the cancel after the grace period: cancelled', async () => {
    const queued = await enqueue(env, 'ignore-cancel', {});
    const seen = await running(queued.id);
    const pid = pidOf(seen) as number;
    const requestedAt = Date.now();
    await requestCancel(queued.id, seen.token);
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('cancelled');
    expect(task.error?.message).toContain('did not stop within the grace period');
    expect(Date.now() - requestedAt).toBeGreaterThanOrEqual(1000);
    expect(alive(pid)).toBe(false);
    // Its slot was freed: the runner goes on.
    const next = await enqueue(env, 'ok', {});
    expect((await waitForTask(env, next.id, settled)).status).toBe('completed');
  });

  it('kills the script and records nothing when its lease was taken over (heartbeat lost)', async () => {
    const queued = await enqueue(env, 'slow', { ms: 60_000, onAbort: 'ignore' });
    const seen = await running(queued.id);
    const pid = pidOf(seen) as number;
    // What the reaper does to a runner it believes lost.
    const taken = await finishTask(env.services, { task: seen, outcome: { status: 'failed', error: { reason: 'runner-lost', message: 'lease expired' } } }, Date.now());
    const summary = await runner.summaryOf(queued.id);
    expect(summary.outcome).toBe('lost');
    await waitUntil(() => !alive(pid), 3000, 'the script to be killed');
    const after = await env.services.store.get(queued.id);
    expect(after?.error).toEqual(taken.error);
    expect(after?.endedAt).toBe(taken.endedAt);
  });
});
