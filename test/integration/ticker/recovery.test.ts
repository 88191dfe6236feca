import type { DispatchSender } from '../../../functions/ticker/sqs-dispatcher';
import { SMALL_JOB, T0, tickerHarness, type TickerHarness } from './harness';

// createTestEnvironment's times: dispatch window 2000 ms, lease 1500 ms, grace 500 ms.
// Each test gets its own table and queues: tasks a test leaves queued would otherwise be put back
// and dispatched again in the next test's ticks.

describe('the reaper: runners that never report back', () => {
  let h: TickerHarness;
  beforeEach(async () => (h = await tickerHarness('tick-lost')));
  afterEach(() => h.cleanup());

  it('fails a silent runner\'s task as runner-lost after lease + grace, and retries it as attempt 2', async () => {
    const task = await h.put({});
    await h.ticker.tick(T0);
    const [message] = await h.receive('small');
    expect(message?.taskId).toBe(task.id);
    // The runner starts it (lease until T0 + 1600), then dies: no heartbeat, no finish.
    await h.services.store.start(task.id, message!.token, 'runner-dead', T0 + 100, h.services.config.leaseMs);

    await h.ticker.tick(T0 + 1000);
    expect((await h.get(task.id)).status).toBe('running');
    // The lease ended at T0 + 1600; with 500 ms grace the runner counts as lost after T0 + 2100.
    await h.ticker.tick(T0 + 2100);
    expect((await h.get(task.id)).status).toBe('running');
    const report = await h.ticker.tick(T0 + 2200);
    expect(report.reap.runnerLost).toBe(1);
    const retried = await h.get(task.id);
    expect(retried).toMatchObject({ status: 'pending', attempt: 2, dueAt: T0 + 2200 + 1000 });
    expect((retried as unknown as { lastError: { reason: string; message: string } }).lastError).toMatchObject({ reason: 'runner-lost', message: expect.stringContaining('runner-dead') });

    // After its backoff the next attempt is dispatched with a new token.
    expect((await h.ticker.tick(T0 + 3200)).dispatch.claimed).toBe(1);
    const [again] = await h.receive('small');
    expect(again).toMatchObject({ taskId: task.id });
    expect(again!.token).not.toBe(message!.token);
    expect(h.logs.filter((l) => l.msg === 'tick').at(-2)).toMatchObject({ recovered: 1, runnerLost: 1 });
  });

  it('leaves a task with no attempts left failed for good', async () => {
    const task = await h.put({ dueAt: T0 + 10_000, maxAttempts: 1 });
    await h.ticker.tick(T0 + 10_000);
    const [message] = await h.receive('small');
    await h.services.store.start(task.id, message!.token, 'runner-dead', T0 + 10_000, h.services.config.leaseMs);
    await h.ticker.tick(T0 + 13_000);
    expect(await h.get(task.id)).toMatchObject({ status: 'failed', attempt: 1, effectsDone: true, error: { reason: 'runner-lost' } });
    expect((await h.ticker.tick(T0 + 20_000)).dispatch.claimed).toBe(0);
  });

  it('keeps a task whose runner renews its lease, and looks again when the lease would end', async () => {
    const task = await h.put({ dueAt: T0 + 30_000 });
    await h.ticker.tick(T0 + 30_000);
    const [message] = await h.receive('small');
    await h.services.store.start(task.id, message!.token, 'runner-alive', T0 + 30_000, 1500);
    await h.services.store.heartbeat(task.id, message!.token, T0 + 31_400, 1500);
    await h.services.store.heartbeat(task.id, message!.token, T0 + 32_800, 1500);
    const report = await h.ticker.tick(T0 + 33_000);
    expect(report.reap).toMatchObject({ runnerLost: 0, lookAgain: 1 });
    expect(await h.get(task.id)).toMatchObject({ status: 'running', leaseUntil: T0 + 34_300 });
    const entries = await Promise.all([0, 1, 2, 3].map((s) => h.services.store.querySched('small', s, T0 + 33_000)));
    expect(entries.flatMap((p) => p.inFlight).find((e) => e.id === task.id)).toMatchObject({ at: T0 + 30_000, checkAt: T0 + 34_300 + 500 + 1 });
  });

  it('fails a task that runs past max execution time + grace even while its lease is renewed', async () => {
    const task = await h.put({ dueAt: T0 + 40_000 }, { ...SMALL_JOB, maxExecutionMs: 1000 });
    await h.ticker.tick(T0 + 40_000);
    const [message] = await h.receive('small');
    await h.services.store.start(task.id, message!.token, 'runner-stuck', T0 + 40_000, 1500);
    await h.services.store.heartbeat(task.id, message!.token, T0 + 41_400, 1500);
    await h.ticker.tick(T0 + 42_100);
    expect(await h.get(task.id)).toMatchObject({ status: 'pending', attempt: 2, lastError: { reason: 'runner-lost', message: expect.stringMatching(/max execution time/) } });
  });
});

