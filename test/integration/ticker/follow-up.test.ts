import { ClaimConflictError } from '../../../core/errors';
import { createTask } from '../../../core/lifecycle/create-task';
import { finishTask, runFollowUp, writeTerminal } from '../../../core/lifecycle/finish';
import { newTask } from '../../../core/model/new-task';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { occurrenceId, taskKey } from '../../../core/model/keys';
import { buildOccurrence } from '../../../core/model/occurrence';
import type { MissedRunPolicy, ScheduleRecord } from '../../../core/model/task';
import { SMALL_JOB, T0, tickerHarness, type Received, type TickerHarness } from './harness';

// createTestEnvironment's grace is 500 ms: follow-up work not done by then is redone by the reaper.
const MINUTE = 60_000;

async function createSchedule(h: TickerHarness, id: string, nextDueAt: number, missedRuns: MissedRunPolicy = 'once', maxAttempts = 3): Promise<ScheduleRecord> {
  const schedule: ScheduleRecord = {
    id,
    job: 'report',
    args: { id },
    spec: { kind: 'interval', everyMs: MINUTE },
    missedRuns,
    maxCatchUp: 50,
    priority: 100,
    active: true,
    nextDueAt,
    createdAt: nextDueAt - MINUTE,
    snapshot: { ...SMALL_JOB, job: 'report', maxAttempts },
  };
  expect(await h.services.schedules.create(schedule, buildOccurrence(schedule, nextDueAt, nextDueAt - MINUTE, undefined))).toBe(true);
  return schedule;
}

/** Ids of the schedule's occurrences that exist, among the candidate due times. */
async function occurrencesOf(h: TickerHarness, scheduleId: string, dues: number[]): Promise<number[]> {
  const found = await h.services.store.getMany(dues.map((d) => occurrenceId(scheduleId, d, 'report')));
  return found.map((t) => t.occurrenceAt as number).sort((a, b) => a - b);
}

const minutes = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i * MINUTE);

describe('recurring tasks through the ticker', () => {
  let h: TickerHarness;
  beforeEach(async () => (h = await tickerHarness('tick-recur')));
  afterEach(() => h.cleanup());

  it.each([
    ['once', [T0]],
    ['skip', [T0 + MINUTE]],
    ['all', minutes(T0 - 9 * MINUTE, 10)],
  ] as const)('after an outage, the missed-run policy "%s" decides what runs', async (policy, expected) => {
    // The occurrence was due ten minutes ago (the scheduler was down); it runs now and ends late.
    const schedule = await createSchedule(h, `outage-${policy}`, T0 - 10 * MINUTE, policy);
    const first = occurrenceId(schedule.id, schedule.nextDueAt, 'report');
    const report = await h.ticker.tick(T0);
    expect(report.lagMs.small).toBe(10 * MINUTE);
    const [message] = await h.receive('small');
    expect(message?.taskId).toBe(first);
    await h.run(message!, { status: 'completed' }, T0 + 10, T0 + 20);

    const candidates = minutes(T0 - 10 * MINUTE, 13);
    expect(await occurrencesOf(h, schedule.id, candidates)).toEqual([T0 - 10 * MINUTE, ...expected]);
    expect((await h.services.schedules.get(schedule.id))?.nextDueAt).toBe(expected.at(-1));
    // The ticker dispatches the catch-up occurrences that are due.
    const due = expected.filter((d) => d <= T0 + 100);
    expect((await h.ticker.tick(T0 + 100)).dispatch.claimed).toBe(due.length);
  });

  it('redoes follow-up cut short by a crash: the next occurrence exists exactly once', async () => {
    const schedule = await createSchedule(h, 'crashy', T0);
    await h.ticker.tick(T0);
    const [message] = await h.receive('small');
    const running = await h.services.store.start(message!.taskId, message!.token, 'runner-1', T0 + 10, 1500);
    // The runner writes the outcome and dies before any follow-up work.
    await writeTerminal(h.services, { task: running, outcome: { status: 'completed' } }, T0 + 1900);
    expect(await occurrencesOf(h, schedule.id, [T0, T0 + MINUTE])).toEqual([T0]);

    // Within the grace period the reaper leaves it to its finisher.
    expect((await h.ticker.tick(T0 + 2100)).reap).toMatchObject({ followUps: 0, lookAgain: 1 });
    expect((await h.ticker.tick(T0 + 2400)).reap.followUps).toBe(1);
    expect(await occurrencesOf(h, schedule.id, [T0, T0 + MINUTE])).toEqual([T0, T0 + MINUTE]);
    expect(await h.get(message!.taskId)).toMatchObject({ status: 'completed', effectsDone: true });

    // Redoing it again (a second reaper, the late runner) changes nothing.
    const done = await h.get(message!.taskId);
    await runFollowUp(h.services, { ...done, effectsDone: false }, T0 + 2500);
    await h.ticker.tick(T0 + 3000);
    expect((await h.services.store.listTasks('report', 100)).map((t) => t.id).sort()).toEqual([occurrenceId(schedule.id, T0, 'report'), occurrenceId(schedule.id, T0 + MINUTE, 'report')].sort());
    expect(await h.services.schedules.get(schedule.id)).toMatchObject({ nextDueAt: T0 + MINUTE, lastCompletedAt: T0 + 1900 });
  });

  it('keeps lastCompletedAt across a failed occurrence', async () => {
    const schedule = await createSchedule(h, 'lca', T0, 'once', 1);
    const runOccurrence = async (at: number, outcome: 'completed' | 'failed'): Promise<Received> => {
      await h.ticker.tick(at);
      const [message] = await h.receive('small');
      await h.run(message!, outcome === 'completed' ? { status: 'completed' } : { status: 'failed', error: { reason: 'error', message: 'boom' } }, at + 10, at + 20);
      return message!;
    };
    await runOccurrence(T0, 'completed');
    expect(await h.get(occurrenceId(schedule.id, T0 + MINUTE, 'report'))).toMatchObject({ lastCompletedAt: T0 + 20 });
    await runOccurrence(T0 + MINUTE, 'failed');
    expect(await h.get(occurrenceId(schedule.id, T0 + MINUTE, 'report'))).toMatchObject({ status: 'failed' });
    expect(await h.get(occurrenceId(schedule.id, T0 + 2 * MINUTE, 'report'))).toMatchObject({ status: 'pending', lastCompletedAt: T0 + 20 });
    expect((await h.services.schedules.get(schedule.id))?.lastCompletedAt).toBe(T0 + 20);
  });
});

