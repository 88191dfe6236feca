import { scheduleKey } from '../model/keys';
import type { ScheduleRecord, TaskRecord } from '../model/task';
import { lostCondition, type Item, type Table } from './table';
import { newTaskItem } from './task-item';
import type { TaskStoreOptions } from './task-store';
import type { Change, Guard } from './update-expression';

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
    private readonly table: Table,
    private readonly options: Pick<TaskStoreOptions, 'shards'>,
  ) {}

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const item = await this.table.get(scheduleKey(id), true);
    return item ? recordOf(item) : undefined;
  }

  async list(): Promise<ScheduleRecord[]> {
    const out: ScheduleRecord[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.table.query({ pk: scheduleKey('').pk, consistent: true, ...(startKey ? { startKey } : {}) });
      out.push(...page.items.map(recordOf));
      startKey = page.next;
    } while (startKey);
    return out;
  }

  /** Creates the schedule with its first occurrence. Returns false if a schedule with that id exists. */
  async create(schedule: ScheduleRecord, first: TaskRecord | undefined): Promise<boolean> {
    try {
      await this.table.transact([
        { put: { ...scheduleKey(schedule.id), type: 'schedule', ...schedule }, ifAbsent: true },
        ...(first ? [{ put: newTaskItem(first, this.options.shards), ifAbsent: true }] : []),
      ]);
      return true;
    } catch (err) {
      if (lostCondition(err)) return false;
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
      await this.table.transact([{ update: scheduleKey(id), change, guard }, ...occurrences.map((t) => ({ put: newTaskItem(t, this.options.shards), ifAbsent: true }))]);
      return true;
    } catch (err) {
      if (lostCondition(err)) return false;
      throw err;
    }
  }

  /** pause: active -> paused (resume can bring it back). False when it was not active. */
  pause(id: string): Promise<boolean> {
    return this.update(id, { set: { active: false } }, { equals: { active: true } });
  }

  /** stop: any -> stopped for good (resume refuses it). False when there is no such schedule. */
  stop(id: string): Promise<boolean> {
    return this.update(id, { set: { active: false, stopped: true } }, { exists: ['pk'] });
  }

  /** A declared schedule (catalogue sync) takes the catalogue's definition, and is marked declared. False when there is no such schedule. */
  redefine(id: string, definition: Partial<ScheduleRecord>): Promise<boolean> {
    return this.update(id, { set: { ...definition, declared: true } }, { exists: ['pk'] });
  }

  private async update(id: string, change: Change, guard: Guard): Promise<boolean> {
    try {
      await this.table.update(scheduleKey(id), change, guard, false);
      return true;
    } catch (err) {
      if (lostCondition(err)) return false;
      throw err;
    }
  }
}
