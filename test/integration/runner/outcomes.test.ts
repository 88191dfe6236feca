import { existsSync } from 'node:fs';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { occurrenceId } from '../../../core/model/keys';
import { buildOccurrence } from '../../../core/model/occurrence';
import type { ScheduleRecord, TaskRecord } from '../../../core/model/task';
import { dispatch, enqueue, enqueueSnapshot, fixtures, readObject, settled, taskLogText, startRunner, waitForTask, waitUntil, type TestRunner } from './runner-harness';

const CAP = 256 * 1024;

jest.setTimeout(60_000);

/** Every ending of the job contract, through a real runner, real child processes and the local AWS. */
describe('runner: outcomes', () => {
  let env: TestEnvironment;
  let runner: TestRunner;

  beforeAll(async () => {
    env = await createTestEnvironment('runner-outcomes');
    runner = await startRunner(env, { RUNNER_LOG_CAP_BYTES: String(CAP), RUNNER_RESULT_INLINE_BYTES: String(32 * 1024) });
  });

  afterAll(async () => {
    await runner?.stop();
    await env?.cleanup();
  });

  const logOf = async (task: TaskRecord) => (await taskLogText(env, task)).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('completes a job that resolves, storing its result and uploading its log', async () => {
    const queued = await enqueue(env, 'ok', { hello: 'world' });
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    expect(task.runnerId).toBe('test-runner');
    expect(task.result).toMatchObject({ echo: { hello: 'world' }, attempt: 1, taskId: queued.id });
    // A small log is a slice of a batch object, recorded with the outcome before the upload.
    expect(task.logS3Key).toMatch(/^logs\/batches\/[0-9A-Z]{26}\.log$/);
    expect(task.logRange).toEqual({ offset: expect.any(Number), length: expect.any(Number) });
    const log = await logOf(task);
    expect(log[0]).toMatchObject({ msg: 'task started', taskId: queued.id, runnerId: 'test-runner' });
    expect(log.find((l) => l.msg === 'ok job ran')).toMatchObject({ taskId: queued.id, job: 'ok', attempt: 1, args: { hello: 'world' } });
    expect(log[log.length - 1]).toMatchObject({ msg: 'task ended', outcome: 'completed', exitCode: 0 });
    // One line on the runner's own log, with outcome, duration and the bound keys. It is written
    // after the task's terminal state, and reaches us through the runner's stdout a moment later.
    const endLines = () => runner.lines.filter((l) => l.msg === 'task ended' && l.taskId === queued.id);
    await waitUntil(() => endLines().length > 0, 5000, "the runner's 'task ended' line");
    const ends = endLines();
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ outcome: 'completed', job: 'ok', attempt: 1, runnerId: 'test-runner' });
    expect(typeof ends[0]?.durationMs).toBe('number');
    // The job's own lines never reach the runner's log.
    expect(runner.lines.find((l) => l.msg === 'ok job ran')).toBeUndefined();
  });

  it('fails a job that throws, with message and stack, and core retries it with backoff', async () => {
    const queued = await enqueue(env, 'crash', {});
    const retried = await waitForTask(env, queued.id, (t) => t.status === 'pending' && t.attempt === 2);
    const lastError = (retried as unknown as { lastError: { reason: string; message: string; stack: string } }).lastError;
    expect(lastError.reason).toBe('error');
    expect(lastError.message).toContain('boom');
    expect(lastError.stack).toContain('crash.ts');
    expect(retried.dueAt).toBeGreaterThan(Date.now() + 30_000);
    const summary = await runner.summaryOf(queued.id);
    expect(summary).toMatchObject({ outcome: 'failed', reason: 'error' });
  });

  it('fails a job that exits with code 1, recording the code', async () => {
    const queued = await enqueue(env, 'exit1', {});
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('failed');
    expect(task.error).toMatchObject({ reason: 'exit-code', exitCode: 1 });
  });

  it('cancels a job that calls process.exit(100)', async () => {
    const queued = await enqueue(env, 'exit100', {});
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('cancelled');
    expect(task.error).toMatchObject({ reason: 'cancelled', exitCode: 100 });
  });

  it.each([
    ['import-throws', 'cannot be loaded'],
    ['no-default', 'no default export function'],
    ['missing', 'not found'],
  ])('fails %s with job-load-failed, for good, and stays healthy', async (job, message) => {
    const queued = await enqueue(env, job, {});
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('failed');
    expect(task.attempt).toBe(1);
    expect(task.error?.reason).toBe('job-load-failed');
    expect(task.error?.message).toContain(message);
    const next = await enqueue(env, 'ok', { after: job });
    expect((await waitForTask(env, next.id, settled)).status).toBe('completed');
  });

  it('fails a task whose job is not in the catalogue, without running anything', async () => {
    const queued = await enqueueSnapshot(env, { ...fixtures.get('ok').snapshot, job: 'ghost' }, {});
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('failed');
    expect(task.error).toMatchObject({ reason: 'job-load-failed', message: `job "ghost" is not in this runner's catalogue` });
  });

  it('stores a result above the inline cap in S3 and records its key', async () => {
    const queued = await enqueue(env, 'big-result', { bytes: 100_000 });
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    expect(task.result).toBeUndefined();
    expect(task.resultS3Key).toBe(`results/big-result/${queued.id}/1.json`);
    const stored = JSON.parse(await readObject(env, task.resultS3Key as string)) as { items: string[] };
    expect(stored.items.length).toBeGreaterThan(90);
  });

  it('completes without a result when the value is not JSON, and says so in the task log', async () => {
    const queued = await enqueue(env, 'unserialisable', {});
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    expect(task.result).toBeUndefined();
    const log = await logOf(task);
    expect(log.find((l) => String(l.msg).startsWith('result dropped'))).toBeDefined();
  });

  it('persists progress through the heartbeat while the task runs', async () => {
    const queued = await enqueue(env, 'progress', { steps: 8, stepMs: 250 });
    const seen = new Set<number>();
    const task = await waitForTask(env, queued.id, (t) => {
      if (t.progress) seen.add(t.progress.percent);
      return settled(t);
    });
    expect(task.status).toBe('completed');
    // Written at most about once per progress interval (200 ms in tests), so some steps coalesce, but it moves.
    expect(seen.size).toBeGreaterThanOrEqual(2);
    const log = await logOf(task);
    expect(log.filter((l) => l.msg === 'progress').map((l) => l.percent)).toEqual([12.5, 25, 37.5, 50, 62.5, 75, 87.5, 100]);
  });

  it('caps a flooding log: one truncation marker, nothing after it, and the task still completes', async () => {
    const queued = await enqueue(env, 'flood', { bytes: 5 * CAP, rawEvery: 7 });
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    const text = await taskLogText(env, task);
    const lines = text.trim().split('\n');
    const marker = lines.findIndex((l) => l.includes('log truncated'));
    expect(marker).toBe(lines.length - 1);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(CAP + 400);
    // Raw console output is wrapped into JSON lines too.
    expect(lines.slice(0, marker).every((l) => l.startsWith('{') && JSON.parse(l))).toBe(true);
    expect(lines.some((l) => l.includes('"stream":"stdout"'))).toBe(true);
  });

  it('evaluates the module\'s nextRun for a computed schedule and passes it on: the next occurrence exists', async () => {
    const now = Date.now();
    const schedule: ScheduleRecord = {
      id: `computed-${now}`,
      job: 'next-run',
      args: {},
      spec: { kind: 'computed' },
      missedRuns: 'once',
      maxCatchUp: 10,
      priority: 100,
      active: true,
      nextDueAt: now,
      createdAt: now,
      snapshot: fixtures.get('next-run').snapshot,
    };
    const first = buildOccurrence(schedule, now, now, now - 86_400_000);
    expect(await env.services.schedules.create(schedule, first)).toBe(true);
    await dispatch(env, first);
    const task = await waitForTask(env, first.id, settled);
    expect(task.status).toBe('completed');
    expect(task.result).toEqual({ lastCompletedAt: new Date(now - 86_400_000).toISOString() });
    const after = await env.services.schedules.get(schedule.id);
    expect(after?.nextDueAt).toBe(now + 3_600_000);
    const next = await env.services.store.get(occurrenceId(schedule.id, now + 3_600_000, schedule.snapshot.job));
    expect(next).toMatchObject({ status: 'pending', scheduleId: schedule.id, dueAt: now + 3_600_000 });
  });

  it('keeps the task\'s tmpDir private and removes it afterwards', async () => {
    const queued = await enqueue(env, 'ok', {});
    const task = await waitForTask(env, queued.id, settled);
    const tmpDir = (task.result as { tmpDir: string }).tmpDir;
    expect(tmpDir.startsWith(runner.workDir)).toBe(true);
    // Removed after the outcome is recorded, before the runner reports the task done.
    await runner.summaryOf(queued.id);
    expect(existsSync(tmpDir)).toBe(false);
  });
});
