import { newToken, occurrenceId } from './keys';
import type { ScheduleRecord, TaskRecord } from './task';

/** The task for one occurrence of a schedule. Its id depends only on (schedule, due time). */
export function buildOccurrence(schedule: ScheduleRecord, dueAt: number, now: number, lastCompletedAt: number | undefined): TaskRecord {
  return {
    ...schedule.snapshot,
    id: occurrenceId(schedule.id, dueAt, schedule.snapshot.job),
    args: schedule.args,
    status: 'pending',
    dueAt,
    occurrenceAt: dueAt,
    priority: schedule.priority,
    attempt: 1,
    token: newToken(),
    createdAt: now,
    scheduleId: schedule.id,
    ...(lastCompletedAt !== undefined ? { lastCompletedAt } : {}),
  };
}
