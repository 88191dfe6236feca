import { countCalls } from '../../../bench/call-counter';
import { SqsDispatchQueue, type DispatchQueue } from '../../../runner/queue';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { enqueue, settled, startRunner, waitForTask, type TestRunner } from './runner-harness';

jest.setTimeout(120_000);

/** Several free slots, one ReceiveMessage for several messages; never more than fit. */
describe('runner: batched receives', () => {
  let env: TestEnvironment;
  let runner: TestRunner | undefined;

  beforeEach(async () => {
    // A production-length lease: on a loaded machine a short one can make the runner fence itself off its tasks, which is not what this test is about.
    env = await createTestEnvironment('runner-receive', { env: { JOBFLEET_LEASE_MS: '30000', JOBFLEET_GRACE_MS: '30000' } });
  });

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await env?.cleanup();
  });

  it('asks for several messages when several slots are free, and never for more than the free slots hold', async () => {
    const calls = countCalls(env.clients);
    const real = new SqsDispatchQueue(env.clients.sqs, env.config.queueUrls.small as string, 1);
    // The real queue, watched: what each receive asked for, and how many slots were free before its reservation.
    const asks: { max: number; got: number; freeBefore: number }[] = [];
    let slotsOf: () => { free: number } = () => ({ free: 0 });
    const largest = 3; // the fixture catalogue's largest job in class small (slot3)
    const queue: DispatchQueue = {
      receive: async (max, signal) => {
        const freeBefore = slotsOf().free + max * largest;
        const got = await real.receive(max, signal);
        asks.push({ max, got: got.length, freeBefore });
        return got;
      },
      delete: (m) => real.delete(m),
      handBack: (m) => real.handBack(m),
    };
    // All on the queue before the runner starts, as under load.
    const queued = [];
    for (let i = 0; i < 16; i++) queued.push(await enqueue(env, 'slot1', { ms: 300 }));
    runner = await startRunner(env, { RUNNER_SLOTS: '12' }, { queue });
    slotsOf = () => runner!.app.runner.slots;
    const tasks = await Promise.all(queued.map((q) => waitForTask(env, q.id, settled)));
    expect(tasks.every((t) => t.status === 'completed')).toBe(true);
    const withMessages = asks.filter((a) => a.got > 0);
    for (const a of asks) {
      expect(a.got).toBeLessThanOrEqual(a.max);
      expect(a.max * largest).toBeLessThanOrEqual(a.freeBefore);
    }
    expect(Math.max(...withMessages.map((a) => a.max))).toBeGreaterThan(1);
    expect(runner.app.runner.slots.peak).toBeLessThanOrEqual(12);
    // Nothing received was handed back for lack of room.
    expect(calls.calls.get('SQS.ChangeMessageVisibilityBatch') ?? 0).toBe(0);
    expect(withMessages.reduce((a, x) => a + x.got, 0)).toBe(16);
    expect(withMessages.length).toBeLessThan(16);
  });
});
