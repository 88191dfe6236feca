import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Hono } from 'hono';
import { finishTask } from '../../../core/lifecycle/finish';
import type { TaskRecord } from '../../../core/model/task';
import { AggregateStore } from '../../../core/ops/aggregate-store';
import { JobfleetClient } from '../../../core/sdk/client';
import { createConsole } from '../../../functions/console/app';
import { awsClients } from '../../support/aws';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { fixtures } from '../runner/runner-harness';

jest.setTimeout(120_000);

/**
 * The console's guards and its many-task actions, over HTTP (the app's Fetch handler) against
 * the local AWS: who may use it, what a bulk action touches, and a dead-letter redrive.
 */
describe('the console over HTTP', () => {
  let env: TestEnvironment;
  let dlqUrl: string;
  let sdk: JobfleetClient;
  let consoleApp: (options?: Partial<Parameters<typeof createConsole>[0]>) => Hono;

  beforeAll(async () => {
    const { sqs } = awsClients();
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `console-dlq-${Date.now()}` }))).QueueUrl as string;
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn as string;
    env = await createTestEnvironment('console-actions', { queueAttributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: '5' }) } });
    sdk = new JobfleetClient({ catalogue: fixtures, services: env.services });
    const aggregates = new AggregateStore(env.clients.doc, env.config.tableName);
    consoleApp = (options = {}) => createConsole({ client: sdk, catalogue: fixtures, aggregates, ...options });
  });

  afterAll(async () => {
    await env?.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => undefined);
    await env?.cleanup();
  });

  describe('with a token', () => {
    const app = () => consoleApp({ auth: { token: 's3cret' } });

    it('refuses a request without it, with a Bearer challenge', async () => {
      const res = await app().request('/healthz');
      expect([res.status, res.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
      expect((await app().request('/healthz', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    });

    it('takes it as a Bearer header, as a basic-auth password, or once as ?token= (then as the cookie it sets)', async () => {
      expect((await app().request('/healthz', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
      expect((await app().request('/healthz', { headers: { authorization: `Basic ${Buffer.from('anyone:s3cret').toString('base64')}` } })).status).toBe(200);
      const first = await app().request('/healthz?token=s3cret');
      expect(first.status).toBe(200);
      const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
      expect(cookie).toBe('jobfleet_token=s3cret');
      expect(first.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
      expect((await app().request('/healthz', { headers: { cookie } })).status).toBe(200);
    });
  });

  it('with a user and password, asks for basic auth and takes only that pair', async () => {
    const app = consoleApp({ auth: { user: 'ops', password: 'pw' } });
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const refused = await app.request('/healthz', { headers: basic('ops', 'nope') });
    expect([refused.status, refused.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="jobfleet"']);
    expect((await app.request('/healthz', { headers: basic('ops', 'pw') })).status).toBe(200);
  });

  it('refuses an action posted from another site', async () => {
    const task = await sdk.schedule('noop', null, { delay: '1 hour' });
    const res = await consoleApp().request(`/tasks/${task.id}/cancel`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(res.status).toBe(403);
    expect((await sdk.get(task.id)).status).toBe('pending');
  });

  it('bulk cancel shows the count first, then cancels exactly the tasks of the filter', async () => {
    const slows = await Promise.all([1, 2, 3].map((i) => sdk.schedule('slow', { i }, { delay: '1 hour' })));
    const other = await sdk.schedule('ok', null, { delay: '1 hour' });
    const app = consoleApp();
    const preview = await (await app.request('/tasks/bulk?action=cancel&job=slow&status=pending')).text();
    expect(preview).toContain('<strong>3</strong> can be cancelled');
    for (const t of slows) expect((await sdk.get(t.id)).status).toBe('pending');

    const res = await app.request('/actions/bulk', { method: 'POST', body: new URLSearchParams({ action: 'cancel', job: 'slow', status: 'pending' }) });
    expect(res.status).toBe(303);
    expect(decodeURIComponent(res.headers.get('location') ?? '')).toContain('cancel: 3 of 3 done');
    for (const t of slows) expect((await sdk.get(t.id)).status).toBe('cancelled');
    expect((await sdk.get(other.id)).status).toBe('pending');
  });

  it('bulk retry gives every failed task of the filter another attempt', async () => {
    const failed: TaskRecord[] = [];
    for (const i of [1, 2]) {
      const t = await sdk.schedule('exit1', { i }, { delay: '1 hour' });
      failed.push(await finishTask(env.services, { task: t, outcome: { status: 'failed', error: { reason: 'expired', message: 'expired for the test' } } }, Date.now()));
    }
    const res = await consoleApp().request('/actions/bulk', { method: 'POST', body: new URLSearchParams({ action: 'retry', job: 'exit1', status: 'failed' }) });
    expect(decodeURIComponent(res.headers.get('location') ?? '')).toContain('retry: 2 of 2 done');
    for (const t of failed) {
      const again = await sdk.get(t.id);
      expect([again.status, again.attempt, again.attempts?.[0]?.reason]).toEqual(['pending', 2, 'expired']);
    }
  });

  it('redrive moves a class\'s dead letters back to its queue', async () => {
    for (const n of [1, 2, 3]) await env.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify({ n }) }));
    const res = await consoleApp().request('/fleet/small/redrive', { method: 'POST' });
    expect(decodeURIComponent(res.headers.get('location') ?? '')).toContain('small: moved 3 dead letters back to the queue');
    const depth = async (url: string) => Number((await env.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages);
    expect(await depth(dlqUrl)).toBe(0);
    expect(await depth(env.config.queueUrls.small as string)).toBe(3);
  });
});
