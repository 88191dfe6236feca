import type { JobContext } from '../core/job-contract';

export interface CrunchArgs {
  /** Count the primes below this number. @default 5_000_000 */
  readonly limit?: number;
}

/**
 * CPU-heavy: counts primes with a segmented sieve. It works in slices and yields between them,
 * so progress, the abort signal and the runner's IPC stay responsive while it computes.
 */
export default async function crunch(args: CrunchArgs, ctx: JobContext): Promise<{ limit: number; primes: number; largest: number }> {
  const limit = Math.max(2, Math.floor(args.limit ?? 5_000_000));
  const root = Math.floor(Math.sqrt(limit));
  const base: number[] = [];
  const small = new Uint8Array(root + 1);
  for (let i = 2; i <= root; i++) {
    if (small[i]) continue;
    base.push(i);
    for (let j = i * i; j <= root; j += i) small[j] = 1;
  }
  const segment = 1 << 18;
  const sieve = new Uint8Array(segment);
  let primes = 0;
  let largest = 2;
  let lastReport = 0;
  for (let low = 2; low < limit; low += segment) {
    ctx.signal.throwIfAborted();
    const high = Math.min(low + segment, limit);
    sieve.fill(0);
    for (const p of base) {
      const start = Math.max(p * p, Math.ceil(low / p) * p);
      for (let j = start; j < high; j += p) sieve[j - low] = 1;
    }
    for (let n = low; n < high; n++) {
      if (!sieve[n - low]) {
        primes++;
        largest = n;
      }
    }
    const percent = Math.floor(((high - 2) / (limit - 2)) * 100);
    if (percent >= lastReport + 10) {
      lastReport = percent;
      ctx.progress(percent, `sieved up to ${high}`);
    }
    // Let messages in (cancel, timeout) between slices.
    await new Promise((r) => setImmediate(r));
  }
  ctx.logger.info({ limit, primes, largest }, 'primes counted');
  return { limit, primes, largest };
}
