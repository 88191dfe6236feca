import { CHECK_AT, INDEX, afterPk, schedPk, schedSk, shardOf, taskKey } from '../model/keys';
import type { TaskRecord } from '../model/task';

/** A stored item: the record plus its keys. Index keys are present only while they apply. */
export type Item = Record<string, unknown>;

const STORAGE_ONLY = new Set(['pk', 'sk', 'type', 'ttl', INDEX.sched.pk, INDEX.sched.sk, INDEX.after.pk, INDEX.after.sk, CHECK_AT]);

export function recordOf(item: Item): TaskRecord {
  const record: Item = {};
  for (const [k, v] of Object.entries(item)) if (!STORAGE_ONLY.has(k)) record[k] = v;
  return record as unknown as TaskRecord;
}

/**
 * Where a new task enters the scheduling indexes. 'auto': due, held (nowhere), or waiting for its
 * predecessor, as the task says; 'due': due even though it names a predecessor (that one already
 * completed); 'ended': created already ended, its follow-up pending, looked at again at `checkAt`.
 */
export type Placement = { readonly index: 'auto' | 'due' } | { readonly index: 'ended'; readonly checkAt: number };

/** The item of a task as it is first written, with its place in the scheduling indexes. */
export function newTaskItem(task: TaskRecord, shards: number, placement: Placement = { index: 'auto' }): Item {
  const item: Item = { ...taskKey(task.id), type: 'task', ...task };
  // Created already ended (a dependent whose predecessor failed): it expires after its retention like any ended task.
  if (task.endedAt !== undefined) item.ttl = Math.ceil((task.endedAt + task.retentionMs) / 1000);
  if (placement.index === 'ended') Object.assign(item, inFlightKeys(task, placement.checkAt, shards));
  else if (placement.index === 'due') Object.assign(item, dueKeys(task, shards));
  else if (task.startAfter) Object.assign(item, { [INDEX.after.pk]: afterPk(task.startAfter), [INDEX.after.sk]: task.id });
  else if (!task.held) Object.assign(item, dueKeys(task, shards));
  return item;
}

type SchedPlace = Pick<TaskRecord, 'id' | 'slotClass' | 'dueAt' | 'priority'>;

/** A task's entry in the sched index, placed at `at` (its due time, unless said otherwise). */
export const schedKeys = (task: SchedPlace, shards: number, at = task.dueAt) => ({
  [INDEX.sched.pk]: schedPk(task.slotClass, shardOf(task.id, shards)),
  [INDEX.sched.sk]: schedSk(at, task.priority, task.id),
});

/** A pending task's entry: the ticker claims it once its due time comes. */
export const dueKeys = (task: SchedPlace, shards: number) => schedKeys(task, shards);

/**
 * The entry of a task that is ending without having been claimed (cancelled, expired, failed as a
 * dependent) while its follow-up work is pending: marked in flight, and placed no later than the
 * time to look at it, so the ticker reads it by then.
 */
export const inFlightKeys = (task: SchedPlace, checkAt: number, shards: number) => ({
  ...schedKeys(task, shards, Math.min(task.dueAt, checkAt)),
  [CHECK_AT]: checkAt,
});
