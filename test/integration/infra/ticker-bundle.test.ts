import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { newTask } from '../../../core/model/new-task';
import catalogue from '../../../jobs/catalogue';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { synthWholeApp } from '../../unit/infra/support';

/**
 * The ticker bundle that `cdk synth` produces (esbuild, no Docker) is the code the Lambda runs:
 * load it and invoke its handler against the local AWS, as EventBridge would.
 */
describe('the synthesized ticker bundle', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobfleet-bundle-'));
  let env: TestEnvironment;
  const saved = { ...process.env };

  beforeAll(async () => {
    env = await createTestEnvironment('bundle');
  });
  afterAll(async () => {
    process.env = saved;
    fs.rmSync(outdir, { recursive: true, force: true });
    await env.cleanup();
  });

  it('claims a due task and sends it to its slot class queue within one invocation', async () => {
    const { tickerBundle } = synthWholeApp(outdir);
    const task = newTask(catalogue.get('noop').snapshot, { args: null, dueAt: Date.now() }, Date.now());
    await env.services.store.create(task);

    Object.assign(process.env, {
      JOBFLEET_TABLE: env.config.tableName,
      JOBFLEET_BUCKET: env.config.bucket,
      JOBFLEET_QUEUES: JSON.stringify(env.config.queueUrls),
      JOBFLEET_SHARDS: String(env.config.shards),
      JOBFLEET_TICK_INTERVAL_MS: '200',
      JOBFLEET_TICK_RESERVE_MS: '300',
      JOBFLEET_METRICS: 'off',
      JOBFLEET_LOG_LEVEL: 'warn',
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(tickerBundle) as { handler: (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<{ ticks: number }> };
    const deadline = Date.now() + 2500;
    const summary = await handler({ source: 'aws.events' }, { getRemainingTimeInMillis: () => deadline - Date.now() });
    expect(summary.ticks).toBeGreaterThan(1);

    const received = await env.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: env.config.queueUrls.small, WaitTimeSeconds: 2, MaxNumberOfMessages: 10 }));
    const bodies = (received.Messages ?? []).map((m) => JSON.parse(m.Body as string) as { taskId: string; token: string });
    const stored = await env.services.store.mustGet(task.id);
    expect(stored.status).toBe('queued');
    expect(bodies).toEqual([{ v: 1, taskId: task.id, token: stored.token }]);
  });
});
