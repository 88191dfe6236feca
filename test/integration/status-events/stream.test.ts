import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, DeleteEventBusCommand, DeleteRuleCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, type EventPublisher, type StatusEvent } from '../../../core/lifecycle/events';
import type { TaskRecord } from '../../../core/model/task';
import { JobfleetClient } from '../../../core/sdk/client';
import { createStatusEventsFromEnv } from '../../../functions/status-events/create';
import { runLocalStatusEvents } from '../../../functions/status-events/local-poller';
import { StreamPoller } from '../../../functions/status-events/stream-poller';
import type { StreamRecord } from '../../../functions/status-events/stream-record';
import { noMetrics } from '../../../functions/ticker/metrics';
import { SqsDispatcher } from '../../../functions/ticker/sqs-dispatcher';
import { Ticker } from '../../../functions/ticker/tick';
import { uniqueName } from '../../support/aws';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { fixtures, startRunner, waitForTask, waitUntil, type TestRunner } from '../runner/runner-harness';

jest.setTimeout(90_000);

interface Envelope {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: StatusEvent;
}

/**
 * Status events end to end on the local AWS: the SDK schedules, a ticker dispatches, a runner
 * runs; the table's stream is read by the local poller, which calls the Lambda handler's code;
 * events arrive through a real EventBridge rule on an SQS queue.
 */
