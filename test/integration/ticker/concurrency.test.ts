import { newTask } from '../../../core/model/new-task';
import { createServices } from '../../../core/services';
import type { Ticker } from '../../../functions/ticker/tick';
import { awsClients } from '../../support/aws';
import { SMALL_JOB, tickerHarness, type TickerHarness } from './harness';

// Volume (thousands of tasks, many tickers, faults) is the simulation's (test/sim); this proves the conditional claims on DynamoDB itself.
const TASKS = 300;

describe('three tickers at once', () => {
  let h: TickerHarness;
  // A long dispatch window: nothing starts these tasks, and the test is about claims, not put-backs.
  beforeAll(async () => (h = await tickerHarness('tick-race', { env: { JOBFLEET_DISPATCH_WINDOW_MS: '600000' } })));
  afterAll(() => h.cleanup());

  it(`dispatch each of ${TASKS} due tasks exactly once`, async () => {
    const now = Date.now();
    const tasks = Array.from({ length: TASKS }, (_, i) => newTask(SMALL_JOB, { args: null, dueAt: now - 1000 + (i % 50), priority: i % 7 }, now - 2000));
    await h.putMany(tasks);

    // Three instances, each with its own clients and services, ticking in a loop on the real clock.
    const tickers = [0, 1, 2].map(() => h.newTicker({ claimConcurrency: 16 }, createServices(h.env.config, awsClients())));
    const loop = async (ticker: Ticker) => {
      const totals = { claimed: 0, dispatched: 0, conflicts: 0, ticks: 0 };
      for (let idle = 0; idle < 2; ) {
        const r = await ticker.tick(Date.now());
        totals.ticks++;
        totals.claimed += r.dispatch.claimed;
        totals.dispatched += r.dispatch.dispatched;
        totals.conflicts += r.dispatch.conflicts;
        expect(r.dispatch.errors + r.queryErrors + r.reap.errors).toBe(0);
        idle = r.due === 0 ? idle + 1 : 0;
      }
      return totals;
    };
    const totals = await Promise.all(tickers.map(loop));
    const claimed = totals.reduce((a, t) => a + t.claimed, 0);
    expect(claimed).toBe(TASKS);
    expect(totals.reduce((a, t) => a + t.dispatched, 0)).toBe(TASKS);
    // Every ticker did part of the work, and lost races were counted, not thrown.
    expect(totals.every((t) => t.ticks > 0)).toBe(true);
    expect(h.logs.filter((l) => l.level === 50)).toEqual([]);

    const received = await h.receive('small');
    const perTask = new Map<string, number>();
    for (const m of received) perTask.set(m.taskId, (perTask.get(m.taskId) ?? 0) + 1);
    expect(received).toHaveLength(TASKS);
    expect(perTask.size).toBe(TASKS);
    expect([...perTask.values()].every((n) => n === 1)).toBe(true);
    // Each message carries the token of the claim that sent it.
    const stored = new Map((await h.services.store.getMany(tasks.map((t) => t.id))).map((t) => [t.id, t]));
    expect(received.every((m) => stored.get(m.taskId)?.status === 'queued' && stored.get(m.taskId)?.token === m.token)).toBe(true);
  }, 90_000);
});
