import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { systemClock, type Clock, type Timer } from '../../core/clock';
import type { CredentialsEndpoint } from '../credentials-endpoint';
import type { JobCredentialSource, TaskIdentity } from '../job-credentials';
import { sandboxEnvironment, taskEnvironment } from './environment';
import type { IdentityPool, SandboxIdentity } from './identity';
import type { RunHandlers, SandboxReport, SandboxSource, TaskSandbox } from './port';
import type { AbortReason, ChildMessage, RunRequest } from './protocol';
import { sparesFor } from './spares';
import { prepareSandboxDir } from './workspace';

/** How the runner forks sandboxes: which entry, with which Node flags. */
export interface SandboxSpec {
  readonly entry: string;
  readonly execArgv: readonly string[];
  /** The sandbox's starting environment. @default the allowlist of the runner's (sandboxEnvironment) */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Unprivileged uids, one per live sandbox (needs root). @default none: sandboxes run under the runner's uid */
  readonly identities?: IdentityPool;
  /** Job roles' short-lived credentials, per task. @default none: job code gets no AWS credentials */
  readonly credentials?: JobCredentialSource;
  /** Serves those credentials over loopback, renewed before they expire. @default none: they go in the environment, valid for one session */
  readonly credentialsEndpoint?: CredentialsEndpoint;
  /**
   * `setpriv` (util-linux) to start sandboxes with a parent-death signal: the kernel SIGKILLs a
   * sandbox the moment its runner dies, even one stuck in synchronous code. Without it, the
   * sandbox runs a small watchdog thread instead. @default found on PATH (Linux)
   */
  readonly setpriv?: string | null;
}

/** `setpriv` on PATH, if any (util-linux: present on Debian and its slim Node images). */
export function findSetpriv(path = process.env.PATH ?? ''): string | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'setpriv');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

let setprivOnPath: string | undefined | null = null;

export type { RunHandlers, SandboxReport, SandboxSource, TaskSandbox } from './port';

/** The child entry next to this file: `.ts` from source (run through tsx), `.js` once built. */
export function defaultChildEntry(): string {
  const ts = join(__dirname, 'child.ts');
  return __filename.endsWith('.ts') && existsSync(ts) ? ts : join(__dirname, 'child.js');
}

/** `--import <tsx loader>` when TypeScript has to run from source, resolved absolutely (the child's cwd does not matter). */
export function tsxExecArgv(): string[] {
  const loader = require.resolve('tsx');
  return ['--import', pathToFileURL(loader).href];
}

/**
 * One sandbox: a Node child process (with an IPC channel) for exactly one task. It is started
 * detached, so it leads its own process group and `kill()` takes the whole tree down
 * (`process.kill(-pid)`), scripts' own children included. It may be started ahead of time (a warm
 * spare) but runs one task only.
 */
export class Sandbox implements TaskSandbox {
  readonly process: ChildProcess;
  readonly forkedAt = Date.now();
  private readyAt?: number;
  private report?: SandboxReport;
  private readonly ended: Promise<SandboxReport>;
  private handlers: RunHandlers = {};
  private startedAt?: number;
  private done?: Extract<ChildMessage, { type: 'done' }>;
  private failed?: Extract<ChildMessage, { type: 'failed' }>;
  private nextRun?: Extract<ChildMessage, { type: 'next-run' }>;
  private deadlinePassed?: Extract<ChildMessage, { type: 'deadline-passed' }>;
  private used = false;
  private readonly readyWaiters: ((ms: number) => void)[] = [];
  /** The sandbox's own uid and gid, when the runner switches uids. */
  readonly identity?: SandboxIdentity;

  constructor(private readonly spec: SandboxSpec) {
    const identities = spec.identities;
    if (identities) this.identity = identities.acquire();
    if (setprivOnPath === null) setprivOnPath = findSetpriv();
    const setpriv = spec.setpriv === undefined ? setprivOnPath : (spec.setpriv ?? undefined);
    // This is child_process.fork() spelled out (fork = spawn of Node with an IPC channel), so that
    // the command can be setpriv exec'ing Node. The runner's own flags (--inspect, test runners'
    // hooks...) are never passed on: only execArgv.
    const node = [process.execPath, ...spec.execArgv, spec.entry];
    const [command, ...args] = setpriv ? [setpriv, '--pdeathsig', 'KILL', ...node] : [...node, '--watchdog'];
    this.process = spawn(command as string, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group (and session), so kill() reaches everything the script starts.
      detached: true,
      env: spec.env ?? sandboxEnvironment(process.env),
      // Not the runner's directory, which its own uid may not be allowed into.
      cwd: spec.cwd ?? (this.identity ? '/' : undefined),
      serialization: 'json',
      ...(this.identity ? { uid: this.identity.uid, gid: this.identity.gid } : {}),
    });
    this.ended = new Promise<SandboxReport>((resolve) => {
      let spawnError: Error | undefined;
      this.process.on('error', (err) => {
        spawnError = err;
        // An error before spawning means there will be no 'close'.
        if (this.process.pid === undefined) resolve(this.finish(null, null, err));
      });
      // 'close' (not 'exit'): all output and IPC messages have been read by then.
      this.process.on('close', (code, signal) => resolve(this.finish(code, signal, spawnError)));
    }).then((report) => {
      // Kills anything left under the uid (escaped the group), then lets another sandbox have it.
      if (this.identity && identities) identities.release(this.identity);
      return report;
    });
    this.process.on('exit', () => {
      // Anything the script left behind in its group goes too; that also closes their copies of the pipes.
      this.kill();
      this.closeIdlePipes();
    });
    // Flowing by default, so output nobody reads (a spare's warnings) cannot hold the process open.
    this.process.stdout?.resume();
    this.process.stderr?.resume();
    this.process.on('message', (message: ChildMessage) => this.onMessage(message));
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get stdout(): Readable {
    return this.process.stdout as Readable;
  }

