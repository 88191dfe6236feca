import pino from 'pino';
import type { FleetConfig } from '../../../core/config/fleet';
import { finishTask } from '../../../core/lifecycle/finish';
import { newTask } from '../../../core/model/new-task';
import type { JobSnapshot, TaskRecord } from '../../../core/model/task';
import type { DispatchMessage } from '../../../core/protocol/dispatch-message';
import { noMetrics } from '../../../functions/ticker/metrics';
import type { DispatchSender } from '../../../functions/ticker/sqs-dispatcher';
import { Ticker } from '../../../functions/ticker/tick';
import { ManualClock } from '../../support/manual-clock';
import { memoryServices } from '../../support/memory-services';

/**
 * The ticker's decisions, on the in-memory store and a manual clock: what it claims and sends,
 * and what its reaper does with in-flight tasks whose time has come.
 */
const T0 = Date.parse('2027-01-04T09:00:00Z');
const WINDOW_MS = 5000;
const GRACE_MS = 1000;
const LEASE_MS = 3000;

const FLEET: FleetConfig = { classes: [{ name: 'small', slotsPerRunner: 4, cpu: 512, memoryMiB: 1024, minRunners: 0, maxRunners: 2 }] };

const job = (over: Partial<JobSnapshot> = {}): JobSnapshot => ({
  job: 'work',
  slots: 1,
  slotClass: 'small',
  maxExecutionMs: 60_000,
  maxAttempts: 2,
  backoff: { initialMs: 1000, factor: 2, maxMs: 10_000 },
  retentionMs: 86_400_000,
  maxConcurrency: 0,
  ...over,
});

class RecordingSender implements DispatchSender {
  readonly sent: DispatchMessage[] = [];
  /** What the class's queue reports waiting unreceived (undefined: the sender cannot tell). */
  depth: number | undefined = undefined;
  depthReads = 0;
  async send(_slotClass: string, messages: readonly DispatchMessage[]) {
    this.sent.push(...messages);
    return { failed: [] };
  }
  async waiting() {
    this.depthReads++;
    return this.depth;
  }
}

function setup() {
  const clock = new ManualClock(T0);
  const services = memoryServices(clock, { graceMs: GRACE_MS });
  const sender = new RecordingSender();
  const ticker = (fleet: FleetConfig = FLEET, coldStartMs = 0) =>
    new Ticker({
      lifecycle: services.lifecycle,
      config: { queueUrls: { small: 'https://sqs.local/small' }, shards: 4, dispatchWindowMs: WINDOW_MS, graceMs: GRACE_MS },
      fleet,
      sender,
      logger: pino({ level: 'silent' }),
      metrics: noMetrics,
      options: { lookaheadMs: 0, coldStartMs },
    });
  const { store } = services.lifecycle;
  const create = async (over: Partial<JobSnapshot> = {}, input: { dueAt?: number; expiresAt?: number } = {}) => {
    const task = newTask(job(over), { args: { n: 1 }, dueAt: input.dueAt ?? clock.now(), ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}) }, clock.now());
    await store.create(task);
    return task;
  };
  const get = async (t: TaskRecord) => (await store.get(t.id)) as TaskRecord;
  return { clock, services, sender, ticker, store, create, get };
}

