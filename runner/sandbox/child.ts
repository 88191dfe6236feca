/**
 * The sandbox's entry: one child process runs exactly one task, then exits.
 *
 * Why a child process per task, not a worker thread or the runner itself:
 * - isolation: a script's globals, leaked timers, native crashes and memory stay in its own
 *   process and vanish with it; the runner never imports job code;
 * - the job contract's exit semantics (`process.exit(100)` = cancelled, any exit code) need a
 *   process of their own: in a worker, `process.exit` would end the worker only;
 * - timeouts and cancels can kill the whole process tree: the runner forks this process
 *   detached (a new process group) and kills the group, including anything the script spawned.
 *
 * This file loads only Node built-ins (pino when the script first uses `ctx.logger`), so a
 * fresh sandbox is ready in tens of milliseconds and costs little more CPU than a bare Node start.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { JobContext } from '../../core/job-contract';
import { preciseNow, SANDBOX_LOGGER_BUNDLE, type AbortReason, type ChildMessage, type ParentMessage, type ResultPayload, type RunRequest } from './protocol';

/**
 * Blocking writes to the runner's pipes, so nothing printed is lost when the script (or this
 * file) calls process.exit. Node writes to a non-blocking pipe asynchronously, and an exit drops
 * what is still queued; started through setpriv, the pipes arrive non-blocking.
 *
 * Node creates process.stdout and process.stderr on first use, and each costs a fresh process
 * about 2 ms of CPU; a script that prints nothing need not pay for them. So each is made blocking
 * when it is first created (its getter wrapped), not created here.
 */
function blockingOnFirstUse(name: 'stdout' | 'stderr'): void {
  const setBlocking = (stream: NodeJS.WriteStream) => (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })._handle?.setBlocking?.(true);
  const descriptor = Object.getOwnPropertyDescriptor(process, name);
  const create = descriptor?.get;
  if (!descriptor || !create || !descriptor.configurable) {
    setBlocking(process[name]);
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: descriptor.enumerable ?? true,
    get(): NodeJS.WriteStream {
      const stream = create.call(process) as NodeJS.WriteStream;
      setBlocking(stream);
      Object.defineProperty(process, name, { configurable: true, enumerable: descriptor.enumerable ?? true, get: create });
      return stream;
    },
  });
}
blockingOnFirstUse('stdout');
blockingOnFirstUse('stderr');

const controller = new AbortController();
let stage: 'idle' | 'load' | 'run' | 'ending' = 'idle';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Kills this process and everything it spawned (it leads its own process group). */
function killTree(): never {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    // not a group leader (should not happen): at least this process goes
  }
  process.exit(1);
}

// The runner died or dropped us: nobody will record this task's outcome, so stop at once.
process.on('disconnect', killTree);

/**
 * 'disconnect' needs this event loop to turn; a script stuck in synchronous work would outlive a
 * SIGKILLed runner and could overlap the retry elsewhere. The runner normally starts sandboxes
 * through `setpriv --pdeathsig KILL`, so the kernel kills them; where setpriv is missing it passes
 * `--watchdog`, and a tiny thread notices the re-parenting and kills the tree instead.
 */
function startOrphanWatchdog(): void {
  const code = `
    const { workerData } = require('node:worker_threads');
    setInterval(() => {
      if (process.ppid !== workerData.parent) {
        try { process.kill(-workerData.group, 'SIGKILL'); } catch { process.kill(workerData.group, 'SIGKILL'); }
      }
    }, workerData.everyMs);`;
  // Loaded only here: a sandbox started through setpriv (the usual case) never pays for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  new Worker(code, { eval: true, workerData: { parent: process.ppid, group: process.pid, everyMs: 500 } }).unref();
}

const abortError = (reason: AbortReason): Error => {
  const messages: Record<AbortReason, [string, string]> = {
    cancel: ['AbortError', 'the task was cancelled'],
    timeout: ['TimeoutError', 'the task ran past its max execution time'],
    shutdown: ['AbortError', 'the runner is shutting down'],
  };
  const [name, message] = messages[reason];
  const err = new Error(message);
  err.name = name;
  return err;
};

/**
 * The lease deadline (DESIGN invariant 6). The runner stops a script whose lease it cannot prove;
 * a frozen runner (SIGSTOP, a paused host process) cannot, so the runner tells this process its
 * deadline after every renewal, as a remaining duration (this process's monotonic timer: no clock
 * skew). When it passes without an extension the sandbox ends itself: one distinct line in the
 * task's log, a `deadline-passed` message the runner reads when it wakes, then the whole tree.
 */
let deadline: NodeJS.Timeout | undefined;
let deadlinesSeen = 0;
let deadlineWatchdog: Worker | undefined;
const monotonicMs = (): number => Number(process.hrtime.bigint() / 1_000_000n);
const DEADLINE_LINE = 'lease deadline passed without renewal: the sandbox ends itself, before the reaper can start a retry';

