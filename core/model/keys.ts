import { createHash, randomBytes } from 'node:crypto';
import { encodeTime, monotonicFactory } from 'ulid';

/**
 * Single-table key design. Every index is sparse or written once, and no index is keyed on a
 * bare status or job name, so no partition takes every write. See docs/data-model.md.
 */
export const INDEX = {
  /**
   * Where the ticker and the reaper look: one entry per task from the moment it is due until its
   * follow-up work is done, under a key that does not change on the way. Projects only attributes
   * that change at most at claim, put-back and look-again time.
   */
  sched: { name: 'sched', pk: 'gsi1pk', sk: 'gsi1sk' },
  /** listing by job, written once when the task is created. KEYS_ONLY. */
  byJob: { name: 'byJob', pk: 'gsi2pk', sk: 'gsi2sk' },
  /** tasks waiting for a predecessor (startAfter), present only while they wait. KEYS_ONLY. */
  after: { name: 'after', pk: 'gsi3pk', sk: 'gsi3sk' },
} as const;

export const TTL_ATTRIBUTE = 'ttl';

const TIME_WIDTH = 13;
const pad = (n: number, width: number): string => String(Math.max(0, Math.floor(n))).padStart(width, '0');

export const MAX_PRIORITY = 999;

export const taskKey = (id: string) => ({ pk: `task#${id}`, sk: 'task' });
/** All schedules share one partition: they are few, and listing them is one Query. */
export const scheduleKey = (id: string) => ({ pk: 'schedule', sk: id });
export const idemKey = (key: string) => ({ pk: `idem#${key}`, sk: 'idem' });
/** One counter item per concurrency scope (a job, or a job's concurrency key). */
export const concurrencyKey = (scope: string) => ({ pk: `conc#${scope}`, sk: 'conc' });

/** Stable shard of an id, so a task always lands in the same partition of each sharded index. */
export function shardOf(id: string, shards: number): number {
  const h = createHash('sha1').update(id).digest();
  return h.readUInt32BE(0) % shards;
}

export const schedPk = (slotClass: string, shard: number) => `sched#${slotClass}#${shard}`;
/** Higher priority sorts first among tasks due in the same millisecond. */
export const schedSk = (dueAt: number, priority: number, id: string) => `${pad(dueAt, TIME_WIDTH)}#${pad(MAX_PRIORITY - priority, 3)}#${id}`;
/**
 * The projected attribute that marks a sched entry as in flight (queued, running, or ended with
 * follow-up work pending) and says when the reaper should look at it again. Absent: pending.
 */
export const CHECK_AT = 'checkAt';
export const jobPk = (job: string, shard: number) => `job#${job}#${shard}`;
export const afterPk = (predecessorId: string) => `after#${predecessorId}`;

/** Upper bound of a sort-key range that includes everything up to and including `time`. */
export const timeUpperBound = (time: number) => `${pad(time, TIME_WIDTH)}#~`;

/** Time encoded at the front of a sched sort key. */
export const timeOfSk = (sk: string): number => Number(sk.slice(0, TIME_WIDTH));
/** Id encoded at the end of a sched sort key. */
export const idOfSk = (sk: string): string => sk.slice(sk.lastIndexOf('#') + 1);

const ulid = monotonicFactory();
/** Sortable unique id: creation time first, so ids sort newest-last. */
export const newTaskId = (now: number): string => ulid(now);
export const newToken = (): string => randomBytes(9).toString('base64url');

/**
 * The id of a recurring schedule's occurrence is derived from (schedule, due time), so a retried
 * or concurrent write of the same occurrence can never create two.
 */
export function occurrenceId(scheduleId: string, dueAt: number): string {
  const digest = createHash('sha256').update(`${scheduleId}@${dueAt}`).digest('hex').slice(0, 10).toUpperCase();
  // Keep the ULID time prefix so occurrence ids sort with the rest by creation time.
  return `${encodeTime(dueAt, 10)}OC${digest}`;
}