describe('dispatch', () => {
  it('claims a due task once and sends it with the token it claimed, even with two tickers at the same moment', async () => {
    const { sender, ticker, create, get, clock } = setup();
    const task = await create();
    const [a, b] = [ticker(), ticker()];
    await Promise.all([a.tick(clock.now()), b.tick(clock.now())]);
    const queued = await get(task);
    expect(queued.status).toBe('queued');
    expect(sender.sent).toEqual([expect.objectContaining({ taskId: task.id, token: queued.token })]);
  });

  it('leaves a task that is not due yet, and sends it on the first tick at or after its due time', async () => {
    const { sender, ticker, create, get, clock } = setup();
    const task = await create({}, { dueAt: T0 + 10_000 });
    const t = ticker();
    await t.tick(T0 + 9_999);
    expect((await get(task)).status).toBe('pending');
    await clock.advanceTo(T0 + 10_000);
    await t.tick(clock.now());
    expect(sender.sent.map((m) => m.taskId)).toEqual([task.id]);
  });

  it('fails a pending task whose expiry passed as expired, without sending it', async () => {
    const { sender, ticker, create, get, clock } = setup();
    const task = await create({ maxAttempts: 1 }, { expiresAt: T0 + 1000 });
    await clock.advanceTo(T0 + 2000);
    await ticker().tick(clock.now());
    const ended = await get(task);
    expect([ended.status, ended.error?.reason]).toEqual(['failed', 'expired']);
    expect(sender.sent).toEqual([]);
  });

  it('claims no more tasks of a job than its maxConcurrency, and the next one once a slot is given back', async () => {
    const { sender, ticker, create, store, clock, services } = setup();
    const tasks = [await create({ maxConcurrency: 1 }), await create({ maxConcurrency: 1 })];
    const t = ticker();
    await t.tick(clock.now());
    expect(sender.sent).toHaveLength(1);
    const first = (await store.get(sender.sent[0]!.taskId)) as TaskRecord;
    const running = await store.start(first.id, first.token, 'runner-a', clock.now(), LEASE_MS);
    await finishTask(services.lifecycle, { task: running, outcome: { status: 'completed', result: null } }, clock.now());
    await clock.advance(1000);
    await t.tick(clock.now());
    expect(new Set(sender.sent.map((m) => m.taskId))).toEqual(new Set(tasks.map((x) => x.id)));
  });

  it('fails a task of a slot class the deployment has no queue for as invalid-task', async () => {
    const { sender, ticker, create, get, clock } = setup();
    const task = await create({ slotClass: 'huge', maxAttempts: 1 });
    // The fleet has the class (the catalogue's view) but the deployment has no queue for it.
    const withHuge: FleetConfig = { classes: [...FLEET.classes, { name: 'huge', slotsPerRunner: 32, cpu: 4096, memoryMiB: 8192, minRunners: 0, maxRunners: 1 }] };
    await ticker(withHuge).tick(clock.now());
    const ended = await get(task);
    expect([ended.status, ended.error?.reason]).toEqual(['failed', 'invalid-task']);
    expect(sender.sent).toEqual([]);
  });
});

