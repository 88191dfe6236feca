import type { FleetConfig } from '../../../core/config/fleet';
import { SqsDispatcher, type DispatchSender } from '../../../functions/ticker/sqs-dispatcher';
import { ManualClock } from '../../support/manual-clock';
import { LARGE_JOB, SMALL_JOB, T0, tickerHarness, type TickerHarness } from './harness';

/** The SQS sender, noting the task ids it sent and letting a test wait for sends under way. */
function recordingSender(h: TickerHarness): DispatchSender & { readonly sent: string[]; settled(): Promise<void> } {
  const inner = new SqsDispatcher(h.services.clients.sqs, h.services.config.queueUrls);
  const sent: string[] = [];
  const sending = new Set<Promise<unknown>>();
  return {
    sent,
    async settled() {
      while (sending.size > 0) await Promise.all([...sending]);
    },
    send(slotClass, messages) {
      const result = inner.send(slotClass, messages).then((r) => {
        const failed = new Set(r.failed.map((m) => m.taskId));
        sent.push(...messages.filter((m) => !failed.has(m.taskId)).map((m) => m.taskId));
        return r;
      });
      const tracked = result.finally(() => sending.delete(tracked));
      sending.add(tracked);
      return result;
    },
  };
}

/** Capacity 2 (one runner of two slots), no margin: a saturated fleet. */
const TINY_FLEET: FleetConfig = {
  classes: [
    { name: 'small', slotsPerRunner: 2, cpu: 512, memoryMiB: 1024, minRunners: 0, maxRunners: 1 },
    { name: 'large', slotsPerRunner: 16, cpu: 2048, memoryMiB: 4096, minRunners: 0, maxRunners: 1 },
  ],
};

describe('dispatch order on a saturated fleet', () => {
  let h: TickerHarness;
  beforeAll(async () => (h = await tickerHarness('tick-prio', { fleet: TINY_FLEET, options: { headroomMargin: 0 } })));
  afterAll(() => h.cleanup());

  it('dispatches the highest priorities first and keeps the rest ordered in DynamoDB', async () => {
    const priorities = [10, 500, 100, 999, 50];
    const tasks = await Promise.all(priorities.map((priority, i) => h.put({ priority, dueAt: T0 - 5 + i })));
    const byId = new Map(tasks.map((t) => [t.id, t.priority]));

    const first = await h.ticker.tick(T0);
    expect(first.dispatch).toMatchObject({ claimed: 2, dispatched: 2, conflicts: 0 });
    const sent = await h.receive('small');
    expect(sent.map((m) => byId.get(m.taskId)).sort((a, b) => (b ?? 0) - (a ?? 0))).toEqual([999, 500]);
    // Claimed tasks keep their sched entry where it was, marked in flight: that is what the next tick counts.
    const dueAtOf = new Map(tasks.map((t) => [t.id, t.dueAt]));
    const partitions = await Promise.all([0, 1, 2, 3].map((s) => h.services.store.querySched('small', s, T0 + 1000)));
    const inFlight = partitions.flatMap((p) => p.inFlight);
    expect(inFlight.map((e) => byId.get(e.id)).sort((a, b) => (b ?? 0) - (a ?? 0))).toEqual([999, 500]);
    for (const e of inFlight) expect(e).toMatchObject({ at: dueAtOf.get(e.id), checkAt: T0 + h.services.config.dispatchWindowMs });
    expect(partitions.flatMap((p) => p.pending).map((e) => byId.get(e.id)).sort((a, b) => (b ?? 0) - (a ?? 0))).toEqual([100, 50, 10]);
    // Full: nothing more goes out while both slots are taken.
    expect((await h.ticker.tick(T0 + 1000)).dispatch.claimed).toBe(0);

    // A runner finishes the 999 one: the next highest (100) takes its slot.
    const top = sent.find((m) => byId.get(m.taskId) === 999)!;
    await h.run(top, { status: 'completed' }, T0 + 1100, T0 + 1200);
    expect((await h.ticker.tick(T0 + 2000)).dispatch.claimed).toBe(1);
    expect((await h.receive('small')).map((m) => byId.get(m.taskId))).toEqual([100]);
    const demand = h.metrics.filter((d) => d.SlotClass === 'small').at(-1);
    // 2 queued/running + 2 still due (priorities 50 and 10).
    expect(demand).toMatchObject({ SlotDemand: 4 });
  });
});