/**
 * The timer below needs this event loop; a script blocking it (synchronous work) while its runner
 * is frozen would outlive the lease. So from the first renewal on (short tasks never pay for the
 * thread) a tiny thread holds the latest deadline too. It cannot receive extensions while the
 * script blocks, so it acts only when the runner cannot: the runner is stopped (SIGSTOP) or gone.
 * A runner that runs stops a blocked script itself (SIGKILL) when it cannot prove the lease.
 */
function startDeadlineWatchdog(): Worker {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { existsSync, readFileSync, writeSync } = require('node:fs');
    let deadlineAt = Infinity;
    parentPort.on('message', (m) => { deadlineAt = m.deadlineAt; });
    const nowMs = () => Number(process.hrtime.bigint() / 1000000n);
    const procfs = existsSync('/proc/self/stat');
    const runnerCannotAct = () => {
      if (process.ppid !== workerData.parent) return true;
      if (!procfs) return false;
      try {
        const stat = readFileSync('/proc/' + workerData.parent + '/stat', 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        return state === 'T' || state === 't';
      } catch {
        return true;
      }
    };
    setInterval(() => {
      if (nowMs() < deadlineAt || !runnerCannotAct()) return;
      try { writeSync(1, workerData.line); } catch {}
      try { process.kill(-workerData.group, 'SIGKILL'); } catch { process.kill(workerData.group, 'SIGKILL'); }
    }, 50);`;
  const line = `${JSON.stringify({ level: 50, time: Date.now(), msg: DEADLINE_LINE, deadlinePassed: true, blocked: true })}\n`;
  // Loaded only when needed: most sandboxes never start a thread.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load: most sandboxes never start a thread
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const worker = new threads.Worker(code, { eval: true, workerData: { parent: process.ppid, group: process.pid, line } });
  worker.unref();
  return worker;
}

function setDeadline(remainingMs: number): void {
  if (deadline) clearTimeout(deadline);
  deadlinesSeen++;
  if (deadlinesSeen > 1) deadlineWatchdog ??= startDeadlineWatchdog();
  deadlineWatchdog?.postMessage({ deadlineAt: monotonicMs() + Math.max(0, remainingMs) });
  deadline = setTimeout(() => {
    const line = { level: 50, time: Date.now(), msg: DEADLINE_LINE, deadlinePassed: true };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    void send({ type: 'deadline-passed', at: preciseNow() }).finally(killTree);
    // The channel may be full or gone: do not wait for it longer than a moment.
    setTimeout(killTree, 100).unref();
  }, Math.max(0, remainingMs));
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'deadline') {
    setDeadline(message.remainingMs);
  } else if (message.type === 'run') {
    if (stage !== 'idle') return;
    void run(message);
  } else if (message.type === 'abort' && !controller.signal.aborted) {
    controller.abort(abortError(message.reason));
  }
});

process.on('uncaughtException', (err) => void fail(err));
process.on('unhandledRejection', (reason) => void fail(reason));

let ended = false;

async function fail(thrown: unknown): Promise<void> {
  if (ended) return;
  ended = true;
  const err = thrown instanceof Error ? thrown : new Error(typeof thrown === 'string' ? thrown : safeJson(thrown));
  const signal = controller.signal;
  const aborted = signal.aborted && (thrown === signal.reason || err.name === 'AbortError' || err.name === 'TimeoutError');
  await send({ type: 'failed', at: preciseNow(), stage: stage === 'load' ? 'load' : 'run', message: err.message || err.name, stack: err.stack, aborted });
  process.exit(1);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

type Handler = (args: unknown, ctx: JobContext) => unknown;
type Module = { default?: unknown; nextRun?: unknown } & Record<string, unknown>;

/** Picks a function off a module however it was compiled (CJS `module.exports =`, ESM default, CJS-in-ESM double default). */
function exported(mod: unknown, name: 'default' | 'nextRun'): ((...a: never[]) => unknown) | undefined {
  const candidates = name === 'default' ? [mod, (mod as Module)?.default, ((mod as Module)?.default as Module)?.default] : [(mod as Module)?.nextRun, ((mod as Module)?.default as Module)?.nextRun];
  return candidates.find((c): c is (...a: never[]) => unknown => typeof c === 'function');
}

async function loadModule(modulePath: string): Promise<unknown> {
  const ext = extname(modulePath);
  if (ext === '.mjs' || ext === '.mts') {
    // A real dynamic import (tsc would turn `import()` into `require` in this CommonJS build).
    const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;
    return dynamicImport(pathToFileURL(modulePath).href);
  }
  // CommonJS load (tsx hooks it for TypeScript jobs run from source).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(modulePath);
}

/**
 * pino, loaded on the script's first use of `ctx.logger`. A spare does not load it ahead: every
 * spare that idles would burn ~40 ms of CPU on it, for tasks that may never log. The build
 * bundles pino into one file next to this one (SANDBOX_LOGGER_BUNDLE, runner/build/bundle-sandbox-logger.ts):
 * Node reads and compiles one file instead of some forty, and the load costs about a third.
 */
function loadPino(): typeof import('pino') {
  const bundle = join(__dirname, SANDBOX_LOGGER_BUNDLE);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (existsSync(bundle) ? require(bundle) : require('pino')) as typeof import('pino');
}

function createLogger(req: RunRequest): Logger {
  const pino = loadPino();
  let bytes = 0;
  const destination = {
    write(line: string): void {
      // Past the cap the runner drops everything anyway; stop paying for the pipe.
      if (bytes > req.logCapBytes) return;
      bytes += Buffer.byteLength(line);
      process.stdout.write(line);
    },
  };
  return pino.default({ level: req.logLevel, base: { taskId: req.task.taskId, job: req.task.job, attempt: req.task.attempt } }, destination);
}

function contextOf(req: RunRequest): JobContext {
  let logger: Logger | undefined;
  let lastSent = 0;
  let pending: { percent: number; message?: string } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (!pending) return;
    lastSent = Date.now();
    void send({ type: 'progress', ...pending });
    pending = undefined;
  };
  const { task } = req;
  return {
    taskId: task.taskId,
    job: task.job,
    attempt: task.attempt,
    token: task.token,
    scheduledAt: new Date(task.scheduledAt),
    ...(task.lastCompletedAt !== undefined ? { lastCompletedAt: new Date(task.lastCompletedAt) } : {}),
    get logger(): Logger {
      logger ??= createLogger(req);
      return logger;
    },
    progress(percent: number, message?: string): void {
      if (typeof percent !== 'number' || Number.isNaN(percent)) return;
      pending = { percent: Math.min(100, Math.max(0, percent)), ...(message !== undefined ? { message: String(message).slice(0, 500) } : {}) };
      // At most ten a second over IPC; the runner persists at most one a second anyway.
      if (Date.now() - lastSent >= 100) flush();
      else timer ??= setTimeout(flush, 100 - (Date.now() - lastSent));
    },
    signal: controller.signal,
    tmpDir: req.tmpDir,
  };
}

function resultPayload(req: RunRequest, value: unknown): { result?: ResultPayload; resultError?: string } {
  if (value === undefined) return {};
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return { resultError: `the result is not JSON-serialisable: ${(err as Error).message}` };
  }
  if (json === undefined) return { resultError: `the result (a ${typeof value}) is not JSON-serialisable` };
  const bytes = Buffer.byteLength(json);
  if (bytes <= req.inlineResultBytes) return { result: { kind: 'inline', json } };
  writeFileSync(req.resultFile, json);
  return { result: { kind: 'file', path: req.resultFile, bytes } };
}

async function run(req: RunRequest): Promise<void> {
  stage = 'load';
  // This task's own values (HOME, TMPDIR, its job role's credentials): a spare was forked before
  // its task was known, so they arrive with the task, before the job module is loaded.
  Object.assign(process.env, req.env ?? {});
  const ctx = contextOf(req);
  let handler: Handler;
  let mod: unknown;
  try {
    mod = await loadModule(req.modulePath);
    const found = exported(mod, 'default');
    if (!found) throw new Error(`the job module ${req.modulePath} has no default export function: export default async (args, ctx) => { ... }`);
    handler = found as unknown as Handler;
  } catch (err) {
    return fail(err);
  }
  stage = 'run';
  const nextRun = exported(mod, 'nextRun');
  if (req.task.occurrenceAt !== undefined && nextRun) {
    try {
      const next = (nextRun as unknown as (d: Date) => unknown)(new Date(req.task.occurrenceAt));
      if (next !== undefined && !(next instanceof Date && !Number.isNaN(next.getTime()))) throw new Error(`nextRun returned ${safeJson(next)}, not a Date or undefined`);
      await send({ type: 'next-run', ...(next ? { at: next.getTime() } : {}) });
    } catch (err) {
      await send({ type: 'next-run', error: (err as Error).message });
    }
  }
  await send({ type: 'started', at: preciseNow() });
  let value: unknown;
  try {
    value = await handler(req.args, ctx);
  } catch (err) {
    return fail(err);
  }
  if (ended) return;
  ended = true;
  stage = 'ending';
  const at = preciseNow();
  let payload: { result?: ResultPayload; resultError?: string };
  try {
    payload = resultPayload(req, value);
  } catch (err) {
    payload = { resultError: `the result could not be stored: ${(err as Error).message}` };
  }
  await send({ type: 'done', at, ...payload });
  process.exit(0);
}

if (process.argv.includes('--watchdog')) startOrphanWatchdog();
void send({ type: 'ready' });
