import pino from 'pino';
import { defineCatalogue, type Catalogue } from '../../core/catalogue';
import type { FleetConfig } from '../../core/config/fleet';
import { loadRuntimeConfig } from '../../core/config/runtime';
import { useRandomSource } from '../../core/model/entropy';
import { occurrenceId, resetIdSequence, taskKey } from '../../core/model/keys';
import type { ScheduleRecord, TaskRecord } from '../../core/model/task';
import { JobfleetClient } from '../../core/sdk/client';
import type { Services } from '../../core/services';
import type { AwsClients } from '../../core/store/aws-clients';
import { MemoryTable } from '../../core/store/memory-table';
import { ScheduleStore } from '../../core/store/schedule-store';
import { TaskStore } from '../../core/store/task-store';
import { runLoop } from '../../functions/ticker/loop';
import { noMetrics } from '../../functions/ticker/metrics';
import { Ticker } from '../../functions/ticker/tick';
import type { RunnerConfig } from '../../runner/config';
import type { TaskSummary } from '../../runner/execute';
import { Runner } from '../../runner/runner';
import { checkInvariants, checkSchedulesNeverStop, type Violation } from './invariants';
import { Rng } from './rng';
import { SimTable } from './sim-table';
import { SimDispatchQueue, SimDispatchSender, SimQueue } from './sim-queue';
import { Executions, SimFileSink, SimLogs, SimSandboxSource, SimWorkspaces } from './sim-sandbox';
import { SimProcess, World, formatLine, type NetworkProfile } from './world';

/**
 * One seeded run of the whole protocol: the real ticker (dispatch and reaper), the real runner
 * (poll loop, start, heartbeat, self-fencing, sandboxes, finish) and the real SDK, against the
 * in-memory table, simulated SQS queues and a virtual clock, while a seeded scheduler crashes,
 * freezes and cuts off processes, loses and duplicates messages, delays the indexes and skews
 * clocks. Then the invariants are checked against the ground truth.
 */
export interface SimulationOptions {
  readonly seed: number;
  /** Task lifecycles to create (one-off tasks and schedule occurrences, each to its end). */
  readonly lifecycles: number;
  /** Inject faults (off: the same workload on a healthy deployment). @default true */
  readonly faults?: boolean;
  /** Print the trace as it happens. */
  readonly echo?: boolean;
}

export interface SimulationResult {
  readonly seed: number;
  readonly lifecycles: number;
  readonly violations: readonly Violation[];
  readonly virtualMs: number;
  readonly events: number;
  readonly faults: number;
  /** The last trace lines, for a failing run. */
  trace(): string;
}

export const SIM = {
  start: Date.UTC(2027, 0, 4, 9, 0, 0),
  leaseMs: 3000,
  graceMs: 1500,
  dispatchWindowMs: 5000,
  /** Three windows: long enough to hold across a runner's restart, short next to a world's length. */
  coldStartMs: 15_000,
  requestTimeoutMs: 800,
  maxSkewMs: 150,
  cancelGraceMs: 600,
  timeoutGraceMs: 400,
  tickIntervalMs: 1000,
} as const;

export const SIM_FLEET: FleetConfig = {
  classes: [
    { name: 'small', slotsPerRunner: 4, cpu: 512, memoryMiB: 1024, minRunners: 0, maxRunners: 3 },
    { name: 'large', slotsPerRunner: 8, cpu: 1024, memoryMiB: 2048, minRunners: 0, maxRunners: 1 },
  ],
};

const backoff = { initialMs: 300, factor: 2, maxMs: 3000 };
export const SIM_CATALOGUE: Catalogue = defineCatalogue({
  root: '/sim',
  fleet: SIM_FLEET,
  jobs: [
    { name: 'work', module: 'work', maxExecutionTime: 2000, maxAttempts: 3, backoff },
    { name: 'singleton', module: 'singleton', maxExecutionTime: 2000, maxAttempts: 2, maxConcurrency: 1, backoff },
    { name: 'keyed', module: 'keyed', maxExecutionTime: 2000, maxAttempts: 2, maxConcurrencyPerKey: 1, backoff },
    { name: 'heavy', module: 'heavy', slots: 6, maxExecutionTime: 3000, maxAttempts: 2, backoff },
    { name: 'tick', module: 'tick', maxExecutionTime: 2000, maxAttempts: 2, backoff },
    // Runs longer than a lease, so freezes and partitions land while scripts run.
    { name: 'long', module: 'long', maxExecutionTime: 15_000, maxAttempts: 3, backoff },
  ],
});

