/**
 * Bounded parallelism: at most `limit` jobs in flight. `run` waits for a free place, starts the
 * job and returns without waiting for it; `drain` waits for all. A job that throws is handed to
 * `onError` and never rejects the pool.
 */
export class Pool {
  private readonly active = new Set<Promise<void>>();

  constructor(
    private readonly limit: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  async run(job: () => Promise<void>): Promise<void> {
    while (this.active.size >= this.limit) await Promise.race(this.active);
    const p: Promise<void> = job()
      .catch((err: unknown) => this.onError(err))
      .finally(() => this.active.delete(p));
    this.active.add(p);
  }

  async drain(): Promise<void> {
    while (this.active.size > 0) await Promise.all(this.active);
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, onError: (err: unknown, item: T) => void): Promise<void> {
  const pool = new Pool(limit, () => undefined);
  for (const item of items) await pool.run(() => fn(item).catch((err: unknown) => onError(err, item)));
  await pool.drain();
}
