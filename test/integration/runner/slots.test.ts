import { defineCatalogue, type Catalogue } from '../../../core/catalogue';
import type { FleetConfig } from '../../../core/config/fleet';
import type { TaskSummary } from '../../../runner/execute';
import { SqsDispatchQueue, type DispatchQueue } from '../../../runner/queue';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { enqueue, fixtures, settled, startRunner, waitForTask, type TestRunner } from './runner-harness';

jest.setTimeout(90_000);

/** The most slots in use at once, from the scripts' own start and end times (independent of the runner's accounting). */
function peakFromWindows(summaries: readonly TaskSummary[]): number {
  const edges = summaries.flatMap((s) => [
    { at: s.scriptStartedAt as number, delta: s.slots },
    { at: s.scriptEndedAt as number, delta: -s.slots },
  ]);
  // Ends before starts at the same instant.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let peak = 0;
  for (const e of edges) peak = Math.max(peak, (now += e.delta));
  return peak;
}

interface Watch {
  samples: number[];
  receives: { max: number; used: number }[];
  handBacks: number;
  stop(): void;
}

/** Samples the runner's running slots every 10 ms and records every receive it makes. */
async function watchedRunner(env: TestEnvironment, overrides: Record<string, string>, catalogue: Catalogue): Promise<{ runner: TestRunner; watch: Watch }> {
  const watch: Watch = { samples: [], receives: [], handBacks: 0, stop: () => undefined };
  const holder: { runner?: TestRunner } = {};
  const sqs = new SqsDispatchQueue(env.clients.sqs, env.config.queueUrls[overrides.RUNNER_CLASS as string] as string, 1);
  const queue: DispatchQueue = {
    receive: (max, signal) => {
      watch.receives.push({ max, used: holder.runner?.app.runner.slots.used ?? 0 });
      return sqs.receive(max, signal);
    },
    delete: (m) => sqs.delete(m),
    handBack: (m) => {
      watch.handBacks += m.length;
      return sqs.handBack(m);
    },
  };
  const runner = await startRunner(env, overrides, { queue, catalogue });
  holder.runner = runner;
  const timer = setInterval(() => watch.samples.push(runner.app.runner.runningSlots), 10);
  watch.stop = () => clearInterval(timer);
  return { runner, watch };
}

describe('runner: slots', () => {
  let env: TestEnvironment | undefined;
  let runner: TestRunner | undefined;
  let watch: Watch | undefined;

  afterEach(async () => {
    watch?.stop();
    await runner?.stop();
    await env?.cleanup();
  });

  it('never runs more than 4 slots of 1- and 3-slot tasks on a 4-slot runner, and never hands a message back', async () => {
    env = await createTestEnvironment('runner-slots');
    ({ runner, watch } = await watchedRunner(env, { RUNNER_CLASS: 'small', RUNNER_SLOTS: '4', RUNNER_SPARES: '2' }, fixtures));
    expect(runner.app.config.largestJobSlots).toBe(3);
    const tasks = [];
    for (let i = 0; i < 18; i++) tasks.push(await enqueue(env, i % 3 === 0 ? 'slot3' : 'slot1', { ms: 500 }));
    for (const t of tasks) expect((await waitForTask(env, t.id, settled, 60_000)).status).toBe('completed');
    const summaries = await Promise.all(tasks.map((t) => (runner as TestRunner).summaryOf(t.id)));
    watch.stop();

    expect(Math.max(...watch.samples)).toBeLessThanOrEqual(4);
    expect(runner.app.runner.slots.peak).toBeLessThanOrEqual(4);
    expect(peakFromWindows(summaries)).toBeLessThanOrEqual(4);
    // It did run tasks side by side (3 + 1 is the only way to fill 4 when the largest job is 3).
    expect(Math.max(...watch.samples)).toBeGreaterThanOrEqual(2);
    // Every receive asked only for what the free slots could hold at the largest job's size.
    for (const r of watch.receives) expect(r.used).toBeLessThanOrEqual(4);
    expect(watch.handBacks).toBe(0);
  });

  it('runs two 512-slot jobs at once on a 1024-slot runner, never three', async () => {
    const fleet: FleetConfig = { classes: [{ name: 'huge', slotsPerRunner: 1024, cpu: 4096, memoryMiB: 8192, minRunners: 0, maxRunners: 1 }] };
    const catalogue = defineCatalogue({ root: fixtures.root, fleet, jobs: [{ name: 'half', module: 'slow', slots: 512, maxAttempts: 1 }] });
    env = await createTestEnvironment('runner-slots-1024', { fleet });
    ({ runner, watch } = await watchedRunner(env, { RUNNER_CLASS: 'huge', RUNNER_SPARES: '2' }, catalogue));
    expect(runner.app.config.slots).toBe(1024);
    const tasks = [];
    for (let i = 0; i < 6; i++) tasks.push(await enqueue(env, 'half', { ms: 700 }, {}, catalogue));
    for (const t of tasks) expect((await waitForTask(env, t.id, settled, 60_000)).status).toBe('completed');
    const summaries = await Promise.all(tasks.map((t) => (runner as TestRunner).summaryOf(t.id)));
    watch.stop();
    expect(Math.max(...watch.samples)).toBe(1024);
    expect(peakFromWindows(summaries)).toBe(1024);
    expect(runner.app.runner.slots.peak).toBeLessThanOrEqual(1024);
    expect(watch.receives.every((r) => r.max <= 2)).toBe(true);
    expect(watch.handBacks).toBe(0);
  });
});
