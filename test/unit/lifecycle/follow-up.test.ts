import { defineCatalogue } from '../../../core/catalogue';
import type { RuntimeConfig } from '../../../core/config/runtime';
import { finishTask, runFollowUp, type TerminalOutcome } from '../../../core/lifecycle/finish';
import { occurrenceId } from '../../../core/model/keys';
import type { TaskRecord } from '../../../core/model/task';
import { JobfleetClient } from '../../../core/sdk/client';
import type { AwsClients } from '../../../core/store/aws-clients';
import { ManualClock } from '../../support/manual-clock';
import { memoryServices } from '../../support/memory-services';

/**
 * What follows a task's end (core/lifecycle/finish.ts), on the in-memory store and a manual
 * clock: a retry with its backoff, dependents released or failed, the idempotency outcome, a
 * schedule's next occurrence; each once in effect, however often it runs.
 */
const T0 = Date.parse('2027-01-04T09:00:00Z');
const catalogue = defineCatalogue({
  root: '/jobs',
  jobs: [
    { name: 'work', module: 'work.js', maxExecutionTime: 10_000, maxAttempts: 3, backoff: { initialMs: 1000, factor: 2, maxMs: 60_000 } },
    { name: 'once', module: 'once.js', maxExecutionTime: 10_000, maxAttempts: 1 },
  ],
});
const config = { tableName: 'memory', bucket: 'logs', queueUrls: { small: 'https://sqs.local/small' }, shards: 4, graceMs: 500 } as unknown as RuntimeConfig;

function setup() {
  const clock = new ManualClock(T0);
  const services = memoryServices(clock, { graceMs: 500 });
  const client = new JobfleetClient({ catalogue, services: { ...services.lifecycle, config, clients: {} as AwsClients } });
  const { store } = services.lifecycle;
  /** Claims and starts a pending task as a ticker and a runner would, then ends it so. */
  const runTo = async (id: string, outcome: TerminalOutcome): Promise<TaskRecord> => {
    const task = (await store.get(id)) as TaskRecord;
    const partitions = await Promise.all([0, 1, 2, 3].map((shard) => store.queryDue(task.slotClass, shard, clock.now())));
    const entry = partitions.flat().find((e) => e.id === id);
    if (!entry) throw new Error(`${id} is not in the due index`);
    const claim = await store.claim(entry, clock.now(), 60_000);
    const running = await store.start(id, claim!.token, 'runner-a', clock.now(), 5000);
    await clock.advance(100);
    return finishTask(services.lifecycle, { task: running, outcome }, clock.now());
  };
  const get = async (id: string) => (await store.get(id)) as TaskRecord;
  return { clock, client, store, runTo, get, lifecycle: services.lifecycle };
}

const failure = (message: string): TerminalOutcome => ({ status: 'failed', error: { reason: 'error', message } });

describe('after a failed attempt', () => {
  it('retries with the job\'s backoff while attempts remain, keeping each attempt in the history', async () => {
    const { client, runTo, get, clock } = setup();
    const task = await client.schedule('work', { n: 1 });
    await runTo(task.id, failure('first'));
    const second = await get(task.id);
    expect([second.status, second.attempt, second.dueAt]).toEqual(['pending', 2, clock.now() + 1000]);
    await clock.advance(1000);
    await runTo(task.id, failure('second'));
    const third = await get(task.id);
    expect([third.status, third.attempt, third.dueAt]).toEqual(['pending', 3, clock.now() + 2000]);
    expect(third.attempts?.map((a) => [a.attempt, a.status, a.reason, a.message, a.runnerId])).toEqual([
      [1, 'failed', 'error', 'first', 'runner-a'],
      [2, 'failed', 'error', 'second', 'runner-a'],
    ]);
    await clock.advance(2000);
    await runTo(task.id, failure('third'));
    const last = await get(task.id);
    expect([last.status, last.attempt, last.effectsDone, last.error?.message]).toEqual(['failed', 3, true, 'third']);
  });

  it('cuts a long message in the history (the full error stays in the attempt\'s log)', async () => {
    const { client, runTo, get } = setup();
    const task = await client.schedule('work');
    await runTo(task.id, failure('x'.repeat(5000)));
    expect((await get(task.id)).attempts?.[0]?.message).toHaveLength(300);
  });

  it('running the follow-up again (a crashed finisher, then the reaper) retries once', async () => {
    const { client, runTo, get, lifecycle, clock } = setup();
    const task = await client.schedule('work');
    const ended = await runTo(task.id, failure('boom'));
    await runFollowUp(lifecycle, ended, clock.now());
    const after = await get(task.id);
    expect([after.status, after.attempt, after.attempts?.length]).toEqual(['pending', 2, 1]);
  });
});

describe('dependents (startAfter)', () => {
  it('become due when their predecessor completes', async () => {
    const { client, runTo, get } = setup();
    const first = await client.schedule('once');
    const next = await client.schedule('once', null, { startAfter: first.id });
    expect((await get(next.id)).status).toBe('pending');
    await runTo(first.id, { status: 'completed', result: 1 });
    const released = await get(next.id);
    expect(released.status).toBe('pending');
    await runTo(next.id, { status: 'completed', result: 2 });
    expect((await get(next.id)).status).toBe('completed');
  });

  it('fail as dependency-failed when their predecessor fails for good', async () => {
    const { client, runTo, get } = setup();
    const first = await client.schedule('once');
    const next = await client.schedule('once', null, { startAfter: first.id });
    await runTo(first.id, failure('no'));
    const failed = await get(next.id);
    expect([failed.status, failed.error?.reason, failed.effectsDone]).toEqual(['failed', 'dependency-failed', true]);
  });
});

describe('idempotency and schedules', () => {
  it('records the outcome under the idempotency key once the task has ended for good', async () => {
    const { client, runTo } = setup();
    const task = await client.schedule('once', null, { idempotencyKey: 'invoice-42' });
    expect(await client.hasExecutedSuccessfully('invoice-42')).toBe(false);
    await runTo(task.id, { status: 'completed', result: null });
    expect(await client.hasExecutedSuccessfully('invoice-42')).toBe(true);
  });

  it('creates a schedule\'s next occurrence when one ends, carrying lastCompletedAt', async () => {
    const { client, runTo, get, clock } = setup();
    const schedule = await client.schedules.create('once', null, { id: 'every-minute', every: '1 minute' });
    const firstId = occurrenceId(schedule.id, schedule.nextDueAt, 'once');
    await runTo(firstId, { status: 'completed', result: null });
    const completedAt = clock.now();
    const after = await client.schedules.get(schedule.id);
    expect(after.nextDueAt).toBe(schedule.nextDueAt + 60_000);
    const next = await get(occurrenceId(schedule.id, after.nextDueAt, 'once'));
    expect([next.status, next.lastCompletedAt]).toEqual(['pending', completedAt]);
  });
});
