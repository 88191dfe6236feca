import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Catalogue } from '../../../core/catalogue';
import { readTaskLog } from '../../../core/logs/read-log';
import { shardOf } from '../../../core/model/keys';
import { newTask, type NewTaskInput } from '../../../core/model/new-task';
import type { JobSnapshot, TaskRecord } from '../../../core/model/task';
import { createRunnerApp, type RunnerApp, type RunnerAppOptions } from '../../../runner/app';
import type { TaskSummary } from '../../../runner/execute';
import type { RunRequest } from '../../../runner/sandbox/protocol';
import { tsxExecArgv } from '../../../runner/sandbox/sandbox';
import type { TestEnvironment } from '../../support/resources';
import fixtures from '../../fixtures/jobs/catalogue';

export { fixtures };

/**
 * What the ticker does, in miniature: writes a task, claims it (pending -> queued, new token)
 * and sends the dispatch message. Returns the task as queued.
 */
export async function enqueue(env: TestEnvironment, job: string, args: unknown, input: Partial<NewTaskInput> = {}, catalogue: Catalogue = fixtures): Promise<TaskRecord> {
  return enqueueSnapshot(env, catalogue.get(job).snapshot, args, input);
}

/** Like `enqueue`, from job metadata directly (e.g. of a job the runner's catalogue does not have). */
export async function enqueueSnapshot(env: TestEnvironment, snapshot: JobSnapshot, args: unknown, input: Partial<NewTaskInput> = {}): Promise<TaskRecord> {
  const now = Date.now();
  const task = newTask(snapshot, { args, dueAt: now, ...input }, now);
  await env.services.store.create(task);
  return dispatch(env, task, now);
}

/** Claims a pending, due task and sends its message (the ticker's part). */
export async function dispatch(env: TestEnvironment, task: Pick<TaskRecord, 'id' | 'slotClass'>, now = Date.now()): Promise<TaskRecord> {
  const { store } = env.services;
  const entries = await store.queryDue(task.slotClass, shardOf(task.id, env.config.shards), now);
  const entry = entries.find((e) => e.id === task.id);
  if (!entry) throw new Error(`task ${task.id} is not due in ${task.slotClass}`);
  const claim = await store.claim(entry, now, env.config.dispatchWindowMs);
  if (!claim) throw new Error(`could not claim ${task.id}`);
  await sendMessage(env, task.slotClass, JSON.stringify({ v: 1, taskId: task.id, token: claim.token }));
  return store.mustGet(task.id);
}

export async function sendMessage(env: TestEnvironment, slotClass: string, body: string): Promise<void> {
  await env.clients.sqs.send(new SendMessageCommand({ QueueUrl: env.config.queueUrls[slotClass], MessageBody: body }));
}

