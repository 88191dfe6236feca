/**
 * The typed message protocol between the runner and one sandbox (a child process). The runner
 * sends one `run`, and later possibly an `abort`; the child answers with what happened.
 * Plain JSON over the IPC channel: nothing here may depend on the rest of the runner.
 */

/** pino bundled into one file, which the build puts next to the sandbox's entry (runner/build/bundle-sandbox-logger.ts). */
export const SANDBOX_LOGGER_BUNDLE = 'pino.bundle.js';

export interface RunRequest {
  readonly type: 'run';
  /** Absolute path of the job module, already resolved inside the catalogue root. */
  readonly modulePath: string;
  readonly args: unknown;
  readonly task: {
    readonly taskId: string;
    readonly job: string;
    readonly attempt: number;
    readonly token: string;
    readonly scheduledAt: number;
    readonly lastCompletedAt?: number;
    /** Set for a schedule's occurrence: the child evaluates the module's `nextRun` from it. */
    readonly occurrenceAt?: number;
  };
  readonly tmpDir: string;
  /** Where a result larger than `inlineResultBytes` is written (outside tmpDir, which belongs to the job). */
  readonly resultFile: string;
  readonly inlineResultBytes: number;
  readonly logLevel: string;
  /** The child stops sending log lines past this many bytes (the runner enforces the cap anyway). */
  readonly logCapBytes: number;
  /** Added to the sandbox's environment before the module loads: HOME, TMPDIR, the job role's credentials. */
  readonly env?: Readonly<Record<string, string>>;
}

export type AbortReason = 'cancel' | 'timeout' | 'shutdown';

export type ParentMessage =
  | RunRequest
  | { readonly type: 'abort'; readonly reason: AbortReason }
  /**
   * The lease deadline, as a duration from now (monotonic: no clock skew): unless a later
   * `deadline` extends it, the child ends itself (and everything it started) when it passes,
   * because a frozen runner could not stop it before the reaper starts a retry elsewhere.
   */
  | { readonly type: 'deadline'; readonly remainingMs: number };

export type ResultPayload = { readonly kind: 'inline'; readonly json: string } | { readonly kind: 'file'; readonly path: string; readonly bytes: number };

export type ChildMessage =
  /** The sandbox is up (a warm spare waits for its `run`). */
  | { readonly type: 'ready' }
  /** The job module's `nextRun`, evaluated before the script runs so that any ending has it. */
  | { readonly type: 'next-run'; readonly at?: number; readonly error?: string }
  /** The module loaded; the script starts now (epoch ms, sub-millisecond precision). */
  | { readonly type: 'started'; readonly at: number }
  | { readonly type: 'progress'; readonly percent: number; readonly message?: string }
  /** The script resolved. `resultError` when the value could not be serialised as JSON. */
  | { readonly type: 'done'; readonly at: number; readonly result?: ResultPayload; readonly resultError?: string }
  /**
   * The module failed to load (`stage: 'load'`) or the script threw (`'run'`). `aborted` when the
   * error is the abort signal's reason (or an AbortError after the signal fired).
   */
  | { readonly type: 'failed'; readonly at: number; readonly stage: 'load' | 'run'; readonly message: string; readonly stack?: string; readonly aborted: boolean }
  /** The lease deadline passed without an extension: the child ends itself right after this. */
  | { readonly type: 'deadline-passed'; readonly at: number };

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();
