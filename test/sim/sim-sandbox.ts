import { PassThrough } from 'node:stream';
import type { Timer } from '../../core/clock';
import type { TaskRecord } from '../../core/model/task';
import type { FileSink } from '../../runner/log/upload';
import type { TaskLogSummary } from '../../runner/log/task-log';
import type { RunHandlers, SandboxReport, SandboxSource, TaskSandbox } from '../../runner/sandbox/port';
import type { AbortReason, RunRequest } from '../../runner/sandbox/protocol';
import type { TaskWorkspace, Workspaces } from '../../runner/workspace';
import type { Rng } from './rng';
import type { SimProcess, World } from './world';

/** What a simulated job script does, from its args: run `ms` then end as `b` says. */
export interface ScriptBehaviour {
  /** ok: resolves; throw: throws; exit1 / exit100: exits so; hang: never ends; stubborn: ignores its abort signal. */
  readonly b: 'ok' | 'throw' | 'exit1' | 'exit100' | 'hang' | 'stubborn';
  readonly ms: number;
}

/** One run of a script: the ground truth the invariants are checked against. Times are true (world) time. */
export interface Execution {
  readonly taskId: string;
  readonly attempt: number;
  readonly token: string;
  readonly runner: string;
  readonly dueAt: number;
  readonly expiresAt?: number;
  /** When the runner's start write said it started the task (its clock). */
  readonly startWriteAt?: number;
  readonly maxExecutionMs: number;
  readonly startedAt: number;
  endedAt?: number;
  /** How it ended: finished on its own (with the job-contract outcome), or was stopped. */
  end?: 'done' | 'threw' | 'exit1' | 'exit100' | 'killed' | 'deadline' | 'runner-died';
}

export class Executions {
  readonly all: Execution[] = [];
}

/**
 * A child process running one job script, on the world's time line: it boots, says `started`,
 * runs, and ends; it can be aborted, killed, or end itself at its lease deadline. Its messages
 * reach the runner only while the runner runs (a frozen runner reads them after it thaws); it
 * dies with its runner.
 */
class SimSandbox implements TaskSandbox {
  readonly warm = false;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  private execution?: Execution;
  private ended = false;
  private endTimer?: Timer;
  private deadlineTimer?: Timer;
  private finish?: (report: SandboxReport) => void;
  private report: { -readonly [K in keyof SandboxReport]?: SandboxReport[K] } = {};
  private behaviour: ScriptBehaviour = { b: 'ok', ms: 0 };

  constructor(
    private readonly world: World,
    private readonly runner: SimProcess,
    private readonly rng: Rng,
    private readonly executions: Executions,
    private readonly taskOf: (taskId: string) => TaskRecord | undefined,
  ) {
    runner.onCrash.push(() => this.end('runner-died', { exitCode: null, signal: 'SIGKILL' }));
  }

  run(request: RunRequest, handlers: RunHandlers = {}): Promise<SandboxReport> {
    const args = (request.args ?? {}) as Partial<ScriptBehaviour>;
    this.behaviour = { b: args.b ?? 'ok', ms: args.ms ?? 100 };
    return new Promise<SandboxReport>((resolve) => {
      this.finish = resolve;
      const boot = this.rng.int(20, 400);
      this.world.at(this.world.now + boot, () => {
        if (this.ended) return;
        const t = request.task;
        if (t.occurrenceAt !== undefined) this.report.nextRun = { type: 'next-run', at: t.occurrenceAt + 5000 };
        const record = this.taskOf(t.taskId);
        this.execution = {
          taskId: t.taskId,
          attempt: t.attempt,
          token: t.token,
          runner: this.runner.name,
          dueAt: record?.dueAt ?? Number.NaN,
          ...(record?.expiresAt !== undefined ? { expiresAt: record.expiresAt } : {}),
          ...(record?.startedAt !== undefined ? { startWriteAt: record.startedAt } : {}),
          maxExecutionMs: record?.maxExecutionMs ?? Number.NaN,
          startedAt: this.world.now,
        };
        this.executions.all.push(this.execution);
        const startedAt = this.world.now + this.runner.skewMs;
        this.report.startedAt = startedAt;
        this.world.trace(this.runner.name, `script start ${t.taskId}#${t.attempt} (${this.behaviour.b} ${this.behaviour.ms} ms)`);
        this.toRunner(() => handlers.onStarted?.(startedAt));
        if (this.behaviour.b === 'hang') return;
        this.endTimer = this.world.at(this.world.now + this.behaviour.ms, () => this.scriptEnds());
      });
    });
  }

