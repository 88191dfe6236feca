import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { enqueue, sendMessage, settled, startRunner, waitForTask, waitUntil, type TestRunner } from './runner-harness';

jest.setTimeout(60_000);

/** What arrives on the queue: poison, duplicates, stale claims, expired tasks. */
describe('runner: messages', () => {
  let env: TestEnvironment;
  let runner: TestRunner;
  let dlqUrl: string;

  beforeAll(async () => {
    env = await createTestEnvironment('runner-messages', { queueAttributes: { VisibilityTimeout: '1' } });
    // Poison messages go to a dead-letter queue after a few receives, as in the deployed stack.
    const dlq = await env.clients.sqs.send(new CreateQueueCommand({ QueueName: `${env.config.tableName}-dlq` }));
    dlqUrl = dlq.QueueUrl as string;
    const attrs = await env.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    await env.clients.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: env.config.queueUrls.small,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: attrs.Attributes?.QueueArn, maxReceiveCount: 3 }) },
      }),
    );
    runner = await startRunner(env);
  });

  afterAll(async () => {
    await runner?.stop();
    await env?.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => undefined);
    await env?.cleanup();
  });

  const queueDepth = async (url: string) => {
    const res = await env.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(res.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  };

  it('leaves unparseable and unknown-task messages for the dead-letter queue, logging each once', async () => {
    await sendMessage(env, 'small', 'this is not json');
    await sendMessage(env, 'small', JSON.stringify({ v: 1, taskId: '01NOSUCHTASK', token: 'abc' }));
    await waitUntil(async () => (await queueDepth(dlqUrl)) === 2, 20_000, 'both poison messages to reach the dead-letter queue');
    const res = await env.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10 }));
    expect((res.Messages ?? []).map((m) => m.Body).sort()).toEqual(['this is not json', JSON.stringify({ v: 1, taskId: '01NOSUCHTASK', token: 'abc' })].sort());
    const logged = runner.lines.filter((l) => l.msg === 'poison message left for the dead-letter queue');
    expect(logged).toHaveLength(2);
    expect(logged.map((l) => l.why).sort()).toEqual([expect.stringContaining('unknown task 01NOSUCHTASK'), expect.stringContaining('unparseable message: not JSON')]);
    // The runner was never stuck on them.
    const task = await enqueue(env, 'ok', {});
    expect((await waitForTask(env, task.id, settled)).status).toBe('completed');
  });

  it('drops and deletes a duplicate delivery while the task runs, running it once', async () => {
    const queued = await enqueue(env, 'slow', { ms: 1500 });
    await waitForTask(env, queued.id, (t) => t.status === 'running');
    await sendMessage(env, 'small', JSON.stringify({ v: 1, taskId: queued.id, token: queued.token }));
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    expect(task.attempt).toBe(1);
    await runner.summaryOf(queued.id);
    expect(runner.summaries.filter((s) => s.taskId === queued.id)).toHaveLength(1);
    await waitUntil(() => runner.lines.some((l) => l.msg === 'stale or duplicate message dropped' && l.taskId === queued.id), 5000, 'the duplicate to be dropped');
    await waitUntil(async () => (await queueDepth(env.config.queueUrls.small as string)) === 0, 5000, 'the queue to be empty');
  });

  it('drops a message whose token is stale and runs the task from its current claim', async () => {
    const queued = await enqueue(env, 'ok', { n: 1 }, { dueAt: Date.now() });
    await sendMessage(env, 'small', JSON.stringify({ v: 1, taskId: queued.id, token: 'an-old-claim' }));
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('completed');
    await runner.summaryOf(queued.id);
    expect(runner.summaries.filter((s) => s.taskId === queued.id)).toHaveLength(1);
    await waitUntil(async () => (await queueDepth(env.config.queueUrls.small as string)) === 0, 5000, 'the queue to be empty');
  });

  it('fails a task that reaches the runner after its expiry, without running it', async () => {
    const queued = await enqueue(env, 'ok', {}, { expiresAt: Date.now() - 1000 });
    const task = await waitForTask(env, queued.id, settled);
    expect(task.status).toBe('failed');
    expect(task.error?.reason).toBe('expired');
    expect(task.result).toBeUndefined();
  });
});
