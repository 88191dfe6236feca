import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { systemClock, type Clock } from '../core/clock';
import { TaskLog, type TaskLogSummary } from './log/task-log';
import { createTaskWorkspace, removeTaskWorkspace } from './sandbox/workspace';

/** A task's own log, as the execution uses it (the real one is log/task-log.ts). */
export interface TaskLogWriter {
  /** Pipes a stream of the sandbox's output into the log until it ends. */
  attach(stream: Readable, kind: 'stdout' | 'stderr'): void;
  /** A line written by the runner itself. */
  write(entry: Record<string, unknown>): void;
  /** Waits for the attached output, writes `last`, closes: the file to upload and its size. */
  close(last?: Record<string, unknown>): Promise<TaskLogSummary>;
}

/** One task attempt's place on disk: its log, the script's tmpDir and the large-result file. */
export interface TaskWorkspace {
  readonly tmpDir: string;
  readonly resultFile: string;
  readonly log: TaskLogWriter;
  /** Removes everything of this attempt. */
  remove(): Promise<void>;
}

/**
 * The runner's disk, as a port: the real adapter below, a virtual one in the simulation. One
 * workspace per task attempt, all under one root.
 */
export interface Workspaces {
  open(name: string): Promise<TaskWorkspace>;
  /** Removes the root (the runner stopped). */
  clear(): Promise<void>;
}

/** Work directories under `root` on the local file system. */
export class FsWorkspaces implements Workspaces {
  constructor(
    private readonly root: string,
    private readonly logCapBytes: number,
    private readonly clock: Clock = systemClock,
  ) {}

  async open(name: string): Promise<TaskWorkspace> {
    // Private: the log in the runner's own directory (0700), the script's tmpDir in its sandbox's
    // (0700, chowned to the sandbox's uid when it is handed over): sandbox/workspace.ts.
    const dirs = await createTaskWorkspace(this.root, name);
    await mkdir(dirs.tmpDir, { recursive: true, mode: 0o700 });
    return {
      tmpDir: dirs.tmpDir,
      resultFile: dirs.resultFile,
      log: new TaskLog(join(dirs.runnerDir, 'task.log'), this.logCapBytes, () => this.clock.now()),
      remove: () => removeTaskWorkspace(dirs),
    };
  }

  async clear(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
