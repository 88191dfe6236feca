import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { countCalls } from '../../../bench/call-counter';
import { S3FileSink, type FileSink } from '../../../runner/log/upload';
import type { ProtectionPort } from '../../../runner/protection';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { LOG_UPLOAD_DEADLINE_MS } from '../../../core/logs/log-location';
import { readTaskLog } from '../../../core/logs/read-log';
import { enqueue, settled, startRunner, taskLogText, waitForTask, waitUntil, type TestRunner } from './runner-harness';

jest.setTimeout(60_000);

/**
 * ECS scale-in protection (through a fake port: no ECS locally) and S3 failures. (Status events
 * no longer come from the runner: test/integration/status-events/stream.test.ts.)
 */
describe('runner: protection, upload failures', () => {
  let env: TestEnvironment;
  let runner: TestRunner | undefined;

  beforeEach(async () => {
    env = await createTestEnvironment('runner-misc');
  });

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await env?.cleanup();
  });

  it('protects the runner from scale-in while it has tasks, and releases it when idle', async () => {
    const calls: boolean[] = [];
    const port: ProtectionPort = { set: async (enabled) => void calls.push(enabled) };
    runner = await startRunner(env, { RUNNER_PROTECTION_RELEASE_DELAY_MS: '3000' }, { protection: port });
    const a = await enqueue(env, 'slow', { ms: 400 });
    await waitForTask(env, a.id, (t) => t.status === 'running');
    await waitUntil(() => calls.length === 1, 30_000, 'protection on');
    expect(runner.app.protection.isProtected).toBe(true);
    await waitForTask(env, a.id, settled);
    // Back-to-back tasks inside the release delay keep it on without flapping (3 s: on a loaded
    // machine the next task can take more than a second to be enqueued, received and started).
    const b = await enqueue(env, 'ok', {});
    await waitForTask(env, b.id, settled);
    await waitUntil(() => calls.length === 2, 30_000, 'protection off');
    expect(calls).toEqual([true, false]);
    expect(runner.app.protection.isProtected).toBe(false);
  });

  it('records the outcome without waiting for its log; a log S3 keeps refusing is reported lost', async () => {
    const refuse = async () => Promise.reject(new Error('S3 is down'));
    const files: FileSink = { upload: refuse, putBytes: refuse };
    runner = await startRunner(env, {}, { files });
    const queued = await enqueue(env, 'ok', {});
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    expect(task.logS3Key).toMatch(/^logs\/batches\//);
    await waitUntil(() => runner!.lines.some((l) => String(l.msg).startsWith('could not upload task logs') && l.key === task.logS3Key), 10_000, 'the lost batch reported');
    // Within the upload deadline a reader is told to wait; after it, that the log was lost.
    expect((await readTaskLog(env.clients.s3, env.config.bucket, task, { now: task.endedAt as number })).state).toBe('pending');
    const later = await readTaskLog(env.clients.s3, env.config.bucket, task, { now: (task.endedAt as number) + LOG_UPLOAD_DEADLINE_MS + 1 });
    expect(later).toMatchObject({ state: 'lost', message: expect.stringContaining('the log was lost') });
  });

  it('uploads a log above 5 MiB as a multipart upload, streamed from the file', async () => {
    const calls = countCalls(env.clients);
    runner = await startRunner(env, { RUNNER_LOG_CAP_BYTES: String(8 * 1024 * 1024) });
    const queued = await enqueue(env, 'flood', { bytes: 6 * 1024 * 1024 });
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    // A large log keeps its own object (no range), uploaded after the outcome.
    expect(task.logS3Key).toBe(`logs/flood/${queued.id}/1.log`);
    expect(task.logRange).toBeUndefined();
    await waitUntil(() => (calls.calls.get('S3.CompleteMultipartUpload') ?? 0) > 0, 30_000, 'the multipart upload');
    await runner.stop();
    const head = await env.clients.s3.send(new HeadObjectCommand({ Bucket: env.config.bucket, Key: task.logS3Key as string }));
    expect(head.ContentLength).toBeGreaterThan(6 * 1024 * 1024);
    expect(head.ContentLength).toBeLessThan(8 * 1024 * 1024 + 400);
    expect(calls.calls.get('S3.CreateMultipartUpload')).toBe(1);
    expect(calls.calls.get('S3.UploadPart')).toBe(2);
    expect(calls.calls.get('S3.CompleteMultipartUpload')).toBe(1);
  });

  it('retries a log batch upload that fails once', async () => {
    // The sink's own retry is what is tested: the first PutObject fails, the second goes through.
    let puts = 0;
    env.clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutObjectCommand' && puts++ === 0) throw Object.assign(new Error('connection reset'), { name: 'NotRetryableByTheSdk', $metadata: {} });
        return next(args);
      },
      { step: 'initialize', name: 'failFirstUpload' },
    );
    runner = await startRunner(env, {}, { files: new S3FileSink(env.clients.s3, { bucket: env.config.bucket, retryDelayMs: 10 }) });
    const queued = await enqueue(env, 'ok', {});
    const task = await waitForTask(env, queued.id, settled);
    expect(await taskLogText(env, task)).toContain('"task ended"');
    expect(puts).toBe(2);
  });
});