/** Polls the task until `until` holds (default: a terminal status). */
export async function waitForTask(env: TestEnvironment, id: string, until: (t: TaskRecord) => boolean = (t) => ['completed', 'failed', 'cancelled'].includes(t.status), timeoutMs = 30_000): Promise<TaskRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: TaskRecord | undefined;
  while (Date.now() < deadline) {
    last = await env.services.store.get(id);
    if (last && until(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`task ${id} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
}

/** Terminal and follow-up done (the retry, if any, already written). */
export const settled = (t: TaskRecord): boolean => Boolean(t.effectsDone) || (t.status === 'pending' && t.attempt > 1);

export async function readObject(env: TestEnvironment, key: string): Promise<string> {
  const res = await env.clients.s3.send(new GetObjectCommand({ Bucket: env.config.bucket, Key: key }));
  return res.Body!.transformToString();
}

/**
 * A task's log text as readers get it (core/logs/read-log.ts: a ranged GET of its batch slice, or
 * its own object), waiting while its upload is still due. Throws if the log is lost or absent.
 */
export async function taskLogText(env: TestEnvironment, task: TaskRecord, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const read = await readTaskLog(env.clients.s3, env.config.bucket, task);
    if (read.state === 'available') return read.text;
    if (read.state !== 'pending' || Date.now() >= deadline) throw new Error(`the log of ${task.id} is ${read.state}: ${read.message}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface TestRunner {
  readonly app: RunnerApp;
  readonly summaries: TaskSummary[];
  /** The runner's own log lines, parsed. */
  readonly lines: Record<string, unknown>[];
  readonly workDir: string;
  summaryOf(taskId: string, timeoutMs?: number): Promise<TaskSummary>;
  stop(): Promise<void>;
}

/**
 * The runners' lease in tests. A runner stops a script whose lease it cannot prove within
 * lease − margin (self-fencing), and on a loaded 2-core machine the emulator can take more than a
 * second to answer a heartbeat: the test environment's 1.5 s lease would fence healthy runners.
 */
export const RUNNER_TEST_LEASE_MS = 4500;

/** Runner settings for tests: short waits everywhere. */
export function testRunnerEnv(env: TestEnvironment, overrides: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    ...process.env,
    JOBFLEET_TABLE: env.config.tableName,
    JOBFLEET_BUCKET: env.config.bucket,
    JOBFLEET_QUEUES: JSON.stringify(env.config.queueUrls),
    JOBFLEET_SHARDS: String(env.config.shards),
    JOBFLEET_LEASE_MS: String(Math.max(env.config.leaseMs, RUNNER_TEST_LEASE_MS)),
    JOBFLEET_GRACE_MS: String(env.config.graceMs),
    JOBFLEET_DISPATCH_WINDOW_MS: String(env.config.dispatchWindowMs),
    RUNNER_CLASS: 'small',
    RUNNER_WAIT_TIME_SECONDS: '1',
    RUNNER_CANCEL_GRACE_MS: '1000',
    RUNNER_TIMEOUT_GRACE_MS: '200',
    RUNNER_STOP_TIMEOUT_MS: '3000',
    RUNNER_PROGRESS_INTERVAL_MS: '200',
    RUNNER_PROTECTION_RELEASE_DELAY_MS: '100',
    RUNNER_LOG_BATCH_DELAY_MS: '200',
    // Below the 1 s visibility timeout some tests give their queue.
    RUNNER_DELETE_LINGER_MS: '200',
    ...overrides,
  };
}

/** An in-process runner on the test environment, running the fixture catalogue in real child processes. */
export async function startRunner(env: TestEnvironment, overrides: Record<string, string> = {}, options: Partial<RunnerAppOptions> = {}): Promise<TestRunner> {
  const summaries: TaskSummary[] = [];
  const lines: Record<string, unknown>[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'jobfleet-runner-test-'));
  const logger = pino({ level: 'debug', base: { service: 'jobfleet-runner', runnerId: overrides.RUNNER_ID ?? 'test-runner' } }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const waiters = new Map<string, (s: TaskSummary) => void>();
  const app = await createRunnerApp({
    env: testRunnerEnv(env, { RUNNER_ID: 'test-runner', RUNNER_WORK_DIR: workDir, ...overrides }),
    // The runner's lease comes from its services' config: the same test lease as the env's variables.
    services: { ...env.services, config: { ...env.services.config, leaseMs: Math.max(env.config.leaseMs, RUNNER_TEST_LEASE_MS) } },
    catalogue: fixtures,
    logger,
    onTaskEnd: (s) => {
      summaries.push(s);
      waiters.get(s.taskId)?.(s);
    },
    ...options,
  });
  app.runner.start();
  return {
    app,
    summaries,
    lines,
    workDir,
    summaryOf(taskId, timeoutMs = 30_000) {
      const found = summaries.find((s) => s.taskId === taskId);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no summary for ${taskId} within ${timeoutMs} ms`)), timeoutMs);
        waiters.set(taskId, (s) => {
          clearTimeout(timer);
          resolve(s);
        });
      });
    },
    stop: () => app.runner.stop(),
  };
}

/** True while a process with this pid exists and is not a zombie waiting to be reaped. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The pid a fixture reported as its first progress message ("pid 1234 ..."). */
export const pidOf = (t: TaskRecord): number | undefined => {
  const m = /pid (\d+)/.exec(t.progress?.message ?? '');
  return m ? Number(m[1]) : undefined;
};

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const FIXTURE_CATALOGUE = join(REPO_ROOT, 'test', 'fixtures', 'jobs', 'catalogue.ts');

/** What the runner asks a sandbox to run for the fixture job `test/fixtures/jobs/<job>.ts`, working in `dir`. */
export function fixtureRunRequest(job: string, args: unknown, dir: string): RunRequest {
  return {
    type: 'run',
    modulePath: join(REPO_ROOT, 'test', 'fixtures', 'jobs', `${job}.ts`),
    args,
    task: { taskId: `t-${job}`, job, attempt: 1, token: 'x', scheduledAt: 0 },
    tmpDir: dir,
    resultFile: join(dir, 'result.json'),
    env: {},
    inlineResultBytes: 10_000,
    logLevel: 'info',
    logCapBytes: 100_000,
  };
}

export interface RunnerProcess {
  readonly child: ChildProcess;
  /** The runner's log lines (JSON), as printed on its stdout. */
  readonly lines: Record<string, unknown>[];
  readonly stderr: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The runner as a real process: `node --import tsx runner/main.ts`, which is what `tsx
 * runner/main.ts` runs, minus tsx's wrapper process (so a signal reaches the runner itself).
 */
export function spawnRunner(env: TestEnvironment, overrides: Record<string, string> = {}): RunnerProcess {
  const workDir = mkdtempSync(join(tmpdir(), 'jobfleet-runner-proc-'));
  const child = spawn(process.execPath, [...tsxExecArgv(), join(REPO_ROOT, 'runner', 'main.ts')], {
    cwd: REPO_ROOT,
    env: testRunnerEnv(env, { JOBFLEET_CATALOGUE: FIXTURE_CATALOGUE, RUNNER_WORK_DIR: workDir, RUNNER_LOG_LEVEL: 'debug', ...overrides }) as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, lines, stderr, exited };
}
