import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { countCalls } from '../../../bench/call-counter';
import { LOG_UPLOAD_DEADLINE_MS } from '../../../core/logs/log-location';
import { readTaskLog } from '../../../core/logs/read-log';
import type { TaskRecord } from '../../../core/model/task';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { enqueue, settled, spawnRunner, startRunner, taskLogText, waitForTask, waitUntil, type RunnerProcess, type TestRunner } from './runner-harness';

jest.setTimeout(120_000);

const lines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * Task logs packed into shared S3 objects: one PUT per flush, each task's log a byte range read
 * with one ranged GET; large logs keep their own object; the outcome never waits on its log.
 */
describe('runner: log batching', () => {
  let env: TestEnvironment;
  let runner: TestRunner | undefined;
  let proc: RunnerProcess | undefined;

  beforeEach(async () => {
    // A production-length lease: on a loaded machine a short one can make the runner fence itself off its tasks.
    env = await createTestEnvironment('runner-logs', { env: { JOBFLEET_LEASE_MS: '30000', JOBFLEET_GRACE_MS: '30000' } });
  });

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    proc = undefined;
    await env?.cleanup();
  });

  it('packs the logs of tasks ending together into one object, each read back alone with a ranged GET', async () => {
    const calls = countCalls(env.clients);
    // A long flush delay: the batch is sent when the runner stops (or is full), so the burst shares objects whatever the machine's speed.
    runner = await startRunner(env, { RUNNER_SLOTS: '4', RUNNER_LOG_BATCH_DELAY_MS: '30000' });
    const queued = await Promise.all(Array.from({ length: 6 }, (_, i) => enqueue(env, 'ok', { n: i })));
    const tasks = await Promise.all(queued.map((q) => waitForTask(env, q.id, settled)));
    expect(tasks.every((t) => t.status === 'completed')).toBe(true);
    await waitUntil(() => runner!.summaries.length === tasks.length, 30_000, 'every task summary');
    await runner.stop();
    const byKey = new Map<string, { offset: number; length: number }[]>();
    for (const t of tasks) byKey.set(t.logS3Key as string, [...(byKey.get(t.logS3Key as string) ?? []), t.logRange as { offset: number; length: number }]);
    expect(byKey.size).toBeLessThan(tasks.length);
    // One PUT per object; inside each, disjoint adjacent ranges from 0 that make up the whole object.
    expect(calls.calls.get('S3.PutObject')).toBe(byKey.size);
    for (const [key, list] of byKey) {
      const ranges = [...list].sort((a, b) => a.offset - b.offset);
      expect(ranges[0]?.offset).toBe(0);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.offset).toBe((ranges[i - 1] as { offset: number; length: number }).offset + (ranges[i - 1] as { length: number }).length);
      const head = await env.clients.s3.send(new HeadObjectCommand({ Bucket: env.config.bucket, Key: key }));
      expect(head.ContentLength).toBe(ranges.reduce((a, r) => a + r.length, 0));
    }
    for (const task of tasks) {
      const log = lines(await taskLogText(env, task));
      expect(log[0]).toMatchObject({ msg: 'task started', taskId: task.id });
      expect(log[log.length - 1]).toMatchObject({ msg: 'task ended', outcome: 'completed' });
      expect(log.every((l) => l.taskId === undefined || l.taskId === task.id)).toBe(true);
    }
  });

  it('gives a large log its own object beside the small ones of the same batch', async () => {
    runner = await startRunner(env, { RUNNER_SLOTS: '4', RUNNER_LOG_BATCH_DELAY_MS: '3000', RUNNER_LOG_OWN_OBJECT_BYTES: String(64 * 1024) });
    const big = await enqueue(env, 'flood', { bytes: 200 * 1024 });
    const small = await Promise.all([enqueue(env, 'ok', { n: 1 }), enqueue(env, 'ok', { n: 2 })]);
    const bigDone = await waitForTask(env, big.id, settled);
    const smallDone = await Promise.all(small.map((q) => waitForTask(env, q.id, settled)));
    expect(bigDone.logS3Key).toBe(`logs/flood/${big.id}/1.log`);
    expect(bigDone.logRange).toBeUndefined();
    const bigLog = lines(await taskLogText(env, bigDone));
    expect(bigLog.filter((l) => l.msg === 'flooding').length).toBeGreaterThan(150);
    expect(bigLog[bigLog.length - 1]).toMatchObject({ msg: 'task ended', outcome: 'completed' });
    for (const task of smallDone) {
      expect(task.logS3Key).toMatch(/^logs\/batches\//);
      const log = lines(await taskLogText(env, task));
      expect(log[0]).toMatchObject({ msg: 'task started', taskId: task.id });
      expect(log.some((l) => l.msg === 'flooding')).toBe(false);
    }
  });

  it('leaves a task whose runner died before its flush saying its log was lost', async () => {
    // A real runner process, killed outright after the outcome is recorded but long before its flush.
    proc = spawnRunner(env, { RUNNER_LOG_BATCH_DELAY_MS: '30000', RUNNER_ID: 'doomed-runner' });
    const queued = await enqueue(env, 'ok', {});
    const task: TaskRecord = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    expect(task.logS3Key).toMatch(/^logs\/batches\//);
    proc.child.kill('SIGKILL');
    await proc.exited;
    const endedAt = task.endedAt as number;
    expect(await readTaskLog(env.clients.s3, env.config.bucket, task, { now: endedAt + 1000 })).toMatchObject({ state: 'pending' });
    const read = await readTaskLog(env.clients.s3, env.config.bucket, task, { now: endedAt + LOG_UPLOAD_DEADLINE_MS + 1 });
    expect(read).toMatchObject({ state: 'lost' });
    expect(read.state === 'lost' && read.message).toContain('doomed-runner');
    // The object was never written: nothing of it can appear later either.
    await expect(env.clients.s3.send(new HeadObjectCommand({ Bucket: env.config.bucket, Key: task.logS3Key as string }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('sends the open batch when the runner stops', async () => {
    runner = await startRunner(env, { RUNNER_LOG_BATCH_DELAY_MS: '30000' });
    const queued = await enqueue(env, 'ok', {});
    const task = await waitForTask(env, queued.id, settled);
    await waitUntil(() => runner!.summaries.some((s) => s.taskId === task.id), 10_000, 'the task summary');
    await runner.stop();
    const read = await readTaskLog(env.clients.s3, env.config.bucket, task);
    expect(read.state).toBe('available');
  });
});
