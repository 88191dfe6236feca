import { createServer, type Server } from 'node:net';
import { ConfigError } from '../../core/errors';
import type { IdentityRange } from './identity';

/**
 * A block of the sandbox uid range that one runner holds alone on its host.
 *
 * Runners sharing a host (`jobfleet local` runs one per slot class; the benches run two) share
 * RUNNER_SANDBOX_UIDS. A uid looks free to a /proc scan from the moment its sandbox exits until
 * its runner's kill sweep (identity.ts: release) has run. A second runner scanning in that moment
 * could start a sandbox under it, and the first runner's sweep would then SIGKILL a stranger's
 * task. So each runner claims a block of the range and hands out uids from its block only. One
 * runner per host (on Fargate a task has a PID namespace of its own) takes the first block.
 *
 * The claim is a listening socket in Linux's abstract namespace, named after the block: binding
 * it is exclusive, and the kernel frees it the moment its process dies, so a runner killed with
 * SIGKILL leaves no stale claim behind. Anything on the host can bind a name first, a sandbox
 * included; the runner then takes the next block, and no block held by a runner can be taken.
 */
export interface UidBlock {
  readonly range: IdentityRange;
  /** Gives the block back (the runner's stop). Idempotent. */
  release(): void;
}

export const UID_BLOCK_SOCKET_PREFIX = 'jobfleet-sandbox-uids';

/** Blocks of `size` uids covering `range` (the last one may be shorter). */
export function uidBlocks(range: IdentityRange, size: number): IdentityRange[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`a uid block needs at least one uid, got ${size}`);
  const blocks: IdentityRange[] = [];
  for (let first = range.first; first <= range.last; first += size) blocks.push({ first, last: Math.min(range.last, first + size - 1) });
  return blocks;
}

/** The first block of `range` no other process on this host holds. */
export async function claimUidBlock(range: IdentityRange, blockSize: number, prefix = UID_BLOCK_SOCKET_PREFIX): Promise<UidBlock> {
  const blocks = uidBlocks(range, blockSize);
  for (const block of blocks) {
    const server = await bindAbstract(`\0${prefix}-${block.first}-${block.last}`);
    if (!server) continue;
    // The claim must not keep the runner's process alive.
    server.unref();
    let released = false;
    return {
      range: block,
      release: () => {
        if (released) return;
        released = true;
        server.close();
      },
    };
  }
  throw new ConfigError(
    `RUNNER_SANDBOX_UIDS: every block of ${blockSize} uids in ${range.first}-${range.last} (${blocks.length} blocks) is held by another runner on this host; widen the range or run fewer runners here`,
  );
}

/** A server listening on the abstract socket `name`, or undefined if something holds it already. */
function bindAbstract(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(new ConfigError(`RUNNER_SANDBOX_UIDS: could not claim a block of sandbox uids (abstract socket: ${err.code ?? err.message}); sandbox uids need Linux`));
    });
    server.listen(name, () => resolve(server));
  });
}
