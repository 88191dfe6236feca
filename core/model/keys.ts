import { createHash } from 'node:crypto';
import { encodeTime, monotonicFactory } from 'ulid';
import { random, randomBytesOf } from './entropy';

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
  /** tasks waiting for a predecessor (startAfter), present only while they wait. KEYS_ONLY. */
  after: { name: 'after', pk: 'gsi3pk', sk: 'gsi3sk' },
} as const;

export const TTL_ATTRIBUTE = 'ttl';

const TIME_WIDTH = 13;
const pad = (n: number, width: number): string => String(Math.max(0, Math.floor(n))).padStart(width, '0');

export const MAX_PRIORITY = 999;

/** What a job may be called; a task id ends with it. */
export const JOB_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Task items are grouped by job, over a fixed number of shards, so a job's tasks are listed
 * newest first by querying the table itself: a listing index would cost every task a write.
 * Part of every task's address: never change it on a table that holds tasks.
 */
export const TASK_SHARDS = 16;

/** A task id is `<stem>.<job>`: a sortable stem (a ULID, or an occurrence's derived one), then its job. */
export const taskIdOf = (stem: string, job: string): string => `${stem}.${job}`;

export function parseTaskId(id: string): { readonly stem: string; readonly job: string } | undefined {
  const dot = id.indexOf('.');
  const job = id.slice(dot + 1);
  return dot > 0 && JOB_NAME.test(job) ? { stem: id.slice(0, dot), job } : undefined;
}

/** One of a job's task partitions; a task's is chosen by its stem. */
export const tasksPk = (job: string, shard: number) => `tasks#${job}#${shard}`;
export const taskPk = (job: string, stem: string) => tasksPk(job, shardOf(stem, TASK_SHARDS));

/** The item key of a task. An id that is not a task id gets a key no task is stored under. */
export function taskKey(id: string): { pk: string; sk: string } {
  const parsed = parseTaskId(id);
  return { pk: parsed ? taskPk(parsed.job, parsed.stem) : 'tasks#', sk: id };
}
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
export const afterPk = (predecessorId: string) => `after#${predecessorId}`;

/** Upper bound of a sort-key range that includes everything up to and including `time`. */
export const timeUpperBound = (time: number) => `${pad(time, TIME_WIDTH)}#~`;

/** Time encoded at the front of a sched sort key. */
export const timeOfSk = (sk: string): number => Number(sk.slice(0, TIME_WIDTH));
/** Id encoded at the end of a sched sort key. */
export const idOfSk = (sk: string): string => sk.slice(sk.lastIndexOf('#') + 1);

let ulid = monotonicFactory(() => random());
/** Starts task ids afresh (the simulation does, so each seeded run makes the same ids whatever ran before). */
export function resetIdSequence(): void {
  ulid = monotonicFactory(() => random());
}
/** Sortable unique id: creation time first, so ids sort newest-last. */
export const newTaskId = (job: string, now: number): string => taskIdOf(ulid(now), job);
export const newToken = (): string => randomBytesOf(9).toString('base64url');

/**
 * The id of a recurring schedule's occurrence is derived from (schedule, due time), so a retried
 * or concurrent write of the same occurrence can never create two.
 */
export function occurrenceId(scheduleId: string, dueAt: number, job: string): string {
  const digest = createHash('sha256').update(`${scheduleId}@${dueAt}`).digest('hex').slice(0, 10).toUpperCase();
  // Keep the ULID time prefix so occurrence ids sort with the rest by creation time.
  return taskIdOf(`${encodeTime(dueAt, 10)}OC${digest}`, job);
}