describe('the reaper', () => {
  it('puts back a queued task no runner started within the dispatch window, and it is sent again with a new token', async () => {
    const { sender, ticker, create, get, clock } = setup();
    const task = await create();
    const t = ticker();
    await t.tick(clock.now());
    const firstToken = sender.sent[0]!.token;
    await clock.advance(WINDOW_MS - 1);
    await t.tick(clock.now());
    expect((await get(task)).status).toBe('queued');
    await clock.advance(2);
    await t.tick(clock.now());
    await t.tick(clock.now());
    const again = await get(task);
    expect(again.status).toBe('queued');
    expect(sender.sent.map((m) => m.taskId)).toEqual([task.id, task.id]);
    expect(sender.sent[1]!.token).toBe(again.token);
    expect(again.token).not.toBe(firstToken);
  });

  it('leaves a running task alone while its lease is renewed, and fails it as runner-lost once lease + grace passed; the retry keeps the attempt in its history', async () => {
    const { sender, ticker, create, get, store, clock } = setup();
    const task = await create();
    const t = ticker();
    await t.tick(clock.now());
    const { token } = sender.sent[0]!;
    await store.start(task.id, token, 'runner-a', clock.now(), LEASE_MS);
    for (let i = 0; i < 3; i++) {
      await clock.advance(LEASE_MS - 500);
      await store.heartbeat(task.id, token, clock.now(), LEASE_MS);
      await t.tick(clock.now());
      expect((await get(task)).status).toBe('running');
    }
    const lastLease = (await get(task)).leaseUntil as number;
    await clock.advanceTo(lastLease + GRACE_MS);
    await t.tick(clock.now());
    expect((await get(task)).status).toBe('running');
    await clock.advance(2);
    await t.tick(clock.now());
    const retried = await get(task);
    expect([retried.status, retried.attempt, retried.lastError?.reason]).toEqual(['pending', 2, 'runner-lost']);
    expect(retried.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'failed', reason: 'runner-lost', runnerId: 'runner-a', startedAt: T0 })]);
    expect(retried.attempts?.[0]?.message).toMatch(/^runner runner-a stopped renewing the lease/);
  });

  it('redoes the follow-up of a task whose finisher died after the terminal write, at its next look once the grace period has passed', async () => {
    const { sender, ticker, create, get, store, clock } = setup();
    const task = await create({ maxConcurrency: 1 });
    const t = ticker();
    await t.tick(clock.now());
    const running = await store.start(task.id, sender.sent[0]!.token, 'runner-a', clock.now(), LEASE_MS);
    // The runner's terminal write lands; it dies before its follow-up (slot back, settle).
    await store.end(running, { outcome: { status: 'completed', result: 42 }, now: clock.now(), graceMs: GRACE_MS });
    expect(await store.concurrencyHolders('job#work')).toEqual([task.id]);
    await clock.advance(GRACE_MS - 1);
    await t.tick(clock.now());
    expect((await get(task)).effectsDone).toBeFalsy();
    // Its entry's next look is the one its claim set: the end of the dispatch window.
    await clock.advanceTo(T0 + WINDOW_MS);
    await t.tick(clock.now());
    const done = await get(task);
    expect([done.status, done.effectsDone, done.result]).toEqual(['completed', true, 42]);
    expect(await store.concurrencyHolders('job#work')).toEqual([]);
  });

  it('leaves a queued task queued past its window while its class\'s queue holds unreceived messages (runners starting), up to the cold-start allowance', async () => {
    const COLD_MS = 3 * WINDOW_MS;
    const { sender, ticker, create, get, clock } = setup();
    const task = await create();
    const t = ticker(FLEET, COLD_MS);
    await t.tick(clock.now());
    const { token } = sender.sent[0]!;
    sender.depth = 1;
    for (let at = T0 + WINDOW_MS + 1; at < T0 + WINDOW_MS + COLD_MS; at += 1000) {
      await clock.advanceTo(at);
      await t.tick(clock.now());
    }
    const held = await get(task);
    expect([held.status, held.token]).toEqual(['queued', token]);
    expect(sender.sent).toHaveLength(1);
    await clock.advanceTo(T0 + WINDOW_MS + COLD_MS + 1);
    await t.tick(clock.now());
    await t.tick(clock.now());
    expect((await get(task)).token).not.toBe(token);
    expect(sender.sent).toHaveLength(2);
  });

  it('puts back at the window as before when the queue is empty (the message was lost) or its depth is unknown', async () => {
    for (const depth of [0, undefined]) {
      const { sender, ticker, create, get, clock } = setup();
      const task = await create();
      const t = ticker(FLEET, 60_000);
      await t.tick(clock.now());
      sender.depth = depth;
      await clock.advance(WINDOW_MS + 1);
      await t.tick(clock.now());
      expect((await get(task)).token).not.toBe(sender.sent[0]!.token);
    }
  });

  // The class's headroom (2 runners x 4 slots + 10 %) lets 9 of the 10 tasks be in flight.
  it('a cold start of 3 minutes with a 60 s window: 9 tasks in flight cost 27 messages and 45 writes without the hold (claim, put back, claim, ...), 9 messages and 18 writes with it', async () => {
    const coldStart = async (coldStartMs: number) => {
      const clock = new ManualClock(T0);
      const services = memoryServices(clock, { graceMs: GRACE_MS });
      const sender = new RecordingSender();
      sender.depth = 10; // every message waits: no runner is up yet
      const t = new Ticker({
        lifecycle: services.lifecycle,
        config: { queueUrls: { small: 'https://sqs.local/small' }, shards: 4, dispatchWindowMs: 60_000, graceMs: GRACE_MS },
        fleet: FLEET,
        sender,
        logger: pino({ level: 'silent' }),
        metrics: noMetrics,
        options: { lookaheadMs: 0, coldStartMs },
      });
      for (let i = 0; i < 10; i++) await services.lifecycle.store.create(newTask(job(), { args: { i }, dueAt: T0 }, T0));
      const before = services.memory.stats.writes;
      for (let s = 0; s < 180; s++) {
        await t.tick(clock.now());
        await clock.advance(1000);
      }
      return { sent: sender.sent.length, writes: services.memory.stats.writes - before, depthReads: sender.depthReads };
    };
    const today = await coldStart(0);
    const held = await coldStart(300_000);
    expect(today).toEqual({ sent: 27, writes: 45, depthReads: 0 });
    expect(held).toEqual({ sent: 9, writes: 18, depthReads: 1 });
  });
});
