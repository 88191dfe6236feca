import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createTickerFromEnv, type TickerProcess } from '../../../functions/ticker/create';
import type { ProbeLine } from '../../fixtures/jobs/lease-probe';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { alive, enqueue, pidOf, settled, spawnRunner, startRunner, testRunnerEnv, waitForTask, waitUntil, type RunnerProcess, type TestRunner } from './runner-harness';

jest.setTimeout(180_000);

const probeLines = (file: string): ProbeLine[] => {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ProbeLine);
  } catch {
    return [];
  }
};

/**
 * Invariant 6 with a real process: a runner frozen (SIGSTOP) for longer than lease + grace
 * cannot kill its script, so the script's sandbox must end itself at the deadline the runner
 * gave it, before the reaper fails the task as runner-lost and another runner starts the retry.
 * The fixture job writes a line every 20 ms, and the retry records which earlier attempts'
 * processes are still alive when it starts.
 */
describe('runner: frozen (SIGSTOP) past its lease', () => {
  let env: TestEnvironment;
  let procA: RunnerProcess | undefined;
  let runnerB: TestRunner | undefined;
  let ticker: TickerProcess;

  beforeEach(async () => {
    // Lease 4.5 s (RUNNER_TEST_LEASE_MS), grace 0.5 s: the reaper may fail the task 5 s after the last renewal.
    env = await createTestEnvironment('runner-frozen');
    ticker = createTickerFromEnv({ ...testRunnerEnv(env), JOBFLEET_METRICS: 'off', JOBFLEET_TICK_INTERVAL_MS: '200' }, { logger: pino({ level: 'silent' }) });
  });

  afterEach(async () => {
    if (procA && procA.child.exitCode === null && procA.child.signalCode === null) procA.child.kill('SIGKILL');
    await runnerB?.stop();
    runnerB = undefined;
    await env?.cleanup();
  });

  it('the script ends itself before the reaper retries the task elsewhere; nothing overlaps', async () => {
    // Sandboxes run under uids of their own (where the runner is root): the probe's folder must let them write.
    const probeDir = mkdtempSync(join(tmpdir(), 'jobfleet-probe-'));
    chmodSync(probeDir, 0o777);
    const file = join(probeDir, 'probe.ndjson');
    // Both attempts append to it, each under its own uid.
    writeFileSync(file, '');
    chmodSync(file, 0o666);
    procA = spawnRunner(env, { RUNNER_ID: 'runner-a' });
    const queued = await enqueue(env, 'lease-probe', { file, ms: 120_000, retryMs: 500 });
    const running = await waitForTask(env, queued.id, (t) => t.status === 'running' && pidOf(t) !== undefined, 60_000);
    expect(running.runnerId).toBe('runner-a');
    const firstPid = pidOf(running) as number;
    // Past the first renewals: the sandbox has been told a deadline more than once.
    await waitUntil(() => probeLines(file).filter((l) => l.attempt === 1).length >= 40, 60_000, 'the first attempt to work for a while');

    procA.child.kill('SIGSTOP');
    let firstDiedAt: number | undefined;
    const watch = setInterval(() => {
      if (firstDiedAt === undefined && !alive(firstPid)) firstDiedAt = Date.now();
    }, 10);
    try {
      runnerB = await startRunner(env, { RUNNER_ID: 'runner-b' });
      // The ticker's reaper fails the task as runner-lost once lease + grace have passed; its retry goes to runner B.
      await waitUntil(
        async () => {
          await ticker.ticker.tick(Date.now());
          return probeLines(file).some((l) => l.attempt === 2 && l.event === 'tick');
        },
        90_000,
        'the retry to start on runner B',
      );
    } finally {
      clearInterval(watch);
    }

    const lines = probeLines(file);
    const first = lines.filter((l) => l.attempt === 1);
    const retryStart = lines.find((l) => l.attempt === 2 && l.event === 'start') as ProbeLine;
    expect(retryStart.pid).not.toBe(firstPid);
    // When the retry started, no process of the first attempt was alive...
    expect(retryStart.earlierAlive).toEqual([]);
    expect(firstDiedAt).toBeDefined();
    expect(firstDiedAt as number).toBeLessThan(retryStart.at);
    // ...and the first attempt wrote nothing after it.
    expect(Math.max(...first.map((l) => l.at))).toBeLessThan(retryStart.at);

    const done = await waitForTask(env, queued.id, (t) => settled(t) && t.status === 'completed', 60_000);
    expect(done.attempt).toBe(2);
    expect(done.runnerId).toBe('runner-b');
    expect((done as unknown as { lastError?: { reason: string } }).lastError?.reason).toBe('runner-lost');

    // Woken up, runner A records nothing: the task is not its own any more.
    procA.child.kill('SIGCONT');
    await waitUntil(() => procA!.lines.some((l) => l.msg === 'task ended' && l.taskId === queued.id), 30_000, 'runner A to end the task');
    const ended = procA.lines.find((l) => l.msg === 'task ended' && l.taskId === queued.id) as Record<string, unknown>;
    expect(ended.outcome).toBe('lost');
    const current = await env.services.store.mustGet(queued.id);
    expect(current.status).toBe('completed');
    expect(current.attempt).toBe(2);
  });

  it('a script blocking its event loop ends too, by its deadline thread, while its runner is frozen', async () => {
    procA = spawnRunner(env, { RUNNER_ID: 'runner-a' });
    // Asynchronous for 4 s (past the first renewal, which starts the deadline thread), then synchronous for two minutes.
    const queued = await enqueue(env, 'busy-loop', { ms: 120_000, afterMs: 4000 });
    const blocking = await waitForTask(env, queued.id, (t) => t.status === 'running' && /blocking/.test(t.progress?.message ?? ''), 60_000);
    const pid = pidOf(blocking) as number;
    expect(alive(pid)).toBe(true);

    procA.child.kill('SIGSTOP');
    // The lease as the frozen runner left it (a beat in flight may still land: read it once that is settled).
    await waitUntil(async () => ((await env.services.store.mustGet(queued.id)).leaseUntil ?? 0) < Date.now(), 30_000, 'the lease to end');
    const { leaseUntil } = await env.services.store.mustGet(queued.id);
    await waitUntil(() => !alive(pid), 30_000, 'the blocked script to end itself');
    const diedBy = Date.now();
    // Dead before the reaper may fail the task (lease + grace) and a retry start: the check is
    // conservative, as diedBy is when the test saw it gone.
    expect(diedBy).toBeLessThan((leaseUntil as number) + env.config.graceMs);
    procA.child.kill('SIGCONT');
  });
});