  get stderr(): Readable {
    return this.process.stderr as Readable;
  }

  /** True while the process is up and has not been given a task. */
  get idle(): boolean {
    return !this.used && !this.report && this.process.exitCode === null && this.process.signalCode === null && this.process.connected;
  }

  get warm(): boolean {
    return this.readyAt !== undefined;
  }

  /** Resolves with fork -> ready in ms, or undefined if the process ended first. */
  whenReady(): Promise<number | undefined> {
    if (this.readyAt !== undefined) return Promise.resolve(this.readyAt - this.forkedAt);
    return new Promise((resolve) => {
      this.readyWaiters.push(resolve);
      void this.ended.then(() => resolve(undefined));
    });
  }

  /** Hands the task to the sandbox; resolves when its process has ended, however it ended. */
  run(request: RunRequest, handlers: RunHandlers = {}): Promise<SandboxReport> {
    if (this.used) throw new Error('a sandbox runs one task only');
    this.used = true;
    this.handlers = handlers;
    if (this.process.connected) this.process.send(request, (err) => err && this.kill());
    else this.kill();
    return this.ended;
  }

  /** Its private directory (owned by its uid) and the task's environment, with its job role's credentials if any. */
  async prepare(workspace: { readonly tmpDir: string; readonly resultFile: string }, task: TaskIdentity): Promise<Record<string, string>> {
    await prepareSandboxDir(workspace, this.identity);
    const source = this.spec.credentials;
    // A role that cannot be assumed fails the task here, before its script starts.
    const first = await source?.forTask(task);
    if (!first || !source || !this.spec.credentialsEndpoint) return taskEnvironment(workspace.tmpDir, first);
    const lease = await this.spec.credentialsEndpoint.open(first, async () => (await source.forTask(task)) ?? first);
    void this.ended.then(() => lease.release());
    return taskEnvironment(workspace.tmpDir, lease);
  }

  /** Fires the script's AbortSignal; the script may still end on its own. */
  abort(reason: AbortReason): void {
    if (this.process.connected) this.process.send({ type: 'abort', reason }, () => undefined);
  }

  /** The child arms its own timer: it ends itself then unless extended (see protocol.ts). */
  setDeadline(remainingMs: number): void {
    if (this.process.connected) this.process.send({ type: 'deadline', remainingMs: Math.max(0, remainingMs) }, () => undefined);
  }

  /** SIGKILL to the sandbox's whole process group. Safe to call at any time, any number of times. */
  kill(): void {
    const pid = this.process.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }

  /** Resolves once the process has ended. */
  whenEnded(): Promise<SandboxReport> {
    return this.ended;
  }

  /**
   * After the exit, the pipes close once their last output is read. A helper that escaped the
   * group (setsid) could hold them open for ever: once they have been idle (nothing arriving, not
   * paused for backpressure) for two seconds, stop waiting.
   */
  private closeIdlePipes(): void {
    const pipes = [this.process.stdout, this.process.stderr].filter((p): p is Readable => p !== null && !p.destroyed);
    let lastData = Date.now();
    const seen = () => (lastData = Date.now());
    for (const p of pipes) p.on('data', seen);
    const check = setInterval(() => {
      const open = pipes.filter((p) => !p.destroyed && !p.readableEnded);
      if (open.length === 0) return clearInterval(check);
      if (open.some((p) => p.isPaused()) || Date.now() - lastData < 2000) return;
      for (const p of open) p.destroy();
      clearInterval(check);
    }, 500);
    check.unref();
  }

  private onMessage(message: ChildMessage): void {
    switch (message.type) {
      case 'ready':
        this.readyAt = Date.now();
        for (const w of this.readyWaiters.splice(0)) w(this.readyAt - this.forkedAt);
        break;
      case 'started':
        this.startedAt = message.at;
        this.handlers.onStarted?.(message.at);
        break;
      case 'progress':
        this.handlers.onProgress?.(message.percent, message.message);
        break;
      case 'next-run':
        this.nextRun = message;
        break;
      case 'done':
        this.done = message;
        break;
      case 'failed':
        this.failed = message;
        break;
      case 'deadline-passed':
        this.deadlinePassed = message;
        break;
    }
  }

