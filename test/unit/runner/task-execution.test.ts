import pino from 'pino';
import { DEFAULT_BACKOFF } from '../../../core/model/backoff';
import { taskKey } from '../../../core/model/keys';
import { newTask } from '../../../core/model/new-task';
import type { JobSnapshot } from '../../../core/model/task';
import type { RunnableJob } from '../../../runner/catalogue';
import { MODULE_LOAD_ALLOWANCE_MS, TaskExecution, type ExecutionConfig, type TaskSummary } from '../../../runner/execute';
import { ManualClock } from '../../support/manual-clock';
import { memoryServices } from '../../support/memory-services';
import { MemoryWorkspaces, VirtualSandboxes, type VirtualScript } from '../../support/virtual-sandbox';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const LEASE_MS = 1500;
const MARGIN_MS = 150;

const snapshot: JobSnapshot = {
  job: 'work',
  slots: 1,
  slotClass: 'small',
  maxExecutionMs: 60_000,
  maxAttempts: 1,
  backoff: DEFAULT_BACKOFF,
  retentionMs: 86_400_000,
  maxConcurrency: 0,
};

const config: ExecutionConfig = {
  runnerId: 'runner-a',
  slots: 4,
  leaseMs: LEASE_MS,
  heartbeatMs: 500,
  fenceMarginMs: MARGIN_MS,
  progressIntervalMs: 200,
  cancelGraceMs: 1000,
  timeoutGraceMs: 200,
  logCapBytes: 1 << 20,
  inlineResultBytes: 32 * 1024,
  jobLogLevel: 'info',
};

/** One task started on the in-memory store and run by a TaskExecution on a manual clock, in a virtual sandbox. */
async function execution(script: VirtualScript, job: JobSnapshot = snapshot) {
  const clock = new ManualClock(T0);
  const services = memoryServices(clock);
  const task = await services.startTask(newTask(job, { args: {}, dueAt: T0 }, T0), config.runnerId, LEASE_MS);
  const sandboxes = new VirtualSandboxes(clock, script);
  const workspaces = new MemoryWorkspaces();
  const runnable: RunnableJob = { name: job.job, snapshot: job, module: { ok: true, path: '/virtual/work.js' } as RunnableJob['module'] };
  const exec = new TaskExecution(
    { lifecycle: services.lifecycle, files: { upload: async () => ({ bytes: 0 }), putBytes: async () => undefined },
      logs: { add: async (task: { job: string; id: string; attempt: number }) => ({ key: `logs/${task.job}/${task.id}/${task.attempt}.log` }) }, pool: sandboxes, workspaces, config, logger: pino({ level: 'silent' }), clock },
    task,
    runnable,
    { receivedAt: T0, startWriteMs: 0 },
    { ready: async () => true, release: () => undefined },
  );
  let summary: TaskSummary | undefined;
  void exec.run().then((s) => (summary = s));
  await clock.advance(0);
  const sandbox = sandboxes.taken[0]!;
  const stored = async () => {
    const cut = services.table.cut;
    services.table.cut = false;
    const t = await services.lifecycle.store.mustGet(task.id);
    services.table.cut = cut;
    return t;
  };
  return { clock, services, task, sandbox, sandboxes, log: () => workspaces.logs.get(`${task.id}-${task.attempt}`)!, summary: () => summary, stored };
}