describe('ending a task with no follow-up work', () => {
  let h: TickerHarness;
  beforeEach(async () => (h = await tickerHarness('tick-settled')));
  afterEach(() => h.cleanup());

  it('takes one write: the outcome, follow-up done, and out of every scheduling index', async () => {
    const a = await h.put({});
    await h.ticker.tick(T0);
    const [message] = await h.receive('small');
    const running = await h.services.store.start(a.id, message!.token, 'runner-1', T0 + 10, 1500);
    const calls: string[] = [];
    h.services.clients.doc.middlewareStack.add((next, context) => (args) => (calls.push(String(context.commandName)), next(args)), { step: 'initialize', name: 'count-calls' });
    try {
      await finishTask(h.services, { task: running, outcome: { status: 'completed' } }, T0 + 100);
    } finally {
      h.services.clients.doc.middlewareStack.remove('count-calls');
    }
    expect(calls).toEqual(['UpdateItemCommand']);
    const item = (await h.services.clients.doc.send(new GetCommand({ TableName: h.services.config.tableName, Key: taskKey(a.id) }))).Item;
    expect(item).toMatchObject({ status: 'completed', effectsDone: true });
    expect(item).not.toHaveProperty('gsi1pk');
    // Nothing is left for the reaper.
    expect((await h.ticker.tick(T0 + 5000)).reap.followUps).toBe(0);
  });

  it('gives up after one failed write when the task itself changed (the reaper ended it first)', async () => {
    const a = await h.put({ maxAttempts: 1 });
    await h.ticker.tick(T0);
    const [message] = await h.receive('small');
    const running = await h.services.store.start(a.id, message!.token, 'runner-slow', T0 + 10, 1500);
    await finishTask(h.services, { task: running, outcome: { status: 'failed', error: { reason: 'runner-lost', message: 'lease ended' } } }, T0 + 3000);
    const calls: string[] = [];
    h.services.clients.doc.middlewareStack.add((next, context) => (args) => (calls.push(String(context.commandName)), next(args)), { step: 'initialize', name: 'count-calls' });
    try {
      await expect(finishTask(h.services, { task: running, outcome: { status: 'completed' } }, T0 + 3100)).rejects.toBeInstanceOf(ClaimConflictError);
    } finally {
      h.services.clients.doc.middlewareStack.remove('count-calls');
    }
    expect(calls).toEqual(['UpdateItemCommand']);
    expect(await h.get(a.id)).toMatchObject({ status: 'failed', error: { reason: 'runner-lost' } });
  });

  it('keeps the two-step path when follow-up work exists (a retry is follow-up work)', async () => {
    const a = await h.put({ maxAttempts: 2 });
    await h.ticker.tick(T0);
    const [message] = await h.receive('small');
    await h.run(message!, { status: 'failed', error: { reason: 'error', message: 'boom' } }, T0 + 10, T0 + 20);
    expect(await h.get(a.id)).toMatchObject({ status: 'pending', attempt: 2 });
  });
});

