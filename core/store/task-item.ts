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

/** Index keys of a task as it is first written: due now or later, held, or waiting for a predecessor. */
export function newTaskItem(task: TaskRecord, shards: number): Item {
  const shard = shardOf(task.id, shards);
  const item: Item = { ...taskKey(task.id), type: 'task', ...task, gsi2pk: jobPk(task.job, shard), gsi2sk: task.id };
  if (task.startAfter) Object.assign(item, { gsi3pk: afterPk(task.startAfter), gsi3sk: task.id });
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