  abort(reason: AbortReason): void {
    if (this.ended || this.behaviour.b === 'stubborn' || this.behaviour.b === 'hang') return;
    // A cooperative script throws its abort reason shortly after.
    this.world.at(this.world.now + this.rng.int(1, 50), () => {
      if (this.ended) return;
      this.endTimer?.cancel();
      this.report.failed = { type: 'failed', at: this.world.now + this.runner.skewMs, stage: 'run', message: `aborted: ${reason}`, aborted: true };
      this.end('threw', { exitCode: 1, signal: null });
    });
  }

  kill(): void {
    this.end('killed', { exitCode: null, signal: 'SIGKILL' });
  }

  setDeadline(remainingMs: number): void {
    if (this.ended) return;
    this.deadlineTimer?.cancel();
    // The child's own timer: it runs on true time, whatever its runner is doing.
    this.deadlineTimer = this.world.at(this.world.now + remainingMs, () => {
      this.report.deadlinePassed = { type: 'deadline-passed', at: this.world.now + this.runner.skewMs };
      this.end('deadline', { exitCode: 1, signal: null });
    });
  }

  private scriptEnds(): void {
    const at = this.world.now + this.runner.skewMs;
    switch (this.behaviour.b) {
      case 'ok':
      case 'stubborn':
        this.report.done = { type: 'done', at, result: { kind: 'inline', json: '"ok"' } };
        return this.end('done', { exitCode: 0, signal: null });
      case 'throw':
        this.report.failed = { type: 'failed', at, stage: 'run', message: 'the script threw', aborted: false };
        return this.end('threw', { exitCode: 1, signal: null });
      case 'exit1':
        return this.end('exit1', { exitCode: 1, signal: null });
      case 'exit100':
        return this.end('exit100', { exitCode: 100, signal: null });
      case 'hang':
        return;
    }
  }

  private end(how: NonNullable<Execution['end']>, exit: Pick<SandboxReport, 'exitCode' | 'signal'>): void {
    if (this.ended) return;
    this.ended = true;
    this.endTimer?.cancel();
    this.deadlineTimer?.cancel();
    if (this.execution) {
      this.execution.endedAt = this.world.now;
      this.execution.end = how;
      this.world.trace(this.runner.name, `script end ${this.execution.taskId}#${this.execution.attempt}: ${how}`);
    }
    this.stdout.end();
    this.stderr.end();
    if (how === 'runner-died') return;
    const report: SandboxReport = { ...this.report, ...exit, exitedAt: 0 };
    this.toRunner(() => this.finish?.({ ...report, exitedAt: this.runner.clock.now() }));
  }

  /** Over the IPC channel: the runner handles it when it next runs. */
  private toRunner(fn: () => void): void {
    this.world.at(this.world.now + 1, fn, this.runner);
  }
}

export class SimSandboxSource implements SandboxSource {
  constructor(
    private readonly world: World,
    private readonly runner: SimProcess,
    private readonly rng: Rng,
    private readonly executions: Executions,
    private readonly taskOf: (taskId: string) => TaskRecord | undefined,
  ) {}

  start(): void {}

  take(): TaskSandbox {
    return new SimSandbox(this.world, this.runner, this.rng, this.executions, this.taskOf);
  }

  close(): void {}
}

/** Task work directories and logs in memory: the runner's disk is not what is under test. */
export class SimWorkspaces implements Workspaces {
  async open(name: string): Promise<TaskWorkspace> {
    const summary: TaskLogSummary = { path: `/sim/${name}/task.log`, bytes: 0, truncated: false };
    return {
      tmpDir: `/sim/${name}/tmp`,
      resultFile: `/sim/${name}/result.json`,
      log: { attach: (stream) => void stream.resume(), write: () => undefined, close: async () => summary },
      remove: async () => undefined,
    };
  }

  async clear(): Promise<void> {}
}

/** S3 uploads over the simulated network. */
export class SimFileSink implements FileSink {
  readonly keys = new Set<string>();

  constructor(private readonly proc: SimProcess) {}

  upload(key: string): Promise<{ bytes: number }> {
    return this.proc.call('s3.put', () => {
      this.keys.add(key);
      return { bytes: 0 };
    });
  }
}
