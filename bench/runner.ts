/**
 * The runner's figures: no-op tasks per second through one runner with 8 slots, the memory of
 * the runner and all its sandboxes (from /proc) at steady state and at the end, the overhead per
 * task (message received -> outcome written, minus the script's own time and the S3 upload),
 * and the AWS calls the runner makes per task.
 *
 * The runner runs as a real process. By default it is the built JavaScript (`npm run build`
 * first: `node dist/runner/main.js`, as in the container image); set BENCH_RUNNER_FROM_SOURCE=1
 * to run `node --import tsx runner/main.ts` instead (slower sandboxes: tsx loads in each).
 *
 *   BENCH_RUNNER_TASKS   no-op tasks of the loaded run (default 2000; 10000 takes ~15 min on 2 cores)
 *   BENCH_RUNNER_LATENCY_TASKS  no-op tasks sent one at a time to an idle runner (default 200)
 *   BENCH_RUNNER_SLOTS   the runner's slots (default 8)
 *   BENCH_RUNNER_SPARES  warm sandboxes kept ahead (default: the runner's default, 1)
 *   BENCH_RUNNER_COUNT_TASKS  tasks of the in-process run that counts AWS calls (default 100)
 *   BENCH_RUNNER_PROFILE  a directory: the runner process writes a V8 CPU profile there (--cpu-prof)
 *   BENCH_RUNNER_BASELINE  a commit: also runs that commit's own runner bench on the same load and
 *                          emulator right after, and prints the throughput ratio (bench/baseline.ts)
 *
 * The runner process gets no NODE_EXTRA_CA_CERTS, as in its image (see bench/baseline.ts).
 *
 * Assumes the local AWS is up at AWS_ENDPOINT_URL (bench/index.ts ensures it).
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Catalogue } from '../core/catalogue';
import { schedSk } from '../core/model/keys';
import { newTask } from '../core/model/new-task';
import type { SchedEntry } from '../core/store/task-store';
import { createServices } from '../core/services';
import { RUNNER_NODE_FLAGS } from '../core/config/runner-node-flags';
import { sandboxEnvironment } from '../runner/sandbox/environment';
import { tsxExecArgv } from '../runner/sandbox/sandbox';
import { writeTerminal } from '../core/lifecycle/finish';
import { awsClients } from '../test/support/aws';
import { createTestEnvironment, type TestEnvironment } from '../test/support/resources';
import repoCatalogue from '../jobs/catalogue';
import { countCalls } from './call-counter';
import { cpuSecondsOf, cpuSplitOf, descendantsOf, emulatorCpuSeconds, startQuiet } from './compute';
import { round, writeSection } from './results';
import { baselineThroughput, containerLikeEnv } from './baseline';
import { startInProcessRunner } from './in-process-runner';

const REPO = join(__dirname, '..');
const MB = 1024 * 1024;

interface TaskEndLine {
  readonly msg: string;
  readonly taskId?: string;
  readonly outcome?: string;
  readonly durationMs?: number;
  readonly scriptMs?: number;
  readonly uploadMs?: number;
  readonly overheadMs?: number;
  readonly sandboxOverheadMs?: number;
  readonly startWriteMs?: number;
  readonly finishMs?: number;
  readonly warmSandbox?: boolean;
}

const intEnv = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
};

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/**
 * Memory (bytes) of `pid` and, separately, of it plus all its descendants, from /proc. `tree`
 * sums RSS, which counts the pages every Node process shares (the node binary, ~34 MB each) once
 * per process; `pssTree` sums PSS, which splits each shared page among its sharers: the memory the
 * tree really holds, which is what the container's memory limit counts.
 */