  private finish(exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error): SandboxReport {
    if (this.report) return this.report;
    this.kill();
    this.report = {
      exitCode,
      signal,
      exitedAt: Date.now(),
      ...(this.done ? { done: this.done } : {}),
      ...(this.failed ? { failed: this.failed } : {}),
      ...(this.startedAt !== undefined ? { startedAt: this.startedAt } : {}),
      ...(this.nextRun ? { nextRun: this.nextRun } : {}),
      ...(this.deadlinePassed ? { deadlinePassed: this.deadlinePassed } : {}),
      ...(spawnError ? { spawnError } : {}),
    };
    return this.report;
  }
}

/** Demand for spares is judged over this window. */
const DEMAND_WINDOW_MS = 5000;

/**
 * How long the replacement of a spare taken by a lone task may wait for that task to be recorded
 * before it boots anyway (a long task has left its start and finish writes far behind by then).
 */
export const REFILL_DEFER_MS = 1000;

/**
 * Hands out sandboxes, keeping `spares` of them forked and warm ahead of time, so a task does not
 * wait for Node to boot. Each sandbox serves one task; the pool refills behind it.
 */
export class SandboxPool implements SandboxSource {
  private readonly spares: Sandbox[] = [];
  private closed = false;
  private readonly takes: number[] = [];
  private bootMs = 100;
  private spareCount: number;
  /** A lone task's sandbox, whose replacement waits until that task is recorded (`settled`). */
  private awaiting?: { readonly sandbox: TaskSandbox; readonly timer: Timer };

  constructor(
    private readonly spec: SandboxSpec,
    /** The spares kept when idle. */
    private readonly minSpares: number,
    /** At most this many spares however busy (sizing to recent demand: spares.ts). @default minSpares */
    private readonly maxSpares = minSpares,
    /** Times the deferred refill's fallback. @default the wall clock */
    private readonly clock: Pick<Clock, 'setTimer'> = systemClock,
  ) {
    this.spareCount = minSpares;
  }

  /** Spares wanted now (for tests and the bench). */
  get target(): number {
    return this.spareCount;
  }

  /** Starts warming the spares. */
  start(): void {
    this.refill();
  }

  take(): Sandbox {
    let sandbox: Sandbox | undefined;
    while (!sandbox && this.spares.length > 0) {
      const candidate = this.spares.shift() as Sandbox;
      if (candidate.idle) sandbox = candidate;
      else candidate.kill();
    }
    const now = Date.now();
    this.takes.push(now);
    while (this.takes.length > 0 && (this.takes[0] as number) <= now - DEMAND_WINDOW_MS) this.takes.shift();
    this.spareCount = sparesFor({ takes: this.takes, now, windowMs: DEMAND_WINDOW_MS, bootMs: this.bootMs, min: this.minSpares, max: this.maxSpares });
    const taken = sandbox ?? new Sandbox(this.spec);
    // A lone task's replacement boots once that task is recorded: on a runner's few cores a Node
    // process booting beside the task slows its own exit and writes (one task at a time in the
    // bench: p50 49 -> 36-38 ms, p99 81 -> 50-55). A second task in flight, or no warm spare left
    // to take, means the next take is near: boot at once.
    if (sandbox && !this.awaiting) this.awaiting = { sandbox: taken, timer: this.clock.setTimer(REFILL_DEFER_MS, () => this.refillSoon()) };
    else this.refillSoon();
    return taken;
  }

  /** The task that took `sandbox` is recorded (or given up): its replacement may boot now. */
  settled(sandbox: TaskSandbox): void {
    if (this.awaiting?.sandbox === sandbox) this.refillSoon();
  }

  /** Kills the spares; `take` still works (forks on demand) for what is still being handed back. */
  close(): void {
    this.closed = true;
    this.awaiting?.timer.cancel();
    this.awaiting = undefined;
    for (const s of this.spares.splice(0)) s.kill();
    // Called at the end of the runner's stop, when its tasks have ended (or were killed past the
    // stop timeout): its uid block goes back to the host.
    this.spec.identities?.close();
  }

  get size(): number {
    return this.spares.length;
  }

  /** Refills after the current turn (a take's sandbox is handed over first), ending any deferral. */
  private refillSoon(): void {
    this.awaiting?.timer.cancel();
    this.awaiting = undefined;
    setImmediate(() => this.refill());
  }

  private refill(): void {
    if (this.closed) return;
    for (let i = this.spares.length - 1; i >= 0; i--) if (!(this.spares[i] as Sandbox).idle) this.spares.splice(i, 1);
    while (this.spares.length < this.spareCount) {
      const spare = new Sandbox(this.spec);
      this.spares.push(spare);
      // Boot time, smoothed: how far ahead the spares have to be forked.
      void spare.whenReady().then((ms) => {
        if (ms !== undefined) this.bootMs = 0.8 * this.bootMs + 0.2 * ms;
      });
      // A spare that dies while waiting is replaced.
      void spare.whenEnded().then(() => {
        const at = this.spares.indexOf(spare);
        if (at >= 0) {
          this.spares.splice(at, 1);
          setTimeout(() => this.refill(), 1000).unref();
        }
      });
    }
  }
}
