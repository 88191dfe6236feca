import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { BUCKET_MS, type AggregateBucket, foldChanges, percentile, summarize, throughput, LATENESS_BOUNDS_MS } from '../../../core/ops/aggregates';
import { countedChangesOf } from '../../../functions/status-events/aggregate-changes';
import type { StreamRecord } from '../../../functions/status-events/stream-record';

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const image = (t: Record<string, unknown>) => marshall({ type: 'task', job: 'report', attempt: 1, maxAttempts: 1, createdAt: T0, dueAt: T0, ...t }, { removeUndefinedValues: true }) as Record<string, AttributeValue>;
let seq = 0;
const insert = (t: Record<string, unknown>): StreamRecord => ({ eventName: 'INSERT', dynamodb: { NewImage: image(t), SequenceNumber: String(++seq) } });
const modify = (from: Record<string, unknown>, to: Record<string, unknown>): StreamRecord => ({
  eventName: 'MODIFY',
  dynamodb: { OldImage: image(from), NewImage: image({ ...from, ...to }), SequenceNumber: String(++seq) },
});

describe('aggregates from stream records', () => {
  it('counts a creation, a start with its lateness, and each ending by outcome', () => {
    const a = { id: 'A.report', status: 'pending' };
    const changes = [
      insert(a),
      modify(a, { status: 'queued', queuedAt: T0 + 10 }),
      modify({ ...a, status: 'queued' }, { status: 'running', startedAt: T0 + 40 }),
      modify({ ...a, status: 'running', startedAt: T0 + 40 }, { status: 'completed', endedAt: T0 + 90 }),
    ].flatMap((r) => countedChangesOf(r, T0));
    expect(changes.map((c) => c.counter)).toEqual(['created', 'started', 'completed']);
    expect(changes[1]).toMatchObject({ latenessMs: 40, at: T0 + 40 });
  });

  it('a failed attempt that will be retried counts as retried with its reason; the last one as failed', () => {
    const running = { id: 'B.report', status: 'running', maxAttempts: 2 };
    const err = { reason: 'timeout', message: 'took too long' };
    const first = countedChangesOf(modify(running, { status: 'failed', error: err, endedAt: T0 + 5 }), T0);
    const last = countedChangesOf(modify({ ...running, attempt: 2 }, { status: 'failed', error: err, endedAt: T0 + 9 }), T0);
    expect(first).toEqual([{ job: 'report', counter: 'retried', at: T0 + 5, reason: 'timeout' }]);
    expect(last).toEqual([{ job: 'report', counter: 'failed', at: T0 + 9, reason: 'timeout' }]);
  });

  it('ignores heartbeats, progress and items that are not tasks', () => {
    const running = { id: 'C.report', status: 'running' };
    expect(countedChangesOf(modify(running, { leaseUntil: T0 + 30_000 }), T0)).toEqual([]);
    expect(countedChangesOf({ eventName: 'INSERT', dynamodb: { NewImage: marshall({ type: 'agg', job: 'x' }) as Record<string, AttributeValue> } }, T0)).toEqual([]);
  });

  it('folds a batch into one delta per job and 5-minute bucket', () => {
    const deltas = foldChanges([
      { job: 'a', counter: 'created', at: T0 },
      { job: 'a', counter: 'started', at: T0 + 1, latenessMs: 30 },
      { job: 'b', counter: 'failed', at: T0 + 2, reason: 'error' },
      { job: 'a', counter: 'completed', at: T0 + BUCKET_MS },
    ]);
    expect(deltas).toEqual([
      { job: 'a', bucket: T0, counts: { created: 1, started: 1 }, lateness: { 2: 1 }, reasons: {} },
      { job: 'b', bucket: T0, counts: { failed: 1 }, lateness: {}, reasons: { error: 1 } },
      { job: 'a', bucket: T0 + BUCKET_MS, counts: { completed: 1 }, lateness: {}, reasons: {} },
    ]);
  });

  it('summarizes a window: sums, percentiles from the merged histogram, zero-filled throughput', () => {
    const buckets: AggregateBucket[] = [
      { job: 'a', bucket: T0, counts: { completed: 3 }, lateness: { 0: 98, 5: 1, 15: 1 }, reasons: { error: 2 } },
      { job: 'a', bucket: T0 - 2 * 3_600_000, counts: { completed: 100 }, lateness: {}, reasons: {} },
    ];
    const hour = summarize(buckets, T0 + BUCKET_MS - 3_600_000);
    expect(hour.counts.completed).toBe(3);
    expect(hour.latenessP50Ms).toBe(LATENESS_BOUNDS_MS[0]);
    expect(hour.latenessP99Ms).toBe(LATENESS_BOUNDS_MS[5]);
    expect(hour.reasons).toEqual({ error: 2 });
    expect(percentile([0, 0], 0.5)).toBeUndefined();
    expect(throughput(buckets, T0 - BUCKET_MS, T0 + 1)).toEqual([{ bucket: T0 - BUCKET_MS, count: 0 }, { bucket: T0, count: 3 }]);
  });

  /**
   * The write budget: 100 tasks/s, each a no-op task's stream records (insert, claim, start,
   * finish, follow-up mark), cut into the Lambda's batches of 1000 records. Every delta is one
   * UpdateItem of a small item without index attributes: 1 write unit.
   */
  it('costs at most 0.05 write units per task at 100 tasks/s, with up to 8 jobs sharing each batch', () => {
    const jobs = 8;
    const records: StreamRecord[] = [];
    for (let i = 0; i < 6000; i++) {
      const at = T0 + i * 10; // 100 tasks a second for a minute
      const t = { id: `T${i}.job${i % jobs}`, job: `job${i % jobs}`, status: 'pending', dueAt: at, createdAt: at };
      records.push(
        insert(t),
        modify(t, { status: 'queued', queuedAt: at + 5 }),
        modify({ ...t, status: 'queued' }, { status: 'running', startedAt: at + 20 }),
        modify({ ...t, status: 'running', startedAt: at + 20 }, { status: 'completed', endedAt: at + 30 }),
        modify({ ...t, status: 'completed' }, { effectsDone: true }),
      );
    }
    let writes = 0;
    for (let i = 0; i < records.length; i += 1000) writes += foldChanges(records.slice(i, i + 1000).flatMap((r) => countedChangesOf(r, T0))).length;
    const perTask = writes / 6000;
    expect(perTask).toBeLessThanOrEqual(0.05);
    // 30 batches of 200 tasks, 8 jobs each (a few batches straddle a bucket edge): about 0.04.
    expect(perTask).toBeGreaterThan(0.03);
  });
});
