import { defaultChildEntry, REFILL_DEFER_MS, SandboxPool, tsxExecArgv, type TaskSandbox } from '../../../runner/sandbox/sandbox';
import { ManualClock, settle } from '../../support/manual-clock';

jest.setTimeout(60_000);

/**
 * The pool's refill timing, on real processes and a manual clock. One task at a time, the spare
 * that replaces the one it took boots only once that task is recorded, so the boot does not share
 * the cores with the task's own exit and writes; when tasks overlap, or no warm spare was left,
 * the replacement boots at once.
 */
describe('sandbox pool: when a taken spare is replaced', () => {
  let pool: SandboxPool;
  let clock: ManualClock;
  const taken: TaskSandbox[] = [];
  const take = (): TaskSandbox => {
    const sandbox = pool.take();
    taken.push(sandbox);
    return sandbox;
  };

  beforeEach(() => {
    clock = new ManualClock();
    pool = new SandboxPool({ entry: defaultChildEntry(), execArgv: tsxExecArgv() }, 1, 2, clock);
    pool.start();
  });

  afterEach(() => {
    pool.close();
    for (const s of taken.splice(0)) s.kill();
  });

  it('a lone task: its replacement boots when the task is recorded, not before', async () => {
    expect(pool.size).toBe(1);
    const lone = take();
    await settle(20);
    expect(pool.size).toBe(0);

    pool.settled(lone);
    await settle();
    expect(pool.size).toBe(1);
  });

  it('a lone task that runs long: its replacement boots after REFILL_DEFER_MS anyway', async () => {
    take();
    await clock.advance(REFILL_DEFER_MS - 1);
    expect(pool.size).toBe(0);
    await clock.advance(1);
    expect(pool.size).toBe(1);
  });

  it('a second task while the first is in flight: the spares are replaced at once', async () => {
    const first = take();
    take();
    await settle();
    expect(pool.size).toBeGreaterThanOrEqual(1);
    // Nothing is left waiting for the first task: settling it later changes nothing.
    const size = pool.size;
    pool.settled(first);
    await settle();
    expect(pool.size).toBe(size);
    expect(clock.pending).toBe(0);
  });

  it('settling a sandbox that is not awaited does not refill early', async () => {
    const lone = take();
    pool.settled({ ...lone });
    await settle(20);
    expect(pool.size).toBe(0);
  });
});
