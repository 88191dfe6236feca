import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { alive, enqueue, pidOf, settled, spawnRunner, startRunner, waitForTask, type TestRunner } from './runner-harness';

jest.setTimeout(90_000);

/** SIGTERM: stop polling, let what can finish finish, hand the rest back, exit 0. */
describe('runner: graceful shutdown on SIGTERM', () => {
  let env: TestEnvironment;
  let runnerB: TestRunner | undefined;

  beforeAll(async () => {
    env = await createTestEnvironment('runner-shutdown');
  });

  afterAll(async () => {
    await runnerB?.stop();
    await env?.cleanup();
  });

  it('drains: short tasks complete, a task that cannot finish is handed back (runner-lost) and retried, new work is left for others', async () => {
    const proc = spawnRunner(env, { RUNNER_ID: 'runner-a', RUNNER_STOP_TIMEOUT_MS: '2000' });
    const short = await enqueue(env, 'slow', { ms: 1200 });
    const long = await enqueue(env, 'slow-retry', { ms: 60_000, onAbort: 'ignore' });
    const [shortRunning, longRunning] = await Promise.all([
      waitForTask(env, short.id, (t) => t.status === 'running' && pidOf(t) !== undefined),
      waitForTask(env, long.id, (t) => t.status === 'running' && pidOf(t) !== undefined),
    ]);
    expect(shortRunning.runnerId).toBe('runner-a');

    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');
    // Dispatched after the signal: this runner must not take it.
    const late = await enqueue(env, 'ok', { late: true });

    const exit = await proc.exited;
    const tookMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeGreaterThanOrEqual(1500);
    expect(tookMs).toBeLessThan(2000 + 4000);

    const shortDone = await waitForTask(env, short.id, settled);
    expect(shortDone.status).toBe('completed');

    // Handed back: failed as runner-lost ("runner shut down"), which core's follow-up retries at once (100 ms backoff).
    const longAfter = await waitForTask(env, long.id, (t) => t.status === 'pending' && t.attempt === 2);
    expect((longAfter as unknown as { lastError: { reason: string; message: string } }).lastError).toMatchObject({ reason: 'runner-lost', message: 'runner shut down' });
    expect(alive(pidOf(longRunning) as number)).toBe(false);

    // The late task is still queued for another runner, its message still on the queue.
    expect((await env.services.store.get(late.id))?.status).toBe('queued');
    expect(proc.lines.find((l) => l.msg === 'runner stopped')).toBeDefined();
    expect(proc.lines.filter((l) => l.msg === 'task ended').map((l) => l.taskId).sort()).toEqual([short.id, long.id].sort());

    runnerB = await startRunner(env, { RUNNER_ID: 'runner-b' });
    const lateDone = await waitForTask(env, late.id, settled);
    expect(lateDone.status).toBe('completed');
    expect(lateDone.runnerId).toBe('runner-b');
  });

  it('exits at once when idle', async () => {
    const proc = spawnRunner(env, { RUNNER_ID: 'runner-idle', RUNNER_WAIT_TIME_SECONDS: '20' });
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (proc.lines.some((l) => l.msg === 'runner started')) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
    // Mid long-poll (20 s): the receive is aborted, not waited for.
    await new Promise((r) => setTimeout(r, 500));
    const at = Date.now();
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - at).toBeLessThan(10_000); // far less than the 20 s long poll
  });
});