describe('the reaper: claimed tasks no runner started', () => {
  let h: TickerHarness;
  beforeEach(async () => (h = await tickerHarness('tick-putback')));
  afterEach(() => h.cleanup());

  it('puts a queued task back after the dispatch window, keeping its place in line; the old message carries a stale token', async () => {
    const task = await h.put({});
    await h.ticker.tick(T0);
    const [lost] = await h.receive('small');
    expect((await h.ticker.tick(T0 + 1900)).reap.putBack).toBe(0);
    expect((await h.ticker.tick(T0 + 2100)).reap.putBack).toBe(1);
    const back = await h.get(task.id);
    expect(back).toMatchObject({ status: 'pending', dueAt: task.dueAt });
    expect(back.token).not.toBe(lost!.token);
    await h.ticker.tick(T0 + 2200);
    const [fresh] = await h.receive('small');
    expect(fresh!.token).not.toBe(lost!.token);
    // A runner holding the old message cannot start the task.
    await expect(h.services.store.start(task.id, lost!.token, 'late-runner', T0 + 2300, 1500)).rejects.toThrow(/queued with token/);
    await expect(h.services.store.start(task.id, fresh!.token, 'runner', T0 + 2300, 1500)).resolves.toMatchObject({ status: 'running' });
  });

  it('leaves tasks whose message could not be sent queued, and a later tick completes them', async () => {
    const down: DispatchSender = { send: async (_cls, messages) => ({ failed: [...messages], error: 'ServiceUnavailable' }) };
    const broken = h.newTicker({}, h.services, down);
    const tasks = await Promise.all([1, 2, 3].map(() => h.put({ dueAt: T0 + 10_000 })));
    const report = await broken.tick(T0 + 10_000);
    expect(report.dispatch).toMatchObject({ claimed: 3, dispatched: 0, sendFailed: 3 });
    expect(h.logs.some((l) => l.msg?.toString().startsWith('could not send dispatch messages'))).toBe(true);
    for (const t of tasks) expect((await h.get(t.id)).status).toBe('queued');
    // SQS is back: after the dispatch window the reaper puts them back, then they go out.
    await h.ticker.tick(T0 + 12_100);
    await h.ticker.tick(T0 + 12_200);
    expect((await h.receive('small')).map((m) => m.taskId).sort()).toEqual(tasks.map((t) => t.id).sort());
  });
});

describe('expiry and malformed tasks', () => {
  let h: TickerHarness;
  beforeEach(async () => (h = await tickerHarness('tick-bad')));
  afterEach(() => h.cleanup());

  it('fails a due task past its expiry instead of dispatching it', async () => {
    const stale = await h.put({ expiresAt: T0 + 500 });
    const fine = await h.put({ expiresAt: T0 + 60_000 });
    const report = await h.ticker.tick(T0 + 1000);
    expect(report.dispatch).toMatchObject({ expired: 1, claimed: 1 });
    expect(await h.get(stale.id)).toMatchObject({ status: 'failed', effectsDone: true, error: { reason: 'expired' } });
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([fine.id]);
  });

  it('fails a queued task that expires before a runner starts it', async () => {
    const task = await h.put({ dueAt: T0 + 5000, expiresAt: T0 + 6000 });
    await h.ticker.tick(T0 + 5000);
    await h.receive('small');
    expect((await h.ticker.tick(T0 + 7100)).reap.expired).toBe(1);
    expect(await h.get(task.id)).toMatchObject({ status: 'failed', error: { reason: 'expired' } });
  });

  it('fails hand-edited tasks as invalid-task without blocking the others', async () => {
    const unknownClass = await h.put({ dueAt: T0 + 10_000 });
    const noToken = await h.put({ dueAt: T0 + 10_000 });
    const tooBig = await h.put({ dueAt: T0 + 10_000 });
    const noStatus = await h.put({ dueAt: T0 + 10_000 });
    const good = await Promise.all([1, 2, 3].map(() => h.put({ dueAt: T0 + 10_000 })));
    await h.edit(unknownClass.id, { slotClass: 'gpu' });
    await h.edit(noToken.id, {}, ['token']);
    await h.edit(tooBig.id, { slots: 64 });
    await h.edit(noStatus.id, {}, ['status']);

    const report = await h.ticker.tick(T0 + 10_000);
    expect(report.dispatch).toMatchObject({ invalid: 3, claimed: 3, errors: 0 });
    expect(await h.get(unknownClass.id)).toMatchObject({ status: 'failed', effectsDone: true, error: { reason: 'invalid-task', message: expect.stringContaining('"gpu" has no queue') } });
    expect(await h.get(noToken.id)).toMatchObject({ status: 'failed', error: { reason: 'invalid-task', message: expect.stringContaining('token: missing') } });
    expect(await h.get(tooBig.id)).toMatchObject({ status: 'failed', error: { reason: 'invalid-task', message: expect.stringContaining('64 exceed') } });
    expect((await h.receive('small')).map((m) => m.taskId).sort()).toEqual(good.map((t) => t.id).sort());

    // No status: the index entry looks fine but the claim cannot match; a second lost claim reads the item and fails it.
    expect((await h.get(noStatus.id)).status).toBeUndefined();
    await h.ticker.tick(T0 + 11_000);
    expect(await h.get(noStatus.id)).toMatchObject({ status: 'failed', error: { reason: 'invalid-task', message: expect.stringContaining('status') } });
    expect((await h.ticker.tick(T0 + 12_000)).due).toBe(0);
  });
});
