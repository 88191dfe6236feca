import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SandboxIdentity } from './identity';

/**
 * The work directory's layout, private per task:
 *
 *   <workDir>/                        0711 runner: traversable, not listable
 *   <workDir>/<task>-<attempt>/       0700 runner: the task's log (sandboxes cannot read it)
 *   <workDir>/sandboxes/              0711 runner
 *   <workDir>/sandboxes/<task>-<attempt>/      0700 the sandbox's own uid
 *       tmp/                          the script's ctx.tmpDir (also its HOME and TMPDIR)
 *       result.json                   a large result, read back by the runner (root)
 *
 * With uid switching, a script can reach only its own directory; without it (the runner is not
 * root), the modes still keep other users of the machine out.
 */
export interface TaskDirectories {
  /** The runner's own directory for the task (its log file lives here). */
  readonly runnerDir: string;
  /** The sandbox's private directory; created by `forSandbox`. */
  readonly sandboxDir: string;
  readonly tmpDir: string;
  readonly resultFile: string;
}

export async function createTaskWorkspace(workDir: string, name: string): Promise<TaskDirectories> {
  await mkdir(workDir, { recursive: true, mode: 0o711 });
  await chmod(workDir, 0o711);
  const runnerDir = join(workDir, name);
  await mkdir(runnerDir, { recursive: true, mode: 0o700 });
  await chmod(runnerDir, 0o700);
  const sandboxDir = join(workDir, 'sandboxes', name);
  return { runnerDir, sandboxDir, tmpDir: join(sandboxDir, 'tmp'), resultFile: join(sandboxDir, 'result.json') };
}

/** Creates the sandbox's private directory, owned by its uid when it has one. */
export async function prepareSandboxDir(workspace: { readonly tmpDir: string }, identity: SandboxIdentity | undefined): Promise<void> {
  const sandboxDir = dirname(workspace.tmpDir);
  const parent = dirname(sandboxDir);
  await mkdir(parent, { recursive: true, mode: 0o711 });
  await chmod(parent, 0o711);
  await mkdir(workspace.tmpDir, { recursive: true, mode: 0o700 });
  for (const dir of [sandboxDir, workspace.tmpDir]) {
    await chmod(dir, 0o700);
    if (identity) await chown(dir, identity.uid, identity.gid);
  }
}

export async function removeTaskWorkspace(workspace: TaskDirectories): Promise<void> {
  await Promise.all([rm(workspace.runnerDir, { recursive: true, force: true }), rm(workspace.sandboxDir, { recursive: true, force: true })]);
}