const silent = pino({ level: 'silent' });
const QUEUE_URLS = { small: 'https://sqs.sim/small', large: 'https://sqs.sim/large' };

/** The simulation has no AWS clients: anything that reaches for one fails loudly instead of calling out. */
const NO_AWS = new Proxy({}, { get: (_t, p) => { throw new Error(`the simulation has no AWS clients (asked for ${String(p)})`); } }) as AwsClients;

export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const rng = new Rng(options.seed);
  const idRng = rng.fork();
  const restoreRandom = useRandomSource(() => idRng.next());
  resetIdSequence();
  try {
    return await run(options, rng);
  } finally {
    restoreRandom();
  }
}

async function run(options: SimulationOptions, rng: Rng): Promise<SimulationResult> {
  const faultsOn = options.faults ?? true;
  const world = new World(SIM.start, rng.fork(), options.echo ?? false);
  const faultRng = rng.fork();
  const workRng = rng.fork();
  const sandboxRng = rng.fork();
  const lagRng = rng.fork();
  const maxLag = faultsOn ? rng.int(0, 400) : 0;
  const table = new MemoryTable({ now: () => world.now, indexLagMs: () => lagRng.int(0, maxLag), ttlDelayMs: 60_000 });
  const runtime = loadRuntimeConfig({
    JOBFLEET_TABLE: 'sim-table',
    JOBFLEET_BUCKET: 'sim-bucket',
    JOBFLEET_QUEUES: JSON.stringify(QUEUE_URLS),
    JOBFLEET_SHARDS: '2',
    JOBFLEET_DISPATCH_WINDOW_MS: String(SIM.dispatchWindowMs),
    JOBFLEET_LEASE_MS: String(SIM.leaseMs),
    JOBFLEET_GRACE_MS: String(SIM.graceMs),
    JOBFLEET_AWS_REQUEST_TIMEOUT_MS: String(SIM.requestTimeoutMs),
    JOBFLEET_STATUS_EVENTS: 'none',
  });
  const network = (): NetworkProfile => {
    const netRng = rng.fork();
    return {
      latency: () => netRng.int(1, 15),
      transientErrorRate: faultsOn ? 0.01 : 0,
      lostResponseRate: faultsOn ? 0.005 : 0,
      requestTimeoutMs: SIM.requestTimeoutMs,
    };
  };
  const skew = () => (faultsOn ? rng.int(-SIM.maxSkewMs, SIM.maxSkewMs) : 0);
  const queueFaults = faultsOn ? { lossRate: 0.01, duplicateRate: 0.03 } : { lossRate: 0, duplicateRate: 0 };
  const queues = new Map(SIM_FLEET.classes.map((c) => [c.name, new SimQueue(world, rng.fork(), c.name, 8000, 6, queueFaults)]));
  const executions = new Executions();
  const summaries: (TaskSummary & { runner: string })[] = [];
  const taskOf = (id: string) => table.peek(taskKey(id)) as TaskRecord | undefined;

  const servicesFor = (proc: SimProcess): Services => {
    const simTable = new SimTable(table, proc);
    return {
      config: runtime,
      clients: NO_AWS,
      store: new TaskStore(simTable, { tableName: runtime.tableName, shards: runtime.shards }),
      schedules: new ScheduleStore(simTable, { shards: runtime.shards }),
      shards: runtime.shards,
      graceMs: runtime.graceMs,
      clock: proc.clock,
    };
  };

  // ---- tickers
  let stopping = false;
  const tickers = [0, 1].map((i) => new SimProcess(world, `ticker-${i}`, skew(), network()));
  const startTicker = (proc: SimProcess) => {
    const epoch = proc.epoch;
    const services = servicesFor(proc);
    const ticker = new Ticker({
      lifecycle: services,
      config: runtime,
      fleet: SIM_FLEET,
      sender: new SimDispatchSender(queues, proc),
      logger: silent,
      metrics: noMetrics,
      clock: proc.clock,
      options: { tickIntervalMs: SIM.tickIntervalMs, lookaheadMs: 500, minTickGapMs: 100, claimConcurrency: 8, coldStartMs: SIM.coldStartMs },
    });
    void runLoop({
      tick: (now) => ticker.tick(now),
      clock: () => proc.clock.now(),
      sleep: (ms, signal) => proc.clock.sleep(ms, signal),
      intervalMs: SIM.tickIntervalMs,
      minGapMs: 100,
      shouldContinue: () => proc.epoch === epoch,
      onError: () => undefined,
    });
  };

  // ---- runners
  const runnerClasses = ['small', 'small', 'small', 'large'];
  const runners = runnerClasses.map((c, i) => ({ proc: new SimProcess(world, `runner-${i}`, skew(), network()), slotClass: c, generation: 0 }));
  const startRunner = (r: (typeof runners)[number]) => {
    r.generation++;
    const { proc } = r;
    const services = servicesFor(proc);
    const slots = SIM_FLEET.classes.find((c) => c.name === r.slotClass)?.slotsPerRunner ?? 4;
    const config: RunnerConfig = {
      runnerId: `${proc.name}.${r.generation}`,
      slotClass: r.slotClass,
      queueUrl: QUEUE_URLS[r.slotClass as keyof typeof QUEUE_URLS],
      slots,
      largestJobSlots: r.slotClass === 'large' ? 6 : 1,
      waitTimeSeconds: 2,
      pollErrorDelayMs: 200,
      stopTimeoutMs: 5000,
      cancelGraceMs: SIM.cancelGraceMs,
      timeoutGraceMs: SIM.timeoutGraceMs,
      leaseMs: SIM.leaseMs,
      heartbeatMs: 1000,
      fenceMarginMs: 400,
      progressIntervalMs: 1000,
      logCapBytes: 1 << 20,
      inlineResultBytes: 32 * 1024,
      spares: 0,
      workDir: `/sim/${proc.name}`,
      logLevel: 'silent',
      jobLogLevel: 'silent',
      protectionReleaseDelayMs: 1000,
      receiveLingerMs: 100,
      deleteLingerMs: 200,
      logBatch: { maxDelayMs: 2000, maxBatchBytes: 5 << 20, ownObjectBytes: 1 << 20 },
      maxSpares: 0,
    };
    const runner = new Runner(
      {
        lifecycle: services,
        queue: new SimDispatchQueue(queues.get(r.slotClass) as SimQueue, proc, 2000),
        files: new SimFileSink(proc),
        logs: new SimLogs(proc),
        jobs: { get: (name) => (SIM_CATALOGUE.jobs.has(name) ? { name, snapshot: SIM_CATALOGUE.get(name).snapshot, module: { ok: true, path: `/sim/${name}` } } : undefined) },
        pool: new SimSandboxSource(world, proc, sandboxRng.fork(), executions, taskOf),
        workspaces: new SimWorkspaces(),
        protection: { setBusy: () => undefined, release: async () => undefined },
        logger: silent,
        clock: proc.clock,
        onTaskEnd: (s) => summaries.push({ ...s, runner: config.runnerId }),
      },
      config,
    );
    runner.start();
  };

  // ---- clients
  const clientProcs = [0, 1].map((i) => new SimProcess(world, `client-${i}`, skew(), network()));
  const clientFor = (proc: SimProcess) => new JobfleetClient({ catalogue: SIM_CATALOGUE, services: servicesFor(proc) });
  const janitorProc = new SimProcess(world, 'janitor', 0, { ...network(), transientErrorRate: 0, lostResponseRate: 0 });
  const janitor = clientFor(janitorProc);

  for (const t of tickers) startTicker(t);
  for (const r of runners) startRunner(r);

  const workload = new Workload(workRng, options.lifecycles);
  const stoppedByUser = new Set<string>();
  const violations: Violation[] = [];
  for (const proc of clientProcs) void workload.drive(proc, clientFor(proc), stoppedByUser, () => stopping);

  // ---- faults
  let faultCount = 0;
  const restartable = [...tickers, ...runners.map((r) => r.proc), ...clientProcs];
  const restart = (proc: SimProcess) => {
    proc.restart();
    const r = runners.find((x) => x.proc === proc);
    if (r) startRunner(r);
    else if (tickers.includes(proc)) startTicker(proc);
    else {
      const client = clientFor(proc);
      void workload.drive(proc, client, stoppedByUser, () => stopping);
    }
  };
  const injectFault = () => {
    if (stopping || !faultsOn) return;
    const proc = faultRng.pick(restartable);
    const kind = faultRng.next();
    const length = faultRng.chance(0.3) ? faultRng.int(SIM.leaseMs, SIM.leaseMs + SIM.graceMs + 6000) : faultRng.int(50, 2000);
    if (proc.state !== 'up' || proc.partitioned) return;
    faultCount++;
    if (kind < 0.35) {
      proc.crash();
      world.at(world.now + length, () => restart(proc));
    } else if (kind < 0.7) {
      proc.freeze();
      world.at(world.now + length, () => proc.thaw());
    } else {
      proc.partition();
      world.at(world.now + length, () => proc.heal());
    }
  };
  const faultLoop = () => {
    injectFault();
    if (!stopping) world.at(world.now + faultRng.int(300, 3000), faultLoop);
  };
  if (faultsOn) world.at(world.now + 1000, faultLoop);

  // The schedules' promise is checked at every moment, not only at the end.
  const watch = () => {
    violations.push(...checkSchedulesNeverStop(table, stoppedByUser, world.now));
    if (!stopping) world.at(world.now + 1000, watch);
  };
  world.at(world.now + 1000, watch);

  // ---- phase 1: the workload with faults
  const maxVirtualMs = 60_000 + options.lifecycles * 400;
  await world.runUntil(() => workload.created >= options.lifecycles, SIM.start + maxVirtualMs);

  // ---- phase 2: heal everything, stop the schedules, release held tasks, and let it all settle
  stopping = true;
  for (const p of restartable) {
    if (p.state === 'frozen') p.thaw();
    p.heal();
    if (p.state === 'down') restart(p);
  }
  violations.push(...checkSchedulesNeverStop(table, stoppedByUser, world.now, true));
  // Settling ends when every task has ended with its follow-up done, or when no task has changed
  // state for SETTLE_STALL_MS (a stall: what is still open then is reported as never ended). A
  // saturated fleet with a backlog keeps changing state and is given the time it needs, up to
  // SETTLE_MAX_MS.
  const settleCap = world.now + SETTLE_MAX_MS;
  let stalledAt = world.now + SETTLE_STALL_MS;
  let lastOpen = '';
  const tidy = async () => {
    for (const s of (await janitor.schedules.list().catch(() => [] as ScheduleRecord[])).filter((x) => x.active)) await janitor.schedules.stop(s.id).catch(() => undefined);
    for (const item of table.allItems()) {
      if (item.type === 'task' && item.status === 'pending' && item.held) await janitor.release(String(item.id)).catch(() => undefined);
    }
  };
  let tidied = false;
  let quiet = false;
  // Looked at once a simulated second: reading every item after every event would cost more than the run.
  const watchQuiet = () => {
    const open = [...table.allItems()].filter((item) => item.type === 'task' && !(isEnded(item) && item.effectsDone));
    quiet = open.length === 0;
    const state = open.map((item) => `${String(item.id)}:${String(item.status)}:${String(item.attempt)}:${String(item.effectsDone)}`).join(',');
    if (state !== lastOpen) {
      lastOpen = state;
      stalledAt = Math.min(settleCap, world.now + SETTLE_STALL_MS);
    }
    if (!quiet) world.at(world.now + 1000, watchQuiet);
  };
  world.at(world.now + 1000, watchQuiet);
  const tidyLoop = () => {
    if (world.now > stalledAt) return;
    void tidy().then(() => {
      tidied = true;
    });
    world.at(world.now + 5000, tidyLoop);
  };
  world.at(world.now + 100, tidyLoop);
  for (let ran = -1; !(tidied && quiet) && world.now < stalledAt && ran !== world.eventsRun; ) {
    ran = world.eventsRun; // nothing left to run ends it too
    await world.runUntil(() => (tidied && quiet) || world.now >= stalledAt, stalledAt);
  }

  violations.push(...checkInvariants({ table, executions, summaries, runners: runners.map((r) => r.proc), maxSkewMs: SIM.maxSkewMs, timeoutGraceMs: SIM.timeoutGraceMs, rescheduled: workload.rescheduled }));
  let lifecycles = 0;
  for (const item of table.allItems()) if (item.type === 'task' && isEnded(item) && item.effectsDone) lifecycles++;
  return {
    seed: options.seed,
    lifecycles,
    violations,
    virtualMs: world.now - SIM.start,
    events: world.eventsRun,
    faults: faultCount,
    trace: () => world.traceLines().map((l) => formatLine(l, SIM.start)).join('\n'),
  };
}