describe('status events from the table stream', () => {
  let env: TestEnvironment;
  let runner: TestRunner | undefined;
  let stop: AbortController;
  let background: Promise<unknown>[];
  let bus: string;
  let queueUrl: string;
  const rule = 'all-status-events';

  async function setUp(mode: 'terminal' | 'all'): Promise<{ sdk: JobfleetClient; consumerEnv: Record<string, string | undefined> }> {
    env = await createTestEnvironment('status-events', { stream: true });
    bus = uniqueName('status-bus');
    await env.clients.events.send(new CreateEventBusCommand({ Name: bus }));
    queueUrl = (await env.clients.sqs.send(new CreateQueueCommand({ QueueName: `${bus}-seen` }))).QueueUrl as string;
    const { Attributes } = await env.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    await env.clients.events.send(new PutRuleCommand({ Name: rule, EventBusName: bus, EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }) }));
    await env.clients.events.send(new PutTargetsCommand({ Rule: rule, EventBusName: bus, Targets: [{ Id: 'seen', Arn: Attributes?.QueueArn }] }));

    stop = new AbortController();
    background = [];
    const ticker = new Ticker({
      lifecycle: env.services,
      config: env.config,
      fleet: fixtures.fleet,
      sender: new SqsDispatcher(env.clients.sqs, env.config.queueUrls),
      logger: pino({ level: 'silent' }),
      metrics: noMetrics,
      options: { lookaheadMs: 0 },
    });
    background.push(
      (async () => {
        while (!stop.signal.aborted) {
          await ticker.tick(Date.now());
          await new Promise((r) => setTimeout(r, 150));
        }
      })(),
    );
    runner = await startRunner(env);
    const consumerEnv = {
      ...process.env,
      JOBFLEET_TABLE: env.config.tableName,
      JOBFLEET_EVENT_BUS: bus,
      JOBFLEET_STATUS_EVENTS: mode,
      JOBFLEET_LOG_LEVEL: process.env.DEBUG_STATUS_EVENTS ? 'debug' : 'silent',
    };
    return { sdk: new JobfleetClient({ catalogue: fixtures, services: env.services }), consumerEnv };
  }

  afterEach(async () => {
    stop?.abort();
    await Promise.all(background ?? []);
    await runner?.stop();
    runner = undefined;
    await env.clients.events.send(new RemoveTargetsCommand({ Rule: rule, EventBusName: bus, Ids: ['seen'] })).catch(() => undefined);
    await env.clients.events.send(new DeleteRuleCommand({ Name: rule, EventBusName: bus })).catch(() => undefined);
    await env.clients.events.send(new DeleteEventBusCommand({ Name: bus })).catch(() => undefined);
    await env.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    await env?.cleanup();
  });

  /** Receives from the rule's queue until `count` events arrived (then for `settleMs` more, to catch extras). */
  async function receiveEvents(count: number, settleMs = 1500, timeoutMs = 30_000): Promise<Envelope[]> {
    const seen: Envelope[] = [];
    const deadline = Date.now() + timeoutMs;
    let settleUntil = Infinity;
    while (Date.now() < Math.min(deadline, settleUntil)) {
      const res = await env.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      seen.push(...(res.Messages ?? []).map((m) => JSON.parse(m.Body as string) as Envelope));
      if (seen.length >= count && settleUntil === Infinity) settleUntil = Date.now() + settleMs;
    }
    return seen;
  }

  const byTask = (events: Envelope[], task: TaskRecord) => events.map((e) => e.detail).filter((d) => d.taskId === task.id);

  it('terminal (the default): one event per ending, with the real previous status; the terminal write is the task\'s last write', async () => {
    const { sdk, consumerEnv } = await setUp('terminal');
    const p = createStatusEventsFromEnv(consumerEnv);
    const records: StreamRecord[] = [];
    const streams = new DynamoDBStreamsClient({ region: env.config.region, endpoint: env.config.endpoint });
    const { Table } = await env.clients.dynamodb.send(new DescribeTableCommand({ TableName: env.config.tableName }));
    const poller = new StreamPoller({
      client: streams,
      streamArn: Table?.LatestStreamArn as string,
      // The handler's code path, watched: every record the stream delivered.
      handle: (batch) => (records.push(...batch), p.handle(batch)),
      logger: p.logger,
      idleMs: 100,
    });
    background.push(poller.run(stop.signal).finally(() => streams.destroy()));

    const ok = await sdk.schedule('ok', {});
    const crash = await sdk.schedule('crash', {}); // fails; 2 attempts, so its first failure is retried (in a minute)
    await waitForTask(env, ok.id, (t) => t.status === 'completed');
    await waitForTask(env, crash.id, (t) => t.status === 'pending' && t.attempt === 2);

    const events = await receiveEvents(2);
    expect(events.every((e) => e.source === EVENT_SOURCE && e['detail-type'] === EVENT_DETAIL_TYPE)).toBe(true);
    const completed = (await env.services.store.get(ok.id)) as TaskRecord;
    expect(byTask(events, ok)).toEqual([
      { eventId: `${ok.id}:1:completed`, taskId: ok.id, job: 'ok', from: 'running', to: 'completed', attempt: 1, at: completed.endedAt },
    ]);
    expect(byTask(events, crash)).toEqual([expect.objectContaining({ eventId: `${crash.id}:1:retrying`, from: 'running', to: 'retrying', attempt: 1, reason: expect.any(String) })]);
    expect(events).toHaveLength(2);

    // With events on, nothing follows the terminal write of a task that needs no follow-up work:
    // the last change the stream carries for it is the terminal write, which also settles it.
    await waitUntil(() => records.some((r) => r.dynamodb?.NewImage?.id?.S === ok.id && r.dynamodb.NewImage.status?.S === 'completed'), 5000, 'the terminal record');
    const okRecords = records.filter((r) => r.dynamodb?.NewImage?.id?.S === ok.id);
    // Status changes only: a slow machine may add a heartbeat (running -> running) while the task runs.
    const changes = okRecords.filter((r) => r.eventName === 'INSERT' || r.dynamodb?.OldImage?.status?.S !== r.dynamodb?.NewImage?.status?.S);
    expect(changes.map((r) => `${r.eventName} ${r.dynamodb?.NewImage?.status?.S}`)).toEqual(['INSERT pending', 'MODIFY queued', 'MODIFY running', 'MODIFY completed']);
    expect(okRecords.at(-1)?.dynamodb?.NewImage?.effectsDone).toEqual({ BOOL: true });
  });

  it('all: claim, start and end, each at the time its write recorded, from the local poller process code', async () => {
    const { sdk, consumerEnv } = await setUp('all');
    background.push(runLocalStatusEvents(consumerEnv, stop.signal, { idleMs: 100, discoverEveryMs: 1000 }));
    const ok = await sdk.schedule('ok', {});
    await waitForTask(env, ok.id, (t) => t.status === 'completed');
    // A standard SQS queue behind the bus does not keep order: match by transition, order by the recorded times.
    const events = byTask(await receiveEvents(3), ok);
    expect(events).toHaveLength(3);
    const lifecycle = ['pending->queued', 'queued->running', 'running->completed'];
    const byTransition = new Map(events.map((e) => [`${e.from}->${e.to}`, e]));
    expect([...byTransition.keys()].sort()).toEqual([...lifecycle].sort());
    expect(lifecycle.map((t) => byTransition.get(t)?.eventId)).toEqual([`${ok.id}:1:queued`, `${ok.id}:1:running`, `${ok.id}:1:completed`]);
    const done = (await env.services.store.get(ok.id)) as TaskRecord;
    expect(lifecycle.map((t) => byTransition.get(t)?.at)).toEqual([done.queuedAt, done.startedAt, done.endedAt]);
  });

  it('a failed publish is retried from its record: nothing is lost, and what was published before is not sent again', async () => {
    const { sdk, consumerEnv } = await setUp('terminal');
    const calls: StatusEvent[][] = [];
    let failures = 0;
    const publisher: EventPublisher = {
      async publish(events) {
        calls.push([...events]);
        if (events.some((e) => e.job === 'noop') && failures++ < 2) throw new Error('EventBridge is down');
      },
    };
    background.push(runLocalStatusEvents(consumerEnv, stop.signal, { publisher, idleMs: 100, retryDelayMs: 200 }));
    const first = await sdk.schedule('ok', {});
    await waitUntil(() => calls.flat().some((e) => e.taskId === first.id), 20_000, 'the first event');
    const second = await sdk.schedule('noop', null);
    await waitUntil(() => failures > 2, 20_000, 'the publish after two failures');
    const published = calls.flat().map((e) => e.taskId);
    // The noop's event was offered three times (two failures, then success); the ok's only once.
    expect(published.filter((id) => id === second.id)).toHaveLength(3);
    expect(published.filter((id) => id === first.id)).toHaveLength(1);
  });
});
