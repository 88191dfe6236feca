import pino from 'pino';
import type { LifecycleDeps } from '../../../core/lifecycle/finish';
import { DEFAULT_BACKOFF } from '../../../core/model/backoff';
import { newTask } from '../../../core/model/new-task';
import type { JobSnapshot, TaskRecord } from '../../../core/model/task';
import type { RunnableJob } from '../../../runner/catalogue';
import { MODULE_LOAD_ALLOWANCE_MS, TaskExecution, type ExecutionConfig, type TaskSummary } from '../../../runner/execute';
import { ManualClock } from '../../support/manual-clock';
import { MemoryWorkspaces, VirtualSandboxes, type VirtualScript } from '../../support/virtual-sandbox';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const LEASE_MS = 1500;
const MARGIN_MS = 150;

const snapshot: JobSnapshot = {
  job: 'work',
  slots: 1,
  slotClass: 'small',
  maxExecutionMs: 60_000,
  maxAttempts: 3,
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

/**
 * A runner cut off from AWS: every store call hangs for ever (a black-holed endpoint). Only the
 * heartbeat can be called while a script runs; anything else reaching the store fails the test.
 */
function partitionedStore() {
  const calls: string[] = [];
  const hang = (name: string) => () => {
    calls.push(name);
    return new Promise<never>(() => undefined);
  };
  const store = { heartbeat: hang('heartbeat'), get: hang('get') };
  const unexpected = new Proxy(store, {
    get: (target, prop) => (prop in target ? target[prop as keyof typeof target] : () => Promise.reject(new Error(`unexpected store call while partitioned: ${String(prop)}`))),
  });
  return { lifecycle: { store: unexpected, schedules: {}, shards: 4, graceMs: 500 } as unknown as LifecycleDeps, calls };
}

function runningTask(clock: ManualClock, job: JobSnapshot = snapshot): TaskRecord {
  const task = newTask(job, { args: {}, dueAt: clock.now() }, clock.now());
  // As the start write returned it.
  return { ...task, status: 'running', runnerId: 'runner-a', startedAt: clock.now(), leaseUntil: clock.now() + LEASE_MS };
}

function execution(clock: ManualClock, lifecycle: LifecycleDeps, script: VirtualScript, job: JobSnapshot = snapshot) {
  const sandboxes = new VirtualSandboxes(clock, script);
  const workspaces = new MemoryWorkspaces();
  const task = runningTask(clock, job);
  const runnable: RunnableJob = { name: 'work', snapshot: job, module: { ok: true, path: '/virtual/work.js' } as RunnableJob['module'] };
  const exec = new TaskExecution(
    { lifecycle, files: { upload: async () => ({ bytes: 0 }) }, pool: sandboxes, workspaces, config, logger: pino({ level: 'silent' }), clock },
    task,
    runnable,
    { receivedAt: clock.now(), startWriteMs: 0 },
    { ready: async () => true, release: () => undefined },
  );
  let summary: TaskSummary | undefined;
  void exec.run().then((s) => (summary = s));
  return { exec, task, sandboxes, workspaces, summary: () => summary };
}

describe('self-fencing (invariant 6): a runner that cannot prove its lease stops the script before the lease ends', () => {
  it('cut off from AWS, it kills the script at lease end - margin, records nothing, and never waits for the hung calls', async () => {
    const clock = new ManualClock(T0);
    const { lifecycle, calls } = partitionedStore();
    const { sandboxes, workspaces, summary, task } = execution(clock, lifecycle, { runMs: undefined });
    await clock.advance(LEASE_MS - MARGIN_MS - 1);
    const [sandbox] = sandboxes.taken;
    expect(sandbox!.running).toBe(true);
    expect(calls.filter((c) => c === 'heartbeat').length).toBeGreaterThanOrEqual(2);
    await clock.advance(1);
    expect(sandbox!.running).toBe(false);
    expect(sandbox!.endedAt).toBe(T0 + LEASE_MS - MARGIN_MS);
    // The task ends as lost (nothing recorded: the reaper retries it) once the hung beat is given up.
    await clock.advance(config.heartbeatMs);
    expect(summary()).toMatchObject({ outcome: 'lost' });
    const log = workspaces.logs.get(`${task.id}-${task.attempt}`)!;
    expect(log.some((l) => l.fenced === true)).toBe(true);
  });

  it('tells the sandbox its deadline, strictly before the lease ends, so a frozen runner\'s script ends itself', async () => {
    const clock = new ManualClock(T0);
    const { lifecycle } = partitionedStore();
    const { sandboxes } = execution(clock, lifecycle, { runMs: undefined });
    await clock.advance(0);
    const [sandbox] = sandboxes.taken;
    const [first] = sandbox!.deadlines;
    expect(first!.at + first!.remainingMs).toBeGreaterThan(T0 + LEASE_MS - MARGIN_MS);
    expect(first!.at + first!.remainingMs).toBeLessThan(T0 + LEASE_MS);
  });

  it('keeps a script running for as long as heartbeats prove the lease, and moves its deadline each time', async () => {
    const clock = new ManualClock(T0);
    const renewed: number[] = [];
    const lifecycle = {
      store: {
        heartbeat: async (_id: string, _token: string, now: number, leaseMs: number) => {
          renewed.push(now + leaseMs);
          return { cancelRequested: false };
        },
      },
    } as unknown as LifecycleDeps;
    const { sandboxes } = execution(clock, lifecycle, { runMs: undefined });
    await clock.advance(LEASE_MS * 5);
    const [sandbox] = sandboxes.taken;
    expect(sandbox!.running).toBe(true);
    expect(sandbox!.deadlines.length).toBeGreaterThanOrEqual(renewed.length);
    const last = sandbox!.deadlines.at(-1)!;
    expect(last.at + last.remainingMs).toBeLessThan(renewed.at(-1)!);
    sandbox!.kill();
  });
});

describe('the time limit is the script\'s own (invariant 8)', () => {
  const answering = () =>
    ({ store: { heartbeat: async () => ({ cancelRequested: false }) } }) as unknown as LifecycleDeps;

  it('starts when the module has loaded, not when the sandbox was handed the task', async () => {
    const clock = new ManualClock(T0);
    // 3 s to boot and load (a loaded machine), then 0.9 s of work, against a 1 s limit.
    const { sandboxes } = execution(clock, answering(), { bootMs: 3000, runMs: 900 }, { ...snapshot, maxExecutionMs: 1000 });
    await clock.advance(3000 + 900);
    const [sandbox] = sandboxes.taken;
    expect(sandbox!.aborts).toEqual([]);
    expect(sandbox!.endedAt).toBe(T0 + 3900);
  });

  it('stops a script that runs past its own limit', async () => {
    const clock = new ManualClock(T0);
    const { sandboxes } = execution(clock, answering(), { bootMs: 3000, runMs: undefined }, { ...snapshot, maxExecutionMs: 1000 });
    await clock.advance(3000 + 1000);
    const [sandbox] = sandboxes.taken;
    expect(sandbox!.aborts).toEqual(['timeout']);
    expect(sandbox!.endedAt).toBe(T0 + 4000);
  });

  it('bounds a module that never loads: its max execution time plus the load allowance', async () => {
    const clock = new ManualClock(T0);
    const { sandboxes } = execution(clock, answering(), { bootMs: Number.MAX_SAFE_INTEGER }, { ...snapshot, maxExecutionMs: 1000 });
    await clock.advance(1000 + MODULE_LOAD_ALLOWANCE_MS - 1);
    const [sandbox] = sandboxes.taken;
    expect(sandbox!.aborts).toEqual([]);
    await clock.advance(1);
    expect(sandbox!.aborts).toEqual(['timeout']);
  });
});
