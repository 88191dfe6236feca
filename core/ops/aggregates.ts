/**
 * Operational aggregates: per job and 5-minute bucket, how many tasks entered each status, how
 * late they started (a histogram of due -> started), and why attempts failed. The status-event
 * stream consumer folds each batch of stream records into one delta per (job, bucket) and writes
 * each delta as one UpdateItem of ADDs, so the console reads counts from a few small items instead
 * of scanning tasks. Pure: no I/O here.
 */

/** Width of one aggregate bucket. The overview's hour is 12 buckets, its day 288. */
export const BUCKET_MS = 5 * 60_000;

/** Counted transitions: a task created, started, ended (per outcome), or an attempt that will be retried. */
export const COUNTERS = ['created', 'started', 'completed', 'failed', 'retried', 'cancelled'] as const;
export type Counter = (typeof COUNTERS)[number];

/** Upper bounds (ms) of the lateness histogram's buckets; the last is open-ended. */
export const LATENESS_BOUNDS_MS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, Infinity] as const;

/** How many (job, bucket) items a batch touched and what to add to each. */
export interface AggregateDelta {
  readonly job: string;
  readonly bucket: number;
  readonly counts: Partial<Record<Counter, number>>;
  /** Index into LATENESS_BOUNDS_MS -> tasks that started that late. */
  readonly lateness: Record<number, number>;
  /** Failure reason -> failed attempts (final or retried). */
  readonly reasons: Record<string, number>;
}

/** One counted status change, as the stream consumer reads it off a record. */
export interface CountedChange {
  readonly job: string;
  readonly counter: Counter;
  readonly at: number;
  /** For `started`: due -> started, in ms. */
  readonly latenessMs?: number;
  /** For `failed` and `retried`: the failure's reason. */
  readonly reason?: string;
}

export const bucketOf = (at: number): number => Math.floor(at / BUCKET_MS) * BUCKET_MS;

export function latenessIndex(ms: number): number {
  const late = Math.max(0, ms);
  return LATENESS_BOUNDS_MS.findIndex((bound) => late <= bound);
}

/** Folds a batch's counted changes into one delta per (job, bucket), in first-seen order. */
export function foldChanges(changes: readonly CountedChange[]): AggregateDelta[] {
  const byKey = new Map<string, { job: string; bucket: number; counts: Partial<Record<Counter, number>>; lateness: Record<number, number>; reasons: Record<string, number> }>();
  for (const c of changes) {
    const bucket = bucketOf(c.at);
    const key = `${c.job}@${bucket}`;
    let d = byKey.get(key);
    if (!d) byKey.set(key, (d = { job: c.job, bucket, counts: {}, lateness: {}, reasons: {} }));
    d.counts[c.counter] = (d.counts[c.counter] ?? 0) + 1;
    if (c.counter === 'started' && c.latenessMs !== undefined) {
      const i = latenessIndex(c.latenessMs);
      d.lateness[i] = (d.lateness[i] ?? 0) + 1;
    }
    if ((c.counter === 'failed' || c.counter === 'retried') && c.reason) d.reasons[c.reason] = (d.reasons[c.reason] ?? 0) + 1;
  }
  return [...byKey.values()];
}

/** What a stored bucket holds (the item's attributes, decoded). */
export interface AggregateBucket {
  readonly job: string;
  readonly bucket: number;
  readonly counts: Readonly<Partial<Record<Counter, number>>>;
  readonly lateness: Readonly<Record<number, number>>;
  readonly reasons: Readonly<Record<string, number>>;
}

export interface WindowSummary {
  readonly counts: Record<Counter, number>;
  /** Upper bound of the histogram bucket holding the p50 / p99 start (ms); undefined with no starts. */
  readonly latenessP50Ms?: number;
  readonly latenessP99Ms?: number;
  readonly reasons: Record<string, number>;
}

const zeroCounts = (): Record<Counter, number> => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;

/** The buckets at or after `since`, summed, with lateness percentiles from the merged histogram. */
export function summarize(buckets: readonly AggregateBucket[], since: number): WindowSummary {
  const counts = zeroCounts();
  const histogram: number[] = LATENESS_BOUNDS_MS.map(() => 0);
  const reasons: Record<string, number> = {};
  for (const b of buckets) {
    if (b.bucket + BUCKET_MS <= since) continue;
    for (const c of COUNTERS) counts[c] += b.counts[c] ?? 0;
    for (const [i, n] of Object.entries(b.lateness)) histogram[Number(i)] = (histogram[Number(i)] ?? 0) + n;
    for (const [r, n] of Object.entries(b.reasons)) reasons[r] = (reasons[r] ?? 0) + n;
  }
  return { counts, latenessP50Ms: percentile(histogram, 0.5), latenessP99Ms: percentile(histogram, 0.99), reasons };
}

/** The upper bound of the bucket where the cumulative count reaches `p` of the total. */
export function percentile(histogram: readonly number[], p: number): number | undefined {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil(p * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return LATENESS_BOUNDS_MS[i];
  }
  return LATENESS_BOUNDS_MS[LATENESS_BOUNDS_MS.length - 1];
}

/** Completed tasks per bucket over the window, oldest first, zero-filled: the throughput line. */
export function throughput(buckets: readonly AggregateBucket[], since: number, now: number, counter: Counter = 'completed'): { bucket: number; count: number }[] {
  const byBucket = new Map<number, number>();
  for (const b of buckets) byBucket.set(b.bucket, (byBucket.get(b.bucket) ?? 0) + (b.counts[counter] ?? 0));
  const out: { bucket: number; count: number }[] = [];
  for (let t = bucketOf(since); t <= bucketOf(now); t += BUCKET_MS) out.push({ bucket: t, count: byBucket.get(t) ?? 0 });
  return out;
}
