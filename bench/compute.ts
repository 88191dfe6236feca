import { readdirSync, readFileSync } from 'node:fs';

/**
 * Compute in the price. Fargate bills a runner's reserved vCPU and memory for its wall time; a
 * runner kept busy with no-op tasks is CPU-bound, so one task holds the class's reservation for
 * (CPU-seconds per task / the class's vCPU) seconds. Billed per task, then:
 *   vCPU-seconds = CPU-seconds per task (measured: runner + its sandboxes, from /proc)
 *   GB-seconds   = class memory GB x CPU-seconds per task / class vCPU
 * The ticker Lambda is priced from the time it spends in ticks (GB-seconds of its memory size)
 * per task dispatched; its idle wait between ticks is a fixed cost per minute, not per task.
 * us-east-1 list prices: Fargate Linux/x86 (the runner task definitions), Lambda arm64 (the ticker).
 */
export const COMPUTE_PRICE = {
  fargateVcpuSecond: 0.04048 / 3600,
  fargateGbSecond: 0.004445 / 3600,
  lambdaArmGbSecond: 0.0000133334,
};

export interface RunnerCompute {
  readonly cpuSecondsPerTask: number;
  /** Measured RSS (runner + sandboxes) x wall time, per task: what the tasks actually held. */
  readonly rssGbSecondsPerTask: number;
  readonly classVcpu: number;
  readonly classMemoryGb: number;
}

export function runnerDollarsPerTask(c: RunnerCompute): { vcpuSeconds: number; gbSeconds: number; dollars: number } {
  const vcpuSeconds = c.cpuSecondsPerTask;
  const gbSeconds = (c.classMemoryGb * c.cpuSecondsPerTask) / c.classVcpu;
  return { vcpuSeconds, gbSeconds, dollars: vcpuSeconds * COMPUTE_PRICE.fargateVcpuSecond + gbSeconds * COMPUTE_PRICE.fargateGbSecond };
}

export function tickerDollarsPerTask(gbSecondsPerTask: number): number {
  return gbSecondsPerTask * COMPUTE_PRICE.lambdaArmGbSecond;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Fields of /proc/<pid>/stat after the command (which may hold spaces, in parentheses): state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14). */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's own CPU seconds and its reaped children's (for a runner: its sandboxes), apart. */
export function cpuSplitOf(pid: number): { own: number; children: number } {
  try {
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(statFields(pid)[i] ?? 0));
    return { own: ((utime ?? 0) + (stime ?? 0)) / TICKS_PER_SECOND, children: ((cutime ?? 0) + (cstime ?? 0)) / TICKS_PER_SECOND };
  } catch {
    return { own: Number.NaN, children: Number.NaN };
  }
}

/** CPU seconds of a process and of its reaped children (the sandboxes). */
export function cpuSecondsOf(pid: number): number {
  const { own, children } = cpuSplitOf(pid);
  return own + children;
}

/** Parent pid and command line of every process, from /proc. */
function processTable(): Map<number, { ppid: number; cmdline: string }> {
  const table = new Map<number, { ppid: number; cmdline: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = Number(statFields(name)[1]);
      table.set(Number(name), { ppid, cmdline: readFileSync(`/proc/${name}/cmdline`, 'latin1').replace(/\0/g, ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** The live processes under `roots` (roots included), from /proc. */
export function descendantsOf(roots: readonly number[], table = processTable()): Set<number> {
  const tree = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of table) {
      if (tree.has(p.ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}

/**
 * CPU seconds the local AWS has used so far: LocalStack's runtime and everything under it
 * (DynamoDB Local's JVM), live processes and reaped ones. NaN when no LocalStack runs on this host
 * (an endpoint elsewhere). On 2 shared cores the emulator competes with the runner for the same
 * CPU, so its share per task is part of what bounds the runner's throughput here.
 */
export function emulatorCpuSeconds(): number {
  const table = processTable();
  const roots = [...table].filter(([, p]) => p.cmdline.includes('localstack.runtime.main')).map(([pid]) => pid);
  if (roots.length === 0) return Number.NaN;
  let seconds = 0;
  for (const pid of descendantsOf(roots, table)) {
    const { own, children } = cpuSplitOf(pid);
    if (Number.isFinite(own)) seconds += own + children;
  }
  return seconds;
}

/**
 * Waits until the local AWS is idle: under `idleShare` of a core over `windowMs`, for at most
 * `maxWaitMs`. After heavy writes (the ticker section's 100,000 future tasks) the emulator keeps
 * working through their stream records for minutes; a latency measured meanwhile would be the
 * emulator's backlog, not the code's.
 */
export async function quietEmulator(options: { windowMs?: number; idleShare?: number; maxWaitMs?: number } = {}): Promise<{ waitedMs: number; quiet: boolean; share: number }> {
  const { windowMs = 2000, idleShare = 0.1, maxWaitMs = 180_000 } = options;
  const started = Date.now();
  for (;;) {
    const before = emulatorCpuSeconds();
    if (!Number.isFinite(before)) return { waitedMs: 0, quiet: true, share: 0 };
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const share = (emulatorCpuSeconds() - before) / (windowMs / 1000);
    const waitedMs = Date.now() - started;
    if (share < idleShare || waitedMs >= maxWaitMs) return { waitedMs, quiet: share < idleShare, share };
  }
}

/** `quietEmulator`, saying what it waited for when that was more than one look. */
export async function startQuiet(): Promise<void> {
  const q = await quietEmulator();
  if (!q.quiet) console.log(`  the local AWS is still busy after ${Math.round(q.waitedMs / 1000)} s (${Math.round(q.share * 100)} % of a core): measuring anyway`);
  else if (q.waitedMs > 2500) console.log(`  waited ${Math.round(q.waitedMs / 1000)} s for the local AWS to finish earlier work (idle now: ${Math.round(q.share * 100)} % of a core)`);
}