function rssOfTree(pid: number): { self: number; tree: number; pssTree: number; processes: number } {
  const tree = descendantsOf([pid]);
  const rss = (p: number): number => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  const pss = (p: number): number => {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  let total = 0;
  let totalPss = 0;
  for (const p of tree) {
    total += rss(p);
    totalPss += pss(p);
  }
  return { self: rss(pid), tree: total, pssTree: totalPss, processes: tree.size };
}

/** Puts, claims and dispatches `count` no-op tasks, as the ticker would (batched sends, parallel writes). */
async function preload(env: TestEnvironment, catalogue: Catalogue, job: string, count: number): Promise<void> {
  const { store } = env.services;
  const snapshot = catalogue.get(job).snapshot;
  const queueUrl = env.config.queueUrls[snapshot.slotClass] as string;
  const concurrency = 16;
  for (let start = 0; start < count; start += 100) {
    const now = Date.now();
    const tasks = Array.from({ length: Math.min(100, count - start) }, () => newTask(snapshot, { args: null, dueAt: now }, now));
    const claimed: { id: string; token: string }[] = [];
    for (let i = 0; i < tasks.length; i += concurrency) {
      await Promise.all(
        tasks.slice(i, i + concurrency).map(async (task) => {
          await store.create(task);
          const entry: SchedEntry = {
            id: task.id,
            at: task.dueAt,
            sk: schedSk(task.dueAt, task.priority, task.id),
            token: task.token,
            job: task.job,
            slots: task.slots,
            slotClass: task.slotClass,
          };
          const claim = await store.claim(entry, now, 3_600_000);
          if (claim) claimed.push({ id: task.id, token: claim.token });
        }),
      );
    }
    for (let i = 0; i < claimed.length; i += 10) {
      await env.clients.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: claimed.slice(i, i + 10).map((c, n) => ({ Id: String(n), MessageBody: JSON.stringify({ v: 1, taskId: c.id, token: c.token }) })),
        }),
      );
    }
  }
}

/** Runs the runner in-process on a few tasks with its AWS clients instrumented: the calls it makes per task. */
async function countRunnerCalls(count: number, slots: number): Promise<{ perTask: Record<string, number>; total: number }> {
  const env = await createTestEnvironment('bench-runner-calls');
  try {
    await preload(env, repoCatalogue, 'noop', count);
    const clients = awsClients();
    const counts = countCalls(clients);
    // A production-like lease: no heartbeat falls inside a no-op task.
    const services = createServices({ ...env.config, leaseMs: 30_000 }, clients);
    let ended = 0;
    let resolveAll: () => void = () => undefined;
    const allDone = new Promise<void>((r) => (resolveAll = r));
    const runner = await startInProcessRunner(env, services, {
      slots,
      onTaskEnd: () => {
        if (++ended === count) resolveAll();
      },
    });
    await allDone;
    // After the stop: deletes still waiting to share a batch are sent then.
    await runner.stop();
    const snapshot = counts.snapshot();
    const perTask = Object.fromEntries(Object.entries(snapshot).map(([k, v]) => [k, Math.round((v / count) * 100) / 100]));
    return { perTask, total: Math.round((Object.values(snapshot).reduce((a, b) => a + b, 0) / count) * 100) / 100 };
  } finally {
    await env.cleanup();
  }
}

interface Phase {
  readonly ends: TaskEndLine[];
  /** CPU seconds (runner + reaped sandboxes) from the first task's end to the last sample. */
  readonly cpuSeconds: number;
  /** The same CPU apart: the runner's own, its reaped sandboxes', and the local AWS's (NaN if not on this host). */
  readonly cpuSplit: { readonly runner: number; readonly sandboxes: number; readonly emulator: number };
  /** RSS of runner + sandboxes integrated over the same time, GB x s. */
  readonly rssGbSeconds: number;
  readonly samples: { done: number; self: number; tree: number; pssTree: number; processes: number }[];
  readonly peakTree: number;
  readonly peakPssTree: number;
  readonly wallS: number;
  readonly fromFirstEndS: number;
  readonly stderr: string;
}