describe('routing, demand and look-ahead', () => {
  let h: TickerHarness;
  beforeEach(async () => (h = await tickerHarness('tick-route')));
  afterEach(() => h.cleanup());

  it('sends a big job to the big class queue and publishes slot demand per class', async () => {
    const big = await h.put({}, LARGE_JOB);
    const small = await h.put({});
    const report = await h.ticker.tick(T0 + 10);
    expect(report.dispatch).toMatchObject({ claimed: 2, dispatched: 2 });
    expect((await h.receive('large')).map((m) => m.taskId)).toEqual([big.id]);
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([small.id]);
    expect(await h.get(big.id)).toMatchObject({ status: 'queued', queuedAt: T0 + 10 });

    const docs = h.metrics.slice(-2);
    expect(docs.map((d) => [d.SlotClass, d.SlotDemand, d.OldestDueLagMs])).toEqual([
      ['small', 1, 10],
      ['large', 8, 10],
    ]);
    expect(docs[0]).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: 'Jobfleet', Dimensions: [['SlotClass']] }] } });
    // Still in flight at the next tick: demand counts queued tasks.
    await h.ticker.tick(T0 + 1000);
    expect(h.metrics.slice(-2).map((d) => [d.SlotDemand, d.OldestDueLagMs])).toEqual([
      [1, 0],
      [8, 0],
    ]);
    const line = h.logs.filter((l) => l.msg === 'tick').at(-2)!;
    expect(line).toMatchObject({ claimed: 2, dispatched: 2, conflicts: 0, recovered: 0, lagMs: 10 });
  });

  it('looks ahead: claims a task about to fall due and sends its message at the due time, without waiting for a tick', async () => {
    const clock = new ManualClock(T0 + 5_000);
    const sender = recordingSender(h);
    const ticker = h.newTicker({ lookaheadMs: 1000 }, h.services, sender, clock);
    const soon = await h.put({ dueAt: T0 + 5_400 });
    const later = await h.put({ dueAt: T0 + 7_000 });
    const report = await ticker.tick(T0 + 5_000);
    expect(report).toMatchObject({ nextDueAt: T0 + 5_400, held: 1, dispatch: { claimed: 1, dispatched: 0 } });
    expect(await h.get(soon.id)).toMatchObject({ status: 'queued', queuedAt: T0 + 5_400 });
    expect((await h.get(later.id)).status).toBe('pending');
    // Not yet: still held.
    await clock.advanceTo(T0 + 5_399);
    expect(sender.sent).toEqual([]);
    // At the due time its timer sends it, no tick needed; the next tick reports it.
    await clock.advanceTo(T0 + 5_400);
    await sender.settled();
    expect(sender.sent).toEqual([soon.id]);
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([soon.id]);
    expect(await ticker.tick(T0 + 5_400)).toMatchObject({ held: 0, dispatch: { claimed: 0, dispatched: 1 } });
    // What is still held when the process stops goes out at its due time.
    await clock.advanceTo(T0 + 6_500);
    expect((await ticker.tick(T0 + 6_500)).held).toBe(1);
    const draining = ticker.releaseRemaining();
    await clock.advanceTo(T0 + 7_000);
    expect(await draining).toBe(1);
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([later.id]);
  });

  it('sends a task claimed ahead with the tick that claimed it when its due time passed during the claim', async () => {
    // The tick read at 5000; by the time the claim completes the clock says 5500, past the due time.
    const clock = new ManualClock(T0 + 5_500);
    const ticker = h.newTicker({ lookaheadMs: 1000 }, h.services, undefined, clock);
    const soon = await h.put({ dueAt: T0 + 5_400 });
    const report = await ticker.tick(T0 + 5_000);
    expect(report).toMatchObject({ held: 0, dispatch: { claimed: 1, dispatched: 1 } });
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([soon.id]);
    expect(await h.get(soon.id)).toMatchObject({ status: 'queued', queuedAt: T0 + 5_400 });
  });

  it('leaves a task whose concurrency limit is full pending, without a failed write', async () => {
    const single = { ...SMALL_JOB, job: 'nightly', maxConcurrency: 1 };
    const a = await h.put({ dueAt: T0 + 6_000, priority: 200 }, single);
    const b = await h.put({ dueAt: T0 + 6_000 }, single);
    const report = await h.ticker.tick(T0 + 6_000);
    expect(report.dispatch).toMatchObject({ claimed: 1, limited: 1, conflicts: 0 });
    expect((await h.get(a.id)).status).toBe('queued');
    expect((await h.get(b.id)).status).toBe('pending');
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([a.id]);
  });
});
