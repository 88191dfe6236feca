import type { Readable } from 'node:stream';
import type { TaskIdentity } from '../job-credentials';
import type { AbortReason, ChildMessage, RunRequest } from './protocol';

/**
 * The runner's view of sandboxes, as a port: the real adapter is `SandboxPool` (child processes,
 * sandbox.ts); the simulation (test/sim) implements virtual ones on its virtual clock.
 */

/** Everything the runner learns from one sandbox, once its process is gone. Times are epoch ms. */
export interface SandboxReport {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The script resolved. */
  readonly done?: Extract<ChildMessage, { type: 'done' }>;
  /** The module failed to load or the script threw. */
  readonly failed?: Extract<ChildMessage, { type: 'failed' }>;
  /** The module loaded and the script started (the child's `started`): the script's own time counts from here. */
  readonly startedAt?: number;
  readonly nextRun?: Extract<ChildMessage, { type: 'next-run' }>;
  /** The sandbox ended itself: its lease deadline passed without an extension (the runner could not stop it). */
  readonly deadlinePassed?: Extract<ChildMessage, { type: 'deadline-passed' }>;
  /** The process could not be started at all. */
  readonly spawnError?: Error;
  /** When the runner saw the process end. */
  readonly exitedAt: number;
}

export interface RunHandlers {
  /** The module loaded and the script starts now (`at`: the child's time): the max execution time starts. */
  onStarted?(at: number): void;
  onProgress?(percent: number, message?: string): void;
}

/** One sandbox: runs exactly one task. */
export interface TaskSandbox {
  /** Started ahead of time (a warm spare). */
  readonly warm: boolean;
  /** The script's output, piped into the task's log. */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Hands the task over; resolves when the sandbox has ended, however it ended. */
  run(request: RunRequest, handlers?: RunHandlers): Promise<SandboxReport>;
  /** Fires the script's AbortSignal; the script may still end on its own. */
  abort(reason: AbortReason): void;
  /** Ends the sandbox and everything it started, at once. Safe to call at any time, any number of times. */
  kill(): void;
  /**
   * The sandbox ends itself `remainingMs` from now unless a later call extends it: a frozen runner
   * cannot kill it, so it must know its lease deadline. A duration, not a date: no clock skew.
   */
  setDeadline(remainingMs: number): void;
  /**
   * Readies the sandbox for its task before `run`: its private directory (owned by its uid) and
   * the task's environment (HOME, TMPDIR, the job role's credentials). Throws when the job role
   * cannot be assumed: the task then fails, it never runs without them. @default nothing to prepare
   */
  prepare?(workspace: { readonly tmpDir: string; readonly resultFile: string }, task: TaskIdentity): Promise<Record<string, string>>;
}

/** Hands out sandboxes, one per task. */
export interface SandboxSource {
  /** Starts warming spares, if any. */
  start(): void;
  take(): TaskSandbox;
  /**
   * The task that took `sandbox` is recorded (or given up): a spare that replaces it may boot now
   * without slowing that task. @default nothing waits for it
   */
  settled?(sandbox: TaskSandbox): void;
  /** Ends the spares; `take` still works for what is being handed back. */
  close(): void;
}