/** Starts the runner as a real process, feeds it `tasks` no-op tasks (preloaded, or one at a time), samples /proc, stops it. */
async function runPhase(env: TestEnvironment, options: { tasks: number; slots: number; spares?: string; fromSource: boolean; feed: 'preloaded' | 'one-at-a-time' }): Promise<Phase> {
  const { tasks, slots, fromSource } = options;
  const workDir = mkdtempSync(join(tmpdir(), 'bench-runner-'));
  const profile = process.env.BENCH_RUNNER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_RUNNER_PROFILE}`] : [];
  const args = [...RUNNER_NODE_FLAGS, ...profile, ...(fromSource ? [...tsxExecArgv(), join(REPO, 'runner', 'main.ts')] : [join(REPO, 'dist', 'runner', 'main.js')])];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...containerLikeEnv(),
      JOBFLEET_TABLE: env.config.tableName,
      JOBFLEET_BUCKET: env.config.bucket,
      JOBFLEET_QUEUES: JSON.stringify(env.config.queueUrls),
      JOBFLEET_SHARDS: String(env.config.shards),
      JOBFLEET_LEASE_MS: '30000',
      JOBFLEET_GRACE_MS: '60000',
      JOBFLEET_EVENT_BUS: '',
      RUNNER_CLASS: 'small',
      RUNNER_SLOTS: String(slots),
      RUNNER_ID: 'bench-runner',
      RUNNER_WORK_DIR: workDir,
      RUNNER_WAIT_TIME_SECONDS: options.feed === 'preloaded' ? '1' : '20',
      RUNNER_STOP_TIMEOUT_MS: '10000',
      RUNNER_HEARTBEAT_FILE: 'none',
      ...(options.spares ? { RUNNER_SPARES: options.spares } : {}),
    },
  });
  const ends: TaskEndLine[] = [];
  const stderr: string[] = [];
  let partial = '';
  let firstEndAt = 0;
  let started = false;
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"runner started"')) started = true;
      if (!line.includes('"task ended"')) continue;
      const parsed = JSON.parse(line) as TaskEndLine;
      if (parsed.msg !== 'task ended') continue;
      if (ends.length === 0) firstEndAt = Date.now();
      ends.push(parsed);
    }
  });
  child.stderr.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
  const startedAt = Date.now();
  const samples: Phase['samples'] = [];
  let peakTree = 0;
  let peakPssTree = 0;
  let cpuAtFirstEnd: number | undefined;
  let lastSampleAt = 0;
  let rssGbSeconds = 0;
  let cpuAtEnd = Number.NaN;
  let splitAtFirstEnd: { own: number; children: number; emulator: number } | undefined;
  const sample = () => {
    const rss = rssOfTree(child.pid as number);
    const at = Date.now();
    if (ends.length > 0) {
      if (cpuAtFirstEnd === undefined) {
        cpuAtFirstEnd = cpuSecondsOf(child.pid as number);
        splitAtFirstEnd = { ...cpuSplitOf(child.pid as number), emulator: emulatorCpuSeconds() };
      }
      else rssGbSeconds += (rss.tree / 1024 ** 3) * ((at - lastSampleAt) / 1000);
      cpuAtEnd = cpuSecondsOf(child.pid as number);
    }
    lastSampleAt = at;
    peakTree = Math.max(peakTree, rss.tree);
    peakPssTree = Math.max(peakPssTree, rss.pssTree);
    samples.push({ done: ends.length, ...rss });
    if (samples.length % 40 === 0) process.stdout.write(`  ${ends.length}/${tasks} tasks, runner+sandboxes RSS ${(rss.tree / MB).toFixed(0)} MB, PSS ${(rss.pssTree / MB).toFixed(0)} MB (${rss.processes} processes)\n`);
  };
  const deadline = startedAt + Math.max(120_000, tasks * 250);
  if (options.feed === 'one-at-a-time') {
    while (!started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Let the warm spare boot before the first task, as it would be on an idle runner.
    await new Promise((r) => setTimeout(r, 500));
    const sampler = setInterval(sample, 250);
    for (let i = 0; i < tasks && Date.now() < deadline && child.exitCode === null; i++) {
      await preload(env, repoCatalogue, 'noop', 1);
      while (ends.length <= i && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
      // An idle gap between tasks, so the spare is warm again (the latency an idle runner offers).
      await new Promise((r) => setTimeout(r, 150));
    }
    clearInterval(sampler);
  } else {
    while (ends.length < tasks && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 250));
      sample();
    }
  }
  const finishedAt = Date.now();
  sample();
  const splitAtEnd = { ...cpuSplitOf(child.pid as number), emulator: emulatorCpuSeconds() };
  const cpuSplit = {
    runner: splitAtEnd.own - (splitAtFirstEnd?.own ?? Number.NaN),
    sandboxes: splitAtEnd.children - (splitAtFirstEnd?.children ?? Number.NaN),
    emulator: splitAtEnd.emulator - (splitAtFirstEnd?.emulator ?? Number.NaN),
  };
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(workDir, { recursive: true, force: true });
  if (ends.length < tasks) console.log(`!! only ${ends.length} of ${tasks} tasks ended before the deadline${stderr.length ? `; stderr: ${stderr.join('').slice(0, 500)}` : ''}`);
  return { ends, cpuSeconds: cpuAtEnd - (cpuAtFirstEnd ?? Number.NaN), cpuSplit, rssGbSeconds, samples, peakTree, peakPssTree, wallS: (finishedAt - startedAt) / 1000, fromFirstEndS: (finishedAt - firstEndAt) / 1000, stderr: stderr.join('') };
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const ok = (pass: boolean) => (pass ? 'OK' : 'MISS');
const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * The overhead lines. `targeted`: the one-at-a-time run, which the target is about. With every
 * slot busy on a CPU-saturated machine a task's time in the runner is queueing (Little's law:
 * tasks in hand / throughput), so that run reports the figure without judging it.
 */
function overheadLines(phase: Phase, targeted: boolean): { p99: number; lines: string[] } {
  const pick = (k: keyof TaskEndLine) => phase.ends.map((e) => e[k] as number).filter((n) => typeof n === 'number' && Number.isFinite(n));
  const overhead = pick('overheadMs');
  const sandbox = pick('sandboxOverheadMs');
  const aws = phase.ends.map((e) => (e.startWriteMs ?? 0) + (e.finishMs ?? 0));
  const own = phase.ends.map((e) => (e.overheadMs ?? NaN) - (e.startWriteMs ?? 0) - (e.finishMs ?? 0)).filter(Number.isFinite);
  const upload = pick('uploadMs');
  const warm = phase.ends.filter((e) => e.warmSandbox).length;
  const p99 = percentile(overhead, 99);
  return {
    p99,
    lines: [
      targeted
        ? `  overhead per task      p50 ${f(percentile(overhead, 50))} ms, p99 ${f(p99)} ms   target: p99 < 50 ms (excl. a large result's upload)  ${ok(p99 < 50)}`
        : `  overhead per task      p50 ${f(percentile(overhead, 50))} ms, p99 ${f(p99)} ms   (all slots busy, CPU saturated: mostly waiting for CPU, ~ slots / throughput)`,
      `    of it, the sandbox   p50 ${f(percentile(sandbox, 50))} ms, p99 ${f(percentile(sandbox, 99))} ms   (hand-over -> process gone, minus the script; a fresh process per task, ${warm}/${phase.ends.length} warm spares)`,
      `    DynamoDB round trips p50 ${f(percentile(aws, 50))} ms, p99 ${f(percentile(aws, 99))} ms   (the start write + core's finish path: the terminal write, and the follow-up writes when there is follow-up work)`,
      `    the runner's own     p50 ${f(percentile(own, 50))} ms, p99 ${f(percentile(own, 99))} ms   (overhead minus those round trips: sandbox, log file, bookkeeping)`,
      `  S3 log upload          p50 ${f(percentile(upload, 50))} ms, p99 ${f(percentile(upload, 99))} ms   (excluded above)`,
    ],
  };
}

