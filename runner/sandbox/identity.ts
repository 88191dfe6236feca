import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { ConfigError } from '../../core/errors';

/**
 * Unprivileged user ids for sandboxes: each live sandbox runs under a uid (and gid) of its own,
 * never the runner's. So a script cannot signal the runner or a sibling, cannot read the runner's
 * /proc/<pid>/environ, and cannot open a sibling's private directory or the runner's task logs
 * (both 0700). Switching uid needs root (CAP_SETUID/CAP_SETGID): the runner image runs the
 * runner as root for this and nothing else, and no script ever runs as root.
 *
 * A uid is handed out again only after every process left under it is killed (a script's
 * helper that escaped its process group with setsid included).
 */
export interface SandboxIdentity {
  readonly uid: number;
  readonly gid: number;
}

export interface IdentityRange {
  readonly first: number;
  readonly last: number;
}

/** "61000-61999" -> the range; "none" -> undefined; "auto" -> the default range when running as root. */
export function parseIdentityRange(value: string, isRoot: boolean, field = 'RUNNER_SANDBOX_UIDS'): IdentityRange | undefined {
  if (value === 'none') return undefined;
  if (value === 'auto') return isRoot ? { first: 61000, last: 61999 } : undefined;
  const m = /^(\d+)-(\d+)$/.exec(value);
  if (!m) throw new ConfigError(`${field}: give "auto", "none" or a range such as 61000-61999 (got ${JSON.stringify(value)})`);
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (first < 1000 || last < first || last > 2 ** 31 - 2) throw new ConfigError(`${field}: the range must be ascending, start at 1000 or above (system accounts below) and stay below 2^31 (got ${value})`);
  if (!isRoot) throw new ConfigError(`${field}: sandboxes can run under their own uids only when the runner runs as root (it runs as uid ${process.getuid?.()}); set it to "none" to run them under the runner's uid`);
  return { first, last };
}

/** Processes running under `uid`, from /proc (Linux). */
export function processesOf(uid: number, proc = '/proc'): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return pids;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const status = statusHead(`${proc}/${name}/status`);
    const line = status === undefined ? null : /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    if (line && [line[1], line[2], line[3]].some((u) => Number(u) === uid)) pids.push(Number(name));
  }
  return pids;
}

/** The Uid line is the ninth of a status file, well inside its first 1 KiB. */
const STATUS_HEAD = Buffer.alloc(1024);

/**
 * The start of a /proc status file, or undefined if the process is gone. Every sandbox's start and
 * end scans all of /proc, so this reads one small buffer per process, not the whole file as UTF-8.
 */
function statusHead(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const length = readSync(fd, STATUS_HEAD, 0, STATUS_HEAD.length, 0);
    return STATUS_HEAD.toString('latin1', 0, length);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class IdentityPool {
  private readonly inUse = new Set<number>();
  private next: number;

  constructor(
    private readonly range: IdentityRange,
    /** Where this runner starts in the range: runners sharing a host (local mode) start apart. */
    offset = process.pid,
    private readonly running: (uid: number) => number[] = processesOf,
  ) {
    this.next = range.first + (offset % (range.last - range.first + 1));
  }

  /**
   * A uid no live sandbox has, and no process at all runs under (another runner on this host may
   * hold it: releasing a uid kills everything under it); round-robin, so a released uid rests
   * before it is reused.
   */
  acquire(): SandboxIdentity {
    const size = this.range.last - this.range.first + 1;
    for (let i = 0; i < size; i++) {
      const uid = this.next;
      this.next = uid === this.range.last ? this.range.first : uid + 1;
      if (this.inUse.has(uid) || this.running(uid).length > 0) continue;
      this.inUse.add(uid);
      return { uid, gid: uid };
    }
    throw new Error(`all ${size} sandbox uids (${this.range.first}-${this.range.last}) are in use; widen RUNNER_SANDBOX_UIDS`);
  }

  /** Kills whatever still runs under the uid, then frees it. */
  release(identity: SandboxIdentity): void {
    for (const pid of processesOf(identity.uid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    this.inUse.delete(identity.uid);
  }

  get size(): number {
    return this.inUse.size;
  }
}
