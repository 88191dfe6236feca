import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { countCalls } from '../../../bench/call-counter';
import { S3FileSink, type FileSink } from '../../../runner/log/upload';
import type { ProtectionPort } from '../../../runner/protection';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { enqueue, settled, startRunner, waitForTask, waitUntil, type TestRunner } from './runner-harness';

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
    runner = await startRunner(env, { RUNNER_PROTECTION_RELEASE_DELAY_MS: '300' }, { protection: port });
    const a = await enqueue(env, 'slow', { ms: 400 });
    await waitForTask(env, a.id, (t) => t.status === 'running');
    await waitUntil(() => calls.length === 1, 30_000, 'protection on');
    expect(runner.app.protection.isProtected).toBe(true);
    await waitForTask(env, a.id, settled);
    // Back-to-back tasks inside the release delay keep it on without flapping.
    const b = await enqueue(env, 'ok', {});
    await waitForTask(env, b.id, settled);
    await waitUntil(() => calls.length === 2, 30_000, 'protection off');
    expect(calls).toEqual([true, false]);
    expect(runner.app.protection.isProtected).toBe(false);
  });

  it('records the outcome without logS3Key when the log upload keeps failing, and logs the error', async () => {
    const files: FileSink = { upload: async () => Promise.reject(new Error('S3 is down')) };
    runner = await startRunner(env, {}, { files });
    const queued = await enqueue(env, 'ok', {});
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    expect(task.logS3Key).toBeUndefined();
    expect(runner.lines.find((l) => l.msg?.toString().startsWith('could not upload the task log') && l.taskId === queued.id)).toBeDefined();
  });

  it('uploads a log above 5 MiB as a multipart upload, streamed from the file', async () => {
    const calls = countCalls(env.clients);
    runner = await startRunner(env, { RUNNER_LOG_CAP_BYTES: String(8 * 1024 * 1024) });
    const queued = await enqueue(env, 'flood', { bytes: 6 * 1024 * 1024 });
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    const head = await env.clients.s3.send(new HeadObjectCommand({ Bucket: env.config.bucket, Key: task.logS3Key as string }));
    expect(head.ContentLength).toBeGreaterThan(6 * 1024 * 1024);
    expect(head.ContentLength).toBeLessThan(8 * 1024 * 1024 + 400);
    expect(calls.calls.get('S3.CreateMultipartUpload')).toBe(1);
    expect(calls.calls.get('S3.UploadPart')).toBe(2);
    expect(calls.calls.get('S3.CompleteMultipartUpload')).toBe(1);
  });

  it('retries an upload that fails once and records the key', async () => {
    // The sink's own retry is what is tested: the first PutObject fails, the second goes through.
    let failures = 0;
    env.clients.s3.middlewareStack.add(
      (next) => async (args) => {
        if (failures++ === 0) throw Object.assign(new Error('connection reset'), { name: 'NotRetryableByTheSdk', $metadata: {} });
        return next(args);
      },
      { step: 'initialize', name: 'failFirstUpload' },
    );
    runner = await startRunner(env, {}, { files: new S3FileSink(env.clients.s3, { bucket: env.config.bucket, retryDelayMs: 10 }) });
    const queued = await enqueue(env, 'ok', {});
    const task = await waitForTask(env, queued.id, settled);
    expect(task.logS3Key).toBe(`logs/ok/${queued.id}/1.log`);
    expect(failures).toBe(2);
  });
});
