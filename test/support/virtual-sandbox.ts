import { PassThrough, type Readable } from 'node:stream';
import type { Clock, Timer } from '../../core/clock';
import type { RunHandlers, SandboxReport, SandboxSource, TaskSandbox } from '../../runner/sandbox/port';
import type { AbortReason, RunRequest } from '../../runner/sandbox/protocol';
import type { TaskLogWriter, TaskWorkspace, Workspaces } from '../../runner/workspace';

/** What a virtual script does, in virtual time. */
export interface VirtualScript {
  /** From hand-over to `started` (boot and module load). @default 0 */
  readonly bootMs?: number;
  /** From `started` to `done`; undefined: runs until stopped. */
  readonly runMs?: number;
  /** On its abort signal: throw at once (default), or ignore it. */
  readonly onAbort?: 'throw' | 'ignore';
}

const ended = (): Readable => {
  const s = new PassThrough();
  s.end();
  return s;
};

/**
 * A sandbox on a virtual clock, for unit tests of the runner (and the simulation): the script's
 * life is a few timers; kill() ends it at once; its lease deadline ends it as the real child does.
 */
export class VirtualSandbox implements TaskSandbox {
  readonly warm = true;
  readonly stdout = ended();
  readonly stderr = ended();
  readonly deadlines: { at: number; remainingMs: number }[] = [];
  readonly aborts: AbortReason[] = [];
  request?: RunRequest;
  endedAt?: number;
  private finish?: (report: SandboxReport) => void;
  private timers: Timer[] = [];
  private deadline?: Timer;
  private startedAt?: number;

  constructor(
    private readonly clock: Clock,
    private readonly script: VirtualScript,
  ) {}

  get running(): boolean {
    return this.finish !== undefined && this.endedAt === undefined;
  }

  run(request: RunRequest, handlers: RunHandlers = {}): Promise<SandboxReport> {
    this.request = request;
    return new Promise((resolve) => {
      this.finish = resolve;
      this.timers.push(
        this.clock.setTimer(this.script.bootMs ?? 0, () => {
          this.startedAt = this.clock.now();
          handlers.onStarted?.(this.startedAt);
          if (this.script.runMs !== undefined) this.timers.push(this.clock.setTimer(this.script.runMs, () => this.end({ exitCode: 0, signal: null, done: { type: 'done', at: this.clock.now() } })));
        }),
      );
    });
  }

  abort(reason: AbortReason): void {
    this.aborts.push(reason);
    if (this.running && (this.script.onAbort ?? 'throw') === 'throw') {
      this.end({ exitCode: 1, signal: null, failed: { type: 'failed', at: this.clock.now(), stage: 'run', message: `aborted: ${reason}`, aborted: true } });
    }
  }

  kill(): void {
    this.end({ exitCode: null, signal: 'SIGKILL' });
  }

  setDeadline(remainingMs: number): void {
    this.deadlines.push({ at: this.clock.now(), remainingMs });
    this.deadline?.cancel();
    this.deadline = this.clock.setTimer(remainingMs, () => this.end({ exitCode: null, signal: 'SIGKILL', deadlinePassed: { type: 'deadline-passed', at: this.clock.now() } }));
  }

  private end(how: Omit<SandboxReport, 'exitedAt'>): void {
    if (!this.finish || this.endedAt !== undefined) return;
    this.endedAt = this.clock.now();
    for (const t of this.timers) t.cancel();
    this.deadline?.cancel();
    this.finish({ ...how, ...(this.startedAt !== undefined ? { startedAt: this.startedAt } : {}), exitedAt: this.endedAt });
  }
}

/** Hands out virtual sandboxes running `script`, and remembers them. */
export class VirtualSandboxes implements SandboxSource {
  readonly taken: VirtualSandbox[] = [];
  /** Called when the runner says the task of a taken sandbox is recorded (`settled`). */
  onSettled?: (sandbox: VirtualSandbox) => void;

  constructor(
    private readonly clock: Clock,
    private readonly script: VirtualScript,
  ) {}

  start(): void {}
  close(): void {}

  take(): VirtualSandbox {
    const sandbox = new VirtualSandbox(this.clock, this.script);
    this.taken.push(sandbox);
    return sandbox;
  }

  settled(sandbox: VirtualSandbox): void {
    this.onSettled?.(sandbox);
  }
}

/** Task workspaces in memory: each log is an array of entries. */
export class MemoryWorkspaces implements Workspaces {
  readonly logs = new Map<string, Record<string, unknown>[]>();

  async open(name: string): Promise<TaskWorkspace> {
    const entries: Record<string, unknown>[] = [];
    this.logs.set(name, entries);
    const log: TaskLogWriter = {
      attach: () => undefined,
      write: (entry) => void entries.push(entry),
      close: async (last) => {
        if (last) entries.push(last);
        return { path: `memory:${name}`, bytes: JSON.stringify(entries).length, truncated: false };
      },
    };
    return { tmpDir: `/virtual/${name}/tmp`, resultFile: `/virtual/${name}/result.json`, log, remove: async () => undefined };
  }

  async clear(): Promise<void> {}
}