/** No task changing state for this long, after the faults stop, is a stall. */
const SETTLE_STALL_MS = 180_000;
/** However busy, settling ends within a simulated hour. */
const SETTLE_MAX_MS = 3_600_000;

const isEnded = (item: Record<string, unknown>) => item.status === 'completed' || item.status === 'failed' || item.status === 'cancelled';

/**
 * What the SDK users do: schedule one-off tasks of every kind (now, later, expiring, after
 * another, idempotent, held, limited by key, singleton, heavy), cancel some, reschedule failed
 * ones, and run a few recurring schedules (interval, cron, computed), stopping one now and then.
 */
class Workload {
  created = 0;
  readonly rescheduled = new Set<string>();
  private readonly ids: string[] = [];
  private schedules = 0;
  private idemKeys: { key: string; job: string; args: unknown }[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly target: number,
  ) {}

  async drive(proc: SimProcess, client: JobfleetClient, stopped: Set<string>, done: () => boolean): Promise<void> {
    const epoch = proc.epoch;
    while (!done() && proc.epoch === epoch && this.created < this.target) {
      await proc.clock.sleep(this.rng.int(5, 120));
      if (done() || proc.epoch !== epoch) return;
      await this.act(client, stopped, () => proc.clock.now()).catch(() => undefined);
    }
  }

