import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, UpdateCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import type { Clock } from '../../../core/clock';
import type { FleetConfig } from '../../../core/config/fleet';
import { finishTask, type TerminalOutcome } from '../../../core/lifecycle/finish';
import { DEFAULT_BACKOFF } from '../../../core/model/backoff';
import { taskKey } from '../../../core/model/keys';
import { newTask, type NewTaskInput } from '../../../core/model/new-task';
import type { JobSnapshot, TaskRecord } from '../../../core/model/task';
import type { Services } from '../../../core/services';
import { createTask } from '../../../core/lifecycle/create-task';
import { newTaskItem } from '../../../core/store/task-item';
import type { TickerOptions } from '../../../functions/ticker/config';
import { SqsDispatcher, type DispatchSender } from '../../../functions/ticker/sqs-dispatcher';
import { Ticker } from '../../../functions/ticker/tick';
import { createTestEnvironment, type TestEnvironment, type TestEnvironmentOptions } from '../../support/resources';

/** The fake clock's start: tests pass `now` to tick explicitly and move it by hand. */
export const T0 = Date.parse('2026-11-23T12:00:00Z');

export const SMALL_JOB: JobSnapshot = {
  job: 'email',
  slots: 1,
  slotClass: 'small',
  maxExecutionMs: 60_000,
  maxAttempts: 3,
  backoff: { ...DEFAULT_BACKOFF, initialMs: 1000 },
  retentionMs: 86_400_000,
  maxConcurrency: 0,
};
export const LARGE_JOB: JobSnapshot = { ...SMALL_JOB, job: 'render', slots: 8, slotClass: 'large' };

/** Room for thousands of queued tasks, so headroom never gets in the way unless a test wants it. */
export const ROOMY_FLEET: FleetConfig = {
  classes: [
    { name: 'small', slotsPerRunner: 4, cpu: 512, memoryMiB: 1024, minRunners: 0, maxRunners: 1000 },
    { name: 'large', slotsPerRunner: 16, cpu: 2048, memoryMiB: 4096, minRunners: 0, maxRunners: 10 },
  ],
};

export interface Received {
  readonly taskId: string;
  readonly token: string;
}

export interface TickerHarness {
  readonly env: TestEnvironment;
  readonly services: Services;
  readonly ticker: Ticker;
  readonly logs: Record<string, unknown>[];
  readonly metrics: Record<string, unknown>[];
  /** A ticker on its own clients and services (another "instance"). */
  /** A ticker of its own; `clock` times the messages it holds for tasks claimed ahead (default the wall clock). */
  newTicker(options?: Partial<TickerOptions>, services?: Services, sender?: DispatchSender, clock?: Clock): Ticker;
  put(input: Partial<NewTaskInput>, job?: JobSnapshot): Promise<TaskRecord>;
  /** Writes many tasks fast (BatchWrite), as the SDK would one by one. */
  putMany(tasks: readonly TaskRecord[]): Promise<void>;
  /** Drains a class queue (messages stay invisible for 10 minutes, so each is received once). */
  receive(slotClass: string): Promise<Received[]>;
  get(id: string): Promise<TaskRecord>;
  /** What a runner does: start with the message's token, then finish through the shared path. */
  run(message: Received, outcome: TerminalOutcome, startAt: number, endAt: number): Promise<TaskRecord>;
  /** Edits a stored task item by hand (to make it malformed). */
  edit(id: string, set: Record<string, unknown>, remove?: string[]): Promise<void>;
  cleanup(): Promise<void>;
}

export interface HarnessOptions extends TestEnvironmentOptions {
  readonly options?: Partial<TickerOptions>;
}

export async function tickerHarness(prefix: string, o: HarnessOptions = {}): Promise<TickerHarness> {
  const fleet = o.fleet ?? ROOMY_FLEET;
  const env = await createTestEnvironment(prefix, { ...o, fleet });
  const { services } = env;
  const logs: Record<string, unknown>[] = [];
  const metrics: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const newTicker = (options: Partial<TickerOptions> = {}, svc: Services = services, sender?: DispatchSender, clock?: Clock) =>
    new Ticker({
      ...(clock ? { clock } : {}),
      lifecycle: svc,
      config: svc.config,
      fleet,
      sender: sender ?? new SqsDispatcher(svc.clients.sqs, svc.config.queueUrls),
      logger,
      metrics: (docs) => void metrics.push(...docs),
      options: { lookaheadMs: 0, ...o.options, ...options },
    });
  const get = async (id: string) => {
    const t = await services.store.get(id);
    if (!t) throw new Error(`task ${id} not found`);
    return t;
  };
  return {
    env,
    services,
    ticker: newTicker(),
    logs,
    metrics,
    newTicker,
    async put(input, job = SMALL_JOB) {
      const task = newTask(job, { args: null, dueAt: T0, ...input }, T0 - 60_000);
      // As the SDK writes it (a startAfter task registers on its predecessor).
      return createTask(services, task, () => T0);
    },
    async putMany(tasks) {
      const chunks: TaskRecord[][] = [];
      for (let i = 0; i < tasks.length; i += 25) chunks.push(tasks.slice(i, i + 25));
      const write = async (chunk: TaskRecord[]) => {
        let requests: unknown[] | undefined = chunk.map((t) => ({ PutRequest: { Item: newTaskItem(t, services.config.shards) } }));
        while (requests?.length) {
          const res: BatchWriteCommandOutput = await services.clients.doc.send(new BatchWriteCommand({ RequestItems: { [services.config.tableName]: requests as never } }));
          requests = res.UnprocessedItems?.[services.config.tableName];
        }
      };
      for (let i = 0; i < chunks.length; i += 8) await Promise.all(chunks.slice(i, i + 8).map(write));
    },
    async receive(slotClass) {
      const url = services.config.queueUrls[slotClass] as string;
      const out: Received[] = [];
      const worker = async () => {
        for (let empty = 0; empty < 2; ) {
          const res = await services.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 600 }));
          const messages = res.Messages ?? [];
          if (messages.length === 0) empty++;
          for (const m of messages) {
            const body = JSON.parse(m.Body ?? '{}') as { v: number; taskId: string; token: string };
            expect(Object.keys(body).sort()).toEqual(['taskId', 'token', 'v']);
            expect(body.v).toBe(1);
            out.push({ taskId: body.taskId, token: body.token });
          }
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      return out;
    },
    get,
    async run(message, outcome, startAt, endAt) {
      const task = await services.store.start(message.taskId, message.token, 'runner-test', startAt, services.config.leaseMs);
      return finishTask(services, { task, outcome }, endAt);
    },
    async edit(id, set, remove = []) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets = Object.entries(set).map(([k, v], i) => {
        names[`#s${i}`] = k;
        values[`:s${i}`] = v;
        return `#s${i} = :s${i}`;
      });
      const removes = remove.map((k, i) => {
        names[`#r${i}`] = k;
        return `#r${i}`;
      });
      await services.clients.doc.send(
        new UpdateCommand({
          TableName: services.config.tableName,
          Key: taskKey(id),
          UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    },
    cleanup: () => env.cleanup(),
  };
}
