import { activePk, activeSk, afterPk, duePk, dueSk, jobPk, shardOf, taskKey } from '../model/keys';
import type { TaskRecord } from '../model/task';

/** A stored item: the record plus its keys. Index keys are present only while they apply. */
export type Item = Record<string, unknown>;

const STORAGE_ONLY = new Set(['pk', 'sk', 'type', 'ttl', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk']);

export function recordOf(item: Item): TaskRecord {
  const record: Item = {};
  for (const [k, v] of Object.entries(item)) if (!STORAGE_ONLY.has(k)) record[k] = v;
  return record as unknown as TaskRecord;
}

/**
 * Where a new task enters the scheduling indexes. 'auto': due, held (nowhere), or waiting for its
 * predecessor, as the task says; 'due': due even though it names a predecessor (that one already
 * completed); 'active': created already ended, its follow-up pending until `at`.
 */
export type Placement = { readonly index: 'auto' | 'due' } | { readonly index: 'active'; readonly at: number };

/** The item of a task as it is first written, with its listing key and its place in the scheduling indexes. */
export function newTaskItem(task: TaskRecord, shards: number, placement: Placement = { index: 'auto' }): Item {
  const shard = shardOf(task.id, shards);
  const item: Item = { ...taskKey(task.id), type: 'task', ...task, gsi2pk: jobPk(task.job, shard), gsi2sk: task.id };
  // Created already ended (a dependent whose predecessor failed): it expires after its retention like any ended task.
  if (task.endedAt !== undefined) item.ttl = Math.ceil((task.endedAt + task.retentionMs) / 1000);
  if (placement.index === 'active') Object.assign(item, activeKeys(task.id, placement.at, shards));
  else if (placement.index === 'due') Object.assign(item, dueKeys(task, shards));
  else if (task.startAfter) Object.assign(item, { gsi3pk: afterPk(task.startAfter), gsi3sk: task.id });
  else if (!task.held) Object.assign(item, dueKeys(task, shards));
  return item;
}

export const dueKeys = (task: Pick<TaskRecord, 'id' | 'slotClass' | 'dueAt' | 'priority'>, shards: number) => ({
  gsi1pk: duePk(task.slotClass, shardOf(task.id, shards)),
  gsi1sk: dueSk(task.dueAt, task.priority, task.id),
});

export const activeKeys = (id: string, checkAt: number, shards: number) => ({
  gsi1pk: activePk(shardOf(id, shards)),
  gsi1sk: activeSk(checkAt, id),
});