/**
 * The emulator's own time for the two writes every task needs (the start write and the terminal
 * write, through the same store calls), one task at a time: the floor under the runner's overhead.
 */
async function writeFloor(env: TestEnvironment, count: number): Promise<number[]> {
  const { store } = env.services;
  const snapshot = repoCatalogue.get('noop').snapshot;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const now = Date.now();
    const task = newTask(snapshot, { args: null, dueAt: now }, now);
    await store.create(task);
    const claim = await store.claim({ id: task.id, at: task.dueAt, sk: schedSk(task.dueAt, task.priority, task.id), token: task.token, job: task.job, slots: task.slots, slotClass: task.slotClass }, now, 600_000);
    if (!claim) throw new Error(`write floor: could not claim ${task.id}`);
    const started = performance.now();
    const running = await store.start(task.id, claim.token, 'floor', Date.now(), 30_000);
    await writeTerminal(env.services, { task: running, outcome: { status: 'completed' } }, Date.now(), { settled: true });
    times.push(performance.now() - started);
  }
  return times;
}

/**
 * The raw cost of a fresh Node process on this machine: `node -e 0` spawned `count` times,
 * `concurrency` at once, in the environment a sandbox starts with (sandboxEnvironment: this
 * machine's NODE_EXTRA_CA_CERTS, for one, triples a Node start and never reaches a sandbox).
 */
