import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { scheduleKey } from '../model/keys';
import type { ScheduleRecord, TaskRecord } from '../model/task';
import { newTaskItem } from './task-item';
import { isConditionFailure, type TaskStoreOptions } from './task-store';
import { buildExpressions, type Change, type Guard } from './update-expression';

const STORAGE_ONLY = new Set(['pk', 'sk', 'type']);
const recordOf = (item: Record<string, unknown>): ScheduleRecord =>
  Object.fromEntries(Object.entries(item).filter(([k]) => !STORAGE_ONLY.has(k))) as unknown as ScheduleRecord;

/**
 * SCHEDULE items. An occurrence is created in one transaction with the schedule's move to that
 * due time, conditional on the schedule being active at the previous one: a retried or racing
 * creation, or a stop, can never produce two occurrences.
 */
export class ScheduleStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly options: TaskStoreOptions,
  ) {}

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.options.tableName, Key: scheduleKey(id), ConsistentRead: true }));
    return res.Item ? recordOf(res.Item) : undefined;
  }

  async list(): Promise<ScheduleRecord[]> {
    const out: ScheduleRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': scheduleKey('').pk },
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...(res.Items ?? []).map(recordOf));
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  /** Creates the schedule with its first occurrence. Returns false if a schedule with that id exists. */
  async create(schedule: ScheduleRecord, first: TaskRecord | undefined): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.options.tableName, Item: { ...scheduleKey(schedule.id), type: 'schedule', ...schedule }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ...(first ? [{ Put: { TableName: this.options.tableName, Item: newTaskItem(first, this.options.shards), ConditionExpression: 'attribute_not_exists(pk)' } }] : []),
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * Moves an active schedule from `fromDueAt` to the last of `occurrences`, creating them.
   * Returns false when the schedule had already moved on or is not active (nothing written).
   */
  advance(id: string, fromDueAt: number, occurrences: readonly TaskRecord[], set: Partial<ScheduleRecord>): Promise<boolean> {
    const last = occurrences[occurrences.length - 1];
    return this.moveWithOccurrences(id, { set: { ...set, ...(last ? { nextDueAt: last.dueAt } : {}) } }, { equals: { active: true, nextDueAt: fromDueAt } }, occurrences);
  }

  /** Re-activates a paused schedule together with its next occurrence, or does nothing if it is not paused. */
  resume(id: string, occurrence: TaskRecord): Promise<boolean> {
    return this.moveWithOccurrences(id, { set: { active: true, nextDueAt: occurrence.dueAt } }, { equals: { active: false }, notExists: ['stopped'] }, [occurrence]);
  }

  /** One transaction: the schedule's conditional update and the creation of its occurrences. False if the condition failed. */
  private async moveWithOccurrences(id: string, change: Change, guard: Guard, occurrences: readonly TaskRecord[]): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: { TableName: this.options.tableName, Key: scheduleKey(id), ...buildExpressions(change, guard) } as never },
            ...occurrences.map((t) => ({ Put: { TableName: this.options.tableName, Item: newTaskItem(t, this.options.shards), ConditionExpression: 'attribute_not_exists(pk)' } })),
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** A conditional write on the schedule item alone (pause, resume, stop, sync). False when the condition failed. */
  async update(id: string, change: Change, guard: Guard): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.options.tableName, Key: scheduleKey(id), ...buildExpressions(change, guard) }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