describe('self-fencing (invariant 6): a runner that cannot prove its lease stops the script before the lease ends', () => {
  it('cut off from AWS, it kills the script at lease end - margin, records nothing, and never waits for the hung calls', async () => {
    const { clock, services, sandbox, log, summary, stored } = await execution({});
    services.table.cut = true;
    await clock.advance(LEASE_MS - MARGIN_MS - 1);
    expect(sandbox.running).toBe(true);
    expect(services.table.hung.length).toBeGreaterThanOrEqual(2);
    await clock.advance(1);
    expect(sandbox.running).toBe(false);
    expect(sandbox.endedAt).toBe(T0 + LEASE_MS - MARGIN_MS);
    // Once the hung beat is given up, the task ends as lost: nothing recorded, the reaper retries it.
    await clock.advance(config.heartbeatMs);
    expect(summary()).toMatchObject({ outcome: 'lost' });
    expect(log().some((l) => l.fenced === true)).toBe(true);
    expect((await stored()).status).toBe('running');
  });

  it('keeps the script when the network comes back before the fence', async () => {
    const { clock, services, sandbox, stored } = await execution({ runMs: 10_000 });
    services.table.cut = true;
    await clock.advance(900);
    services.table.heal();
    await clock.advance(10_000);
    expect(sandbox.endedAt).toBe(T0 + 10_000);
    expect(sandbox.deadlines.length).toBeGreaterThan(2);
    expect((await stored()).status).toBe('completed');
  });

  it('tells the sandbox its deadline at the start and after every renewal, always strictly before the lease ends', async () => {
    const { clock, sandbox, stored } = await execution({});
    const [first] = sandbox.deadlines;
    expect(first!.at + first!.remainingMs).toBeGreaterThan(T0 + LEASE_MS - MARGIN_MS);
    expect(first!.at + first!.remainingMs).toBeLessThan(T0 + LEASE_MS);
    await clock.advance(LEASE_MS * 5);
    expect(sandbox.running).toBe(true);
    const last = sandbox.deadlines.at(-1)!;
    const { leaseUntil } = await stored();
    expect(last.at + last.remainingMs).toBeLessThan(leaseUntil as number);
    expect(last.at + last.remainingMs).toBeGreaterThan((leaseUntil as number) - MARGIN_MS);
    sandbox.kill();
  });
});

describe('the time limit is the script\'s own (invariant 8)', () => {
  const limited = { ...snapshot, maxExecutionMs: 1000 };

  it('starts when the module has loaded, not when the sandbox was handed the task', async () => {
    // 3 s to boot and load (a loaded machine), then 0.9 s of work, against a 1 s limit.
    const { clock, sandbox, stored } = await execution({ bootMs: 3000, runMs: 900 }, limited);
    await clock.advance(3000 + 900);
    expect(sandbox.aborts).toEqual([]);
    expect(sandbox.endedAt).toBe(T0 + 3900);
    await clock.advance(1000);
    expect(await stored()).toMatchObject({ status: 'completed' });
  });

  it('fails a script that runs past its own limit as a timeout', async () => {
    const { clock, sandbox, stored } = await execution({ bootMs: 3000 }, limited);
    await clock.advance(3000 + 1000);
    expect(sandbox.aborts).toEqual(['timeout']);
    expect(sandbox.endedAt).toBe(T0 + 4000);
    await clock.advance(1000);
    expect(await stored()).toMatchObject({ status: 'failed', error: { reason: 'timeout' } });
  });

  it('bounds a module that never loads: its max execution time plus the load allowance', async () => {
    const { clock, sandbox } = await execution({ bootMs: Number.MAX_SAFE_INTEGER }, limited);
    await clock.advance(1000 + MODULE_LOAD_ALLOWANCE_MS - 1);
    expect(sandbox.aborts).toEqual([]);
    await clock.advance(1);
    expect(sandbox.aborts).toEqual(['timeout']);
  });
});

describe('the sandbox pool hears when a task is recorded', () => {
  it('only after its terminal write, so the spare that replaces its sandbox never boots beside the task\'s own writes', async () => {
    const { clock, services, task, sandbox, sandboxes } = await execution({ runMs: 100 });
    const statusWhenSettled: unknown[] = [];
    sandboxes.onSettled = (settled) => {
      expect(settled).toBe(sandbox);
      statusWhenSettled.push(services.memory.peek(taskKey(task.id))?.status);
    };
    await clock.advance(1000);
    expect(statusWhenSettled).toEqual(['completed']);
  });
});