async function rawSpawnRate(count: number, concurrency: number): Promise<{ perSecond: number; cpuMsEach: number }> {
  const env = sandboxEnvironment(process.env);
  let next = 0;
  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  const childCpu: number[] = [];
  const worker = async () => {
    while (next < count) {
      next++;
      await new Promise<void>((resolve) => {
        const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore', env });
        c.once('exit', () => resolve());
        c.once('error', () => resolve());
      });
    }
  };
  const before = cpuSecondsOf(process.pid);
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  // This process's own CPU is not the children's: take only what the reaped children used.
  const own = process.cpuUsage(cpuBefore);
  childCpu.push(cpuSecondsOf(process.pid) - before - (own.user + own.system) / 1e6);
  return { perSecond: count / seconds, cpuMsEach: ((childCpu[0] ?? Number.NaN) * 1000) / count };
}

/** The no-op throughput with 8 slots that issue 14 measured on the day it was filed (two runs). */
const ISSUE_TASKS_PER_SECOND = { low: 10.7, high: 17.3 };

export interface RunnerFigures {
  readonly overheadMs: { p50: number; p99: number };
  readonly tasksPerSecond: number;
  /** BENCH_RUNNER_BASELINE: the same load through an earlier commit's runner, in the same run. */
  readonly vsBaseline?: { readonly commit: string; readonly baselineTasksPerSecond: number; readonly ratio: number };
  readonly rssMB: { steady: number; peak: number };
  readonly pssMB: { steady: number; peak: number };
  /** Overhead minus the two DynamoDB writes, and the emulator's time for those writes alone. */
  readonly ownOverheadMs: { p50: number; p99: number };
  readonly writeFloorMs: { p50: number; p99: number };
  readonly cpuSecondsPerTask: number;
  /** CPU ms per task of the runner, its sandboxes and the local AWS (which shares the cores here). */
  readonly cpuMsPerTask: { runner: number; sandboxes: number; emulator: number };
  /** Cores / all of that: the most tasks per second this machine's CPU allows. */
  readonly cpuCeilingTasksPerSecond: number;
  readonly rssGbSecondsPerTask: number;
  readonly rawNodeSpawnsPerSecond: number;
  readonly throughputVsRawSpawn: number;
  readonly sqsCallsPerTask: number;
  readonly callsPerTask: Record<string, number>;
}

