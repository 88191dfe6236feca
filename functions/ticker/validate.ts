import { z } from 'zod';
import { TASK_STATUSES, type TaskRecord } from '../../core/model/task';
import type { SchedEntry } from '../../core/store/task-store';

/**
 * Checks that keep a malformed task item (hand-edited, missing fields, a slot class with no
 * queue) from crashing a tick or blocking its partition: such a task is failed as `invalid-task`
 * with these problems as its message.
 */

/** Where a slot class's tasks go, and the largest task its runners can hold. */
export interface Route {
  readonly queueUrl?: string;
  readonly slotsPerRunner?: number;
}

/** Problems visible in a sched index entry (no read of the task needed). */
export function entryProblems(entry: SchedEntry, routes: ReadonlyMap<string, Route>): string[] {
  const problems: string[] = [];
  const missing = (v: unknown) => v === undefined || v === null || v === '' || v === 'undefined';
  if (missing(entry.job)) problems.push('job: missing');
  if (missing(entry.token)) problems.push('token: missing');
  if (!Number.isFinite(entry.at)) problems.push(`due time: cannot be read from the index sort key ${JSON.stringify(entry.sk)}`);
  if (!Number.isInteger(entry.slots) || entry.slots < 1) problems.push(`slots: ${JSON.stringify(entry.slots)} is not a positive integer`);
  const route = routes.get(entry.slotClass);
  const known = [...routes.entries()].filter(([, r]) => r.queueUrl).map(([name]) => name);
  if (missing(entry.slotClass)) problems.push('slotClass: missing');
  else if (!route?.queueUrl) problems.push(`slotClass: "${entry.slotClass}" has no queue (classes with a queue: ${known.join(', ') || 'none'})`);
  else if (route.slotsPerRunner === undefined) problems.push(`slotClass: "${entry.slotClass}" is not in the fleet configuration`);
  else if (Number.isInteger(entry.slots) && entry.slots > route.slotsPerRunner) {
    problems.push(`slots: ${entry.slots} exceed the ${route.slotsPerRunner} slots a "${entry.slotClass}" runner offers, so no runner could take it`);
  }
  if (entry.expiresAt !== undefined && !Number.isFinite(Number(entry.expiresAt))) problems.push(`expiresAt: ${JSON.stringify(entry.expiresAt)} is not a time`);
  return problems;
}

const positive = z.number().finite().positive();
const TaskRecordSchema = z.object({
  id: z.string().min(1),
  status: z.enum(TASK_STATUSES),
  token: z.string().min(1),
  job: z.string().min(1),
  slots: z.number().int().min(1),
  slotClass: z.string().min(1),
  dueAt: z.number().finite(),
  priority: z.number().finite(),
  attempt: z.number().int().min(1),
  maxAttempts: z.number().int().min(1),
  maxExecutionMs: positive,
  retentionMs: positive,
  backoff: z.object({ initialMs: z.number().min(0), factor: z.number().min(1), maxMs: z.number().min(0) }),
});

/** Problems of a whole task record, each naming its field. */
export function recordProblems(record: TaskRecord): string[] {
  const parsed = TaskRecordSchema.safeParse(record);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`);
}
