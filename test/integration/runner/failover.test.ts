import pino from 'pino';
import { createTickerFromEnv, type TickerProcess } from '../../../functions/ticker/create';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { alive, enqueue, pidOf, settled, spawnRunner, startRunner, testRunnerEnv, waitForTask, waitUntil, type RunnerProcess, type TestRunner } from './runner-harness';

jest.setTimeout(90_000);

/**
 * A runner killed with SIGKILL mid-task: its script dies with it (IPC disconnect, or the orphan
 * watchdog when the script blocks its event loop), and the task is recovered by the ticker's
 * reaper (lease expired -> failed runner-lost -> retried) and completed by another runner.
 */
describe('runner: failover after SIGKILL', () => {
  let env: TestEnvironment;
  let procA: RunnerProcess | undefined;
  let runnerB: TestRunner | undefined;
  let ticker: TickerProcess;

  beforeEach(async () => {
    env = await createTestEnvironment('runner-failover');
    ticker = createTickerFromEnv({ ...testRunnerEnv(env), JOBFLEET_METRICS: 'off', JOBFLEET_TICK_INTERVAL_MS: '200' }, { logger: pino({ level: 'silent' }) });
  });

  afterEach(async () => {
    if (procA && procA.child.exitCode === null && procA.child.signalCode === null) procA.child.kill('SIGKILL');
    await runnerB?.stop();
    runnerB = undefined;
    await env?.cleanup();
  });

  /** Ticks (reaper + dispatch) until the task settles. */
  async function tickUntilSettled(id: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await ticker.ticker.tick(Date.now());
      const task = await env.services.store.get(id);
      if (task && settled(task) && task.status !== 'pending') return task;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`task ${id} did not settle`);
  }

  it('recovers the task through the reaper and completes it on another runner', async () => {
    procA = spawnRunner(env, { RUNNER_ID: 'runner-a' });
    const queued = await enqueue(env, 'slow-retry', { ms: 2500 });
    const running = await waitForTask(env, queued.id, (t) => t.status === 'running' && pidOf(t) !== undefined);
    expect(running.runnerId).toBe('runner-a');
    const scriptPid = pidOf(running) as number;
    expect(alive(scriptPid)).toBe(true);

    procA.child.kill('SIGKILL');
    expect((await procA.exited).signal).toBe('SIGKILL');
    // The script learns through its IPC channel that nobody will record its outcome, and stops.
    await waitUntil(() => !alive(scriptPid), 3000, 'the orphaned script to exit');

    runnerB = await startRunner(env, { RUNNER_ID: 'runner-b' });
    const done = await tickUntilSettled(queued.id);
    expect(done.status).toBe('completed');
    expect(done.attempt).toBe(2);
    expect(done.runnerId).toBe('runner-b');
    expect((done as unknown as { lastError: { reason: string } }).lastError.reason).toBe('runner-lost');
  });

  it('kills a script that blocks its event loop when its runner dies (orphan watchdog)', async () => {
    procA = spawnRunner(env, { RUNNER_ID: 'runner-a' });
    const queued = await enqueue(env, 'busy-loop', { ms: 30_000 });
    const running = await waitForTask(env, queued.id, (t) => t.status === 'running' && pidOf(t) !== undefined);
    const scriptPid = pidOf(running) as number;
    // Let it enter the synchronous loop, where 'disconnect' can never be handled.
    await new Promise((r) => setTimeout(r, 300));
    procA.child.kill('SIGKILL');
    await procA.exited;
    await waitUntil(() => !alive(scriptPid), 5000, 'the blocked script to be killed');
  });
});
