import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { ConfigError } from '../../core/errors';
import { claimUidBlock, type UidBlock } from './uid-block';

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
  return processesIn({ first: uid, last: uid }, proc);
}

/** Processes whose real, effective or saved uid is in `range`, from /proc (Linux). */
export function processesIn(range: IdentityRange, proc = '/proc'): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return pids;
  }
  const inRange = (u: string | undefined) => Number(u) >= range.first && Number(u) <= range.last;
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const status = statusHead(`${proc}/${name}/status`);
    const line = status === undefined ? null : /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    if (line && [line[1], line[2], line[3]].some(inRange)) pids.push(Number(name));
  }
  return pids;
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Uids per runner's block (uid-block.ts): twice the sandboxes it can have alive at once (every
 * slot busy, every spare warm, one being handed over), so a released uid rests before reuse.
 */
export function uidBlockSize(slots: number, maxSpares: number): number {
  return Math.max(64, 2 * (slots + maxSpares + 1));
}

/** The Uid line is the ninth of a status file, well inside its first 1 KiB. */
const STATUS_HEAD = Buffer.alloc(1024);

/**
 * The start of a /proc status file, or undefined if the process is gone. Every sandbox's end scans
 * all of /proc, so this reads one small buffer per process, not the whole file as UTF-8.
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

/**
 * Hands out the uids of one runner's block (uid-block.ts: no other runner on the host uses
 * them), round-robin, so a released uid rests before it is reused. Releasing a uid kills whatever
 * still runs under it (a script's helper that escaped its process group), so a uid is only ever
 * handed out with nothing left under it.
 */
export class IdentityPool {
  private readonly inUse = new Set<number>();
  private next: number;

  private readonly block?: UidBlock;
  private readonly proc: string;

  constructor(
    private readonly range: IdentityRange,
    options: { readonly block?: UidBlock; readonly proc?: string } = {},
  ) {
    this.next = range.first;
    this.block = options.block;
    this.proc = options.proc ?? '/proc';
    // A runner that held the block before and died may have left escaped helpers under its uids.
    killAll(processesIn(range, this.proc));
  }

  /** Claims a block of `range` for this runner on this host (uid-block.ts), and its pool. */
  static async claim(range: IdentityRange, blockSize: number): Promise<IdentityPool> {
    const block = await claimUidBlock(range, blockSize);
    return new IdentityPool(block.range, { block });
  }

  acquire(): SandboxIdentity {
    const size = this.range.last - this.range.first + 1;
    for (let i = 0; i < size; i++) {
      const uid = this.next;
      this.next = uid === this.range.last ? this.range.first : uid + 1;
      if (this.inUse.has(uid)) continue;
      this.inUse.add(uid);
      return { uid, gid: uid };
    }
    throw new Error(`all ${size} sandbox uids of this runner's block (${this.range.first}-${this.range.last}) are in use; widen RUNNER_SANDBOX_UIDS`);
  }

  /** Kills whatever still runs under the uid, then frees it. */
  release(identity: SandboxIdentity): void {
    killAll(processesOf(identity.uid, this.proc));
    this.inUse.delete(identity.uid);
  }

  /** Gives the block back to the host (the runner's stop, once no sandbox is left). */
  close(): void {
    this.block?.release();
  }

  get uids(): IdentityRange {
    return this.range;
  }

  get size(): number {
    return this.inUse.size;
  }
}