export async function benchRunner(): Promise<RunnerFigures> {
  const tasks = intEnv('BENCH_RUNNER_TASKS', 2000);
  const sequential = intEnv('BENCH_RUNNER_LATENCY_TASKS', 200);
  const slots = intEnv('BENCH_RUNNER_SLOTS', 8);
  const spares = process.env.BENCH_RUNNER_SPARES;
  const built = join(REPO, 'dist', 'runner', 'main.js');
  const fromSource = process.env.BENCH_RUNNER_FROM_SOURCE === '1' || !existsSync(built);
  if (!fromSource && !existsSync(join(REPO, 'dist', 'jobs', 'catalogue.js'))) throw new Error('dist/jobs/catalogue.js is missing: run `npm run build` first');
  const mode = fromSource ? 'from source: node --import tsx runner/main.ts' : 'built JS: node dist/runner/main.js';
  const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const common = { slots, fromSource, ...(spares ? { spares } : {}) };
  const figures: Partial<{ -readonly [K in keyof RunnerFigures]: RunnerFigures[K] }> = {};
  console.log(`\n== runner bench (${mode}; ${slots} slots; ${spares ?? 'default (1)'} warm spare(s); ${cpus().length} CPUs shared with LocalStack; load average ${loadAvg()}) ==`);

  // 1. Latency: one task at a time on an otherwise idle runner (a warm spare waiting).
  console.log(`\n-- ${sequential} no-op tasks one at a time (the runner's own overhead, uncontended by its other tasks)`);
  const latencyEnv = await createTestEnvironment('bench-runner-latency');
  try {
    // A freshly started emulator (DynamoDB Local is a JVM) answers several times slower in its first
    // minutes; the floor is measured on the warm one after the phase, so the phase gets it warm too.
    await startQuiet();
    const warmUp = await writeFloor(latencyEnv, 200);
    console.log(`  emulator warm-up       ${warmUp.length} start + terminal writes, p50 ${f(percentile(warmUp, 50))} ms (not counted)`);
    const phase = await runPhase(latencyEnv, { ...common, tasks: sequential, feed: 'one-at-a-time' });
    const lines = overheadLines(phase, true);
    for (const line of lines.lines) console.log(line);
    const overhead = phase.ends.map((e) => e.overheadMs as number).filter((n) => typeof n === 'number');
    const own = phase.ends.map((e) => (e.overheadMs ?? NaN) - (e.startWriteMs ?? 0) - (e.finishMs ?? 0)).filter(Number.isFinite);
    const floorMs = await writeFloor(latencyEnv, Math.min(100, sequential));
    console.log(`  the emulator's floor   p50 ${f(percentile(floorMs, 50))} ms, p99 ${f(percentile(floorMs, 99))} ms   (the same two writes from a bare client, one task at a time: no runner can go below it here)`);
    figures.overheadMs = { p50: percentile(overhead, 50), p99: lines.p99 };
    figures.ownOverheadMs = { p50: percentile(own, 50), p99: percentile(own, 99) };
    figures.writeFloorMs = { p50: percentile(floorMs, 50), p99: percentile(floorMs, 99) };
  } finally {
    await latencyEnv.cleanup();
  }

  // 2. Throughput and memory: the queue preloaded, every slot busy.
  console.log(`\n-- ${tasks} no-op tasks preloaded, ${slots} slots busy (throughput, memory, overhead under load)`);
  const env = await createTestEnvironment('bench-runner');
  try {
    await startQuiet();
    const producerCalls = countCalls(env.clients);
    const loadStarted = Date.now();
    await preload(env, repoCatalogue, 'noop', tasks);
    const producer = producerCalls.snapshot();
    console.log(`  preloaded the claimed tasks and their messages in ${f((Date.now() - loadStarted) / 1000)} s (the ticker's part, not measured); load average ${loadAvg()}`);
    const phase = await runPhase(env, { ...common, tasks, feed: 'preloaded' });
    const { ends, samples } = phase;
    const completed = ends.filter((e) => e.outcome === 'completed').length;
    // Steady state: samples between 25% and 35% of the run (after warm-up: JIT, lazily loaded SDK code, heap sizing); the end: the last 5%.
    const window = (from: number, to: number) => samples.filter((x) => x.done >= from * tasks && x.done <= to * tasks);
    const steady = window(0.25, 0.35);
    const end = window(0.95, 1);
    const steadyTree = avg(steady.map((x) => x.tree));
    const endTree = avg(end.map((x) => x.tree));
    const steadySelf = avg(steady.map((x) => x.self));
    const endSelf = avg(end.map((x) => x.self));
    const growth = ((endTree - steadyTree) / steadyTree) * 100;
    const growthSelf = ((endSelf - steadySelf) / steadySelf) * 100;
    const budgetMB = 200 + 60 * slots;
    const steadyPss = avg(steady.map((x) => x.pssTree));
    console.log(`  completed              ${completed}/${ends.length}; load average after ${loadAvg()}`);
    const tps = (ends.length - 1) / phase.fromFirstEndS;
    console.log(`  throughput             ${f(ends.length / phase.wallS)} tasks/s over ${f(phase.wallS)} s incl. start-up; ${f(tps)} tasks/s from the first task's end`);
    const raw = await rawSpawnRate(Math.min(400, tasks), slots);
    console.log(`  raw fresh Node         ${f(raw.perSecond)} x \`node -e 0\`/s, ${slots} at once (${f(raw.cpuMsEach)} ms CPU each): the runner does ${f((tps / raw.perSecond) * 100)} % of that rate with a full task per process`);
    const cpuPerTask = phase.cpuSeconds / Math.max(1, ends.length - 1);
    const rssGbSPerTask = phase.rssGbSeconds / Math.max(1, ends.length - 1);
    console.log(`  compute per task       ${f(cpuPerTask * 1000)} ms CPU (runner + sandboxes), ${f(rssGbSPerTask * 1000, 3)} GB-ms of RSS`);
    const perTaskMs = (seconds: number) => (seconds * 1000) / Math.max(1, ends.length - 1);
    const split = { runner: perTaskMs(phase.cpuSplit.runner), sandboxes: perTaskMs(phase.cpuSplit.sandboxes), emulator: perTaskMs(phase.cpuSplit.emulator) };
    const allIn = split.runner + split.sandboxes + split.emulator;
    const cores = cpus().length;
    const ceiling = (cores * 1000) / allIn;
    console.log(`  CPU per task, apart    runner ${f(split.runner)} + sandboxes ${f(split.sandboxes)} + the local AWS ${f(split.emulator)} = ${f(allIn)} ms: ${cores} cores allow at most ${f(ceiling)} tasks/s here (measured ${f(tps)}, ${f((tps / ceiling) * 100, 0)} % of it)`);
    // What a doubling would take on this machine, next to what cannot be cut: a bare Node start and the emulator's share.
    console.log(`  twice ${f(ISSUE_TASKS_PER_SECOND.low)}-${f(ISSUE_TASKS_PER_SECOND.high)} tasks/s (the issue's day) needs ${f((cores * 1000) / (2 * ISSUE_TASKS_PER_SECOND.high), 0)}-${f((cores * 1000) / (2 * ISSUE_TASKS_PER_SECOND.low), 0)} ms of CPU per task all in; a bare \`node -e 0\` takes ${f(raw.cpuMsEach)} and the local AWS ${f(split.emulator)} of it`);
    figures.cpuMsPerTask = split;
    figures.cpuCeilingTasksPerSecond = ceiling;
    figures.tasksPerSecond = tps;
    figures.cpuSecondsPerTask = cpuPerTask;
    figures.rssGbSecondsPerTask = rssGbSPerTask;
    figures.rawNodeSpawnsPerSecond = raw.perSecond;
    figures.throughputVsRawSpawn = tps / raw.perSecond;
    figures.rssMB = { steady: steadyTree / MB, peak: phase.peakTree / MB };
    figures.pssMB = { steady: steadyPss / MB, peak: phase.peakPssTree / MB };
    for (const line of overheadLines(phase, false).lines) console.log(line);
    console.log(`  RSS runner+sandboxes   steady ${f(steadyTree / MB, 0)} MB, end ${f(endTree / MB, 0)} MB, peak ${f(phase.peakTree / MB, 0)} MB   (shared pages counted once per process)   budget: < ${budgetMB} MB (200 + 60 x ${slots})  ${ok(phase.peakTree / MB < budgetMB)}`);
    console.log(`  PSS runner+sandboxes   steady ${f(steadyPss / MB, 0)} MB, peak ${f(phase.peakPssTree / MB, 0)} MB   (shared pages split among their sharers: the memory held)   target: < 200 MB  ${ok(phase.peakPssTree / MB < 200)}`);
    console.log(`  growth steady -> end   ${f(growth)} % (runner+sandboxes), ${f(growthSelf)} % (runner alone: ${f(steadySelf / MB, 0)} -> ${f(endSelf / MB, 0)} MB)   target: < 10 %  ${ok(growth < 10)}`);
    console.log(`  producer calls/task    ${Object.entries(producer).map(([k, v]) => `${k} ${f(v / tasks, 2)}`).join(', ')}   (put + claim + batched send: the ticker's side)`);
  } finally {
    await env.cleanup();
  }

  // 2b. The same load through an earlier commit's runner, minutes apart on the same emulator (opt-in).
  const baselineCommit = process.env.BENCH_RUNNER_BASELINE;
  if (baselineCommit && figures.tasksPerSecond !== undefined) {
    console.log(`\n-- the same ${tasks} tasks through ${baselineCommit}'s runner (BENCH_RUNNER_BASELINE)`);
    await startQuiet();
    const base = await baselineThroughput(baselineCommit, tasks);
    const ratio = figures.tasksPerSecond / base.tasksPerSecond;
    console.log(`  throughput vs ${base.commit}   ${f(figures.tasksPerSecond)} against ${f(base.tasksPerSecond)} tasks/s: ${f(ratio, 2)} x   target: >= 2  ${ok(ratio >= 2)}`);
    figures.vsBaseline = { commit: base.commit, baselineTasksPerSecond: base.tasksPerSecond, ratio };
  }

  // 3. The AWS calls the runner itself makes per task.
  const countTasks = intEnv('BENCH_RUNNER_COUNT_TASKS', 100);
  const calls = await countRunnerCalls(countTasks, slots);
  console.log(`\n-- AWS calls by the runner per task: ${calls.total} (in-process run of ${countTasks} no-op tasks, ${slots} slots, 30 s lease)`);
  console.log(`  ${Object.entries(calls.perTask).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  figures.callsPerTask = calls.perTask;
  figures.sqsCallsPerTask = Object.entries(calls.perTask).reduce((a, [k, v]) => (k.startsWith('SQS.') ? a + v : a), 0);
  const result = figures as RunnerFigures;
  writeSection('runner', {
    overheadMs: { p50: round(result.overheadMs.p50, 1), p99: round(result.overheadMs.p99, 1) },
    tasksPerSecond: round(result.tasksPerSecond, 2),
    rssMB: { steady: round(result.rssMB.steady, 0), peak: round(result.rssMB.peak, 0) },
    pssMB: { steady: round(result.pssMB.steady, 0), peak: round(result.pssMB.peak, 0) },
    ownOverheadMs: { p50: round(result.ownOverheadMs.p50, 1), p99: round(result.ownOverheadMs.p99, 1) },
    writeFloorMs: { p50: round(result.writeFloorMs.p50, 1), p99: round(result.writeFloorMs.p99, 1) },
    cpuSecondsPerTask: round(result.cpuSecondsPerTask, 4),
    cpuMsPerTask: { runner: round(result.cpuMsPerTask.runner, 1), sandboxes: round(result.cpuMsPerTask.sandboxes, 1), emulator: round(result.cpuMsPerTask.emulator, 1) },
    cpuCeilingTasksPerSecond: round(result.cpuCeilingTasksPerSecond, 2),
    rssGbSecondsPerTask: round(result.rssGbSecondsPerTask, 6),
    rawNodeSpawnsPerSecond: round(result.rawNodeSpawnsPerSecond, 2),
    throughputVsRawSpawn: round(result.throughputVsRawSpawn, 3),
    sqsCallsPerTask: round(result.sqsCallsPerTask, 3),
    callsPerTask: result.callsPerTask,
    ...(result.vsBaseline ? { vsBaseline: { ...result.vsBaseline, ratio: round(result.vsBaseline.ratio, 3) } } : {}),
    slots,
    tasks,
  });
  return result;
}

if (require.main === module) {
  benchRunner().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