  private behaviour(): { b: string; ms: number } {
    const r = this.rng.next();
    const b = r < 0.72 ? 'ok' : r < 0.82 ? 'throw' : r < 0.87 ? 'exit1' : r < 0.9 ? 'exit100' : r < 0.93 ? 'hang' : r < 0.96 ? 'stubborn' : 'ok';
    // Some run close to the 2 s limit, on either side of it.
    const ms = this.rng.chance(0.15) ? this.rng.int(1700, 2300) : this.rng.int(20, 1200);
    return { b, ms };
  }

  private async act(client: JobfleetClient, stopped: Set<string>, now: () => number): Promise<void> {
    const rng = this.rng;
    const r = rng.next();
    if (r < 0.04 && this.ids.length > 0) {
      await client.cancel(rng.pick(this.ids));
      return;
    }
    if (r < 0.06 && this.ids.length > 0) {
      const task = await client.get(rng.pick(this.ids));
      if (task.status === 'failed' && task.effectsDone && !task.scheduleId) {
        this.rescheduled.add(task.id);
        await client.reschedule(task.id);
      }
      return;
    }
    if (r < 0.08 && this.schedules < 3) {
      this.schedules++;
      const kind = rng.pick(['every', 'cron', 'computed'] as const);
      const args = { b: 'ok', ms: rng.int(20, 800) };
      const opts = kind === 'every' ? { every: rng.int(2, 6) * 1000 } : kind === 'cron' ? { cron: '*/4 * * * * *', timezone: 'UTC' } : { computed: true as const };
      const s = await client.schedules.create('tick', args, { ...opts, id: `sched-${this.schedules}`, missedRuns: rng.pick(['once', 'skip', 'all'] as const) });
      this.created++;
      if (rng.chance(0.3)) {
        stopped.add(s.id);
        await client.schedules.stop(s.id);
      }
      return;
    }
    if (r < 0.09 && this.schedules > 0) {
      // A user cancels one occurrence: the schedule goes on.
      const s = await client.schedules.get(`sched-${rng.int(1, this.schedules)}`);
      if (s.active) await client.cancel(occurrenceId(s.id, s.nextDueAt, s.job));
      return;
    }
    if (r < 0.1 && this.ids.length > 0) {
      const task = await client.get(rng.pick(this.ids));
      if (task.held && task.status === 'pending') await client.release(task.id);
      return;
    }
    const job = rng.next() < 0.65 ? 'work' : rng.pick(['singleton', 'keyed', 'heavy', 'long', 'long'] as const);
    const args = job === 'long' ? { b: rng.pick(['ok', 'ok', 'ok', 'hang', 'throw'] as const), ms: rng.int(2000, 12_000) } : this.behaviour();
    const options: Record<string, unknown> = {};
    if (rng.chance(0.25)) options.delay = rng.int(1, 4000);
    if (rng.chance(0.1)) options.expiresAt = now() + rng.int(500, 10_000) + Number(options.delay ?? 0);
    if (rng.chance(0.15) && this.ids.length > 0) options.startAfter = rng.pick(this.ids.slice(-20));
    if (rng.chance(0.05) && !options.startAfter) options.hold = true;
    if (job === 'keyed') options.concurrencyKey = `tenant-${rng.int(1, 3)}`;
    if (rng.chance(0.08)) {
      const reuse = this.idemKeys.length > 0 && rng.chance(0.5) ? rng.pick(this.idemKeys) : undefined;
      if (reuse) {
        options.idempotencyKey = reuse.key;
        const again = await client.schedule(reuse.job, reuse.args, options);
        this.ids.push(again.id);
        return;
      }
      const key = `idem-${this.idemKeys.length}`;
      this.idemKeys.push({ key, job, args });
      options.idempotencyKey = key;
    }
    if (rng.chance(0.1)) options.priority = rng.int(0, 500);
    this.created++;
    const task = await client.schedule(job, args, options);
    this.ids.push(task.id);
    if (this.ids.length > 200) this.ids.shift();
  }
}