describe('chained tasks (startAfter) through the ticker', () => {
  let h: TickerHarness;
  beforeEach(async () => (h = await tickerHarness('tick-chain')));
  afterEach(() => h.cleanup());

  it('releases the dependent when its predecessor completes, even if that follow-up crashed', async () => {
    const a = await h.put({});
    const b = await h.put({ startAfter: a.id });
    expect((await h.ticker.tick(T0)).dispatch.claimed).toBe(1);
    const [message] = await h.receive('small');
    expect(message?.taskId).toBe(a.id);
    const running = await h.services.store.start(a.id, message!.token, 'runner-1', T0 + 10, 1500);
    await writeTerminal(h.services, { task: running, outcome: { status: 'completed' } }, T0 + 100);
    expect((await h.ticker.tick(T0 + 1000)).dispatch.claimed).toBe(0);
    expect((await h.get(b.id)).status).toBe('pending');

    // The reaper redoes A's follow-up, which releases B; the next tick dispatches it.
    expect((await h.ticker.tick(T0 + 2100)).reap.followUps).toBe(1);
    expect((await h.ticker.tick(T0 + 2200)).dispatch.claimed).toBe(1);
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([b.id]);
  });

  it('releases a dependent that registered while its predecessor ran, though the runner holds a copy from before', async () => {
    const a = await h.put({});
    await h.ticker.tick(T0);
    const [message] = await h.receive('small');
    const runnersCopy = await h.services.store.start(a.id, message!.token, 'runner-1', T0 + 10, 1500);
    expect(runnersCopy.hasDependents).toBeUndefined();
    const b = await h.put({ startAfter: a.id });
    await finishTask(h.services, { task: runnersCopy, outcome: { status: 'completed' } }, T0 + 100);
    expect(await h.get(a.id)).toMatchObject({ status: 'completed', effectsDone: true, hasDependents: true });
    expect((await h.ticker.tick(T0 + 200)).dispatch.claimed).toBe(1);
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([b.id]);
  });

  it('places a dependent by a fresh read when its predecessor ended between the read and the write', async () => {
    const a = await h.put({});
    await h.ticker.tick(T0);
    const [message] = await h.receive('small');
    // The SDK reads A while it runs...
    const asRead = await h.services.store.start(a.id, message!.token, 'runner-1', T0 + 10, 1500);
    // ...and A ends, in one write (nothing follows it), before the SDK's write lands.
    await finishTask(h.services, { task: asRead, outcome: { status: 'completed' } }, T0 + 20);
    const b = await createTask(h.services, newTask(SMALL_JOB, { args: null, dueAt: T0, startAfter: a.id }, T0), () => T0 + 30, { predecessor: asRead });
    // Registering on the stale read lost its condition; the fresh read found A completed, so B is due.
    expect(b.status).toBe('pending');
    expect((await h.get(a.id)).hasDependents).toBeUndefined();
    expect((await h.ticker.tick(T0 + 100)).dispatch.claimed).toBe(1);
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([b.id]);
  });

  it('releases every dependent registered while its predecessor ends, however the race falls', async () => {
    const a = await h.put({});
    await h.ticker.tick(T0);
    const [message] = await h.receive('small');
    const running = await h.services.store.start(a.id, message!.token, 'runner-1', T0 + 10, 1500);
    const dependent = () => createTask(h.services, newTask(SMALL_JOB, { args: null, dueAt: T0, startAfter: a.id }, T0), () => T0 + 30);
    const [dependents] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, dependent)),
      finishTask(h.services, { task: running, outcome: { status: 'completed' } }, T0 + 20),
    ]);
    // None is left waiting: each was registered in time for A's follow-up, or saw A completed.
    expect((await h.ticker.tick(T0 + 100)).dispatch.claimed).toBe(10);
    expect((await h.receive('small')).map((m) => m.taskId).sort()).toEqual(dependents.map((d) => d.id).sort());
  });

  it('fails the dependent with dependency-failed when the predecessor fails for good', async () => {
    const a = await h.put({ maxAttempts: 2 });
    const b = await h.put({ startAfter: a.id });
    await h.ticker.tick(T0);
    const [first] = await h.receive('small');
    await h.run(first!, { status: 'failed', error: { reason: 'error', message: 'boom' } }, T0 + 10, T0 + 20);
    // A retries (attempt 2 after 1 s): B keeps waiting.
    expect(await h.get(a.id)).toMatchObject({ status: 'pending', attempt: 2 });
    expect((await h.get(b.id)).status).toBe('pending');

    await h.ticker.tick(T0 + 1100);
    const [second] = await h.receive('small');
    expect(second?.taskId).toBe(a.id);
    await h.run(second!, { status: 'failed', error: { reason: 'error', message: 'boom again' } }, T0 + 1200, T0 + 1300);
    expect(await h.get(a.id)).toMatchObject({ status: 'failed', attempt: 2 });
    expect(await h.get(b.id)).toMatchObject({ status: 'failed', error: { reason: 'dependency-failed' } });
    expect((await h.ticker.tick(T0 + 5000)).dispatch.claimed).toBe(0);
  });
});
