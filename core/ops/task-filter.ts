import { decodeTime, encodeTime } from 'ulid';
import { ValidationError } from '../errors';
import { parseTaskId } from '../model/keys';
import { TASK_STATUSES, isTerminal, type TaskRecord, type TaskStatus } from '../model/task';
import type { JobfleetClient, TaskPage } from '../sdk/client';

/**
 * Which tasks an operator means: by job, status, time range (the time in the task id: when it was
 * created, or for a schedule's occurrence when it was due) and id. Shared by the console (where
 * the URL holds it) and the CLI. Every read goes through the SDK's bounded, paged listing.
 */
export interface TaskFilter {
  readonly job?: string;
  readonly status?: TaskStatus;
  /** Epoch ms, inclusive. */
  readonly from?: number;
  /** Epoch ms, exclusive. */
  readonly to?: number;
  readonly id?: string;
}

/** The time a task id carries (its ULID prefix), or undefined for an id that is not a task id. */
export function timeOfTaskId(id: string): number | undefined {
  const stem = parseTaskId(id)?.stem;
  if (!stem) return undefined;
  try {
    return decodeTime(stem.slice(0, 26).padEnd(26, '0'));
  } catch {
    return undefined;
  }
}

/** Parses "2026-12-01T10:00Z", an epoch in ms, or a relative "-1h" / "-30m" / "-2d" against `now`. */
export function parseWhen(value: string, field: string, now: number): number {
  const rel = /^-(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(value.trim());
  if (rel) return now - Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d{10,}$/.test(value.trim())) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ValidationError(field, `"${value}" is not a time; give an ISO 8601 time (2026-12-01T10:00Z), epoch ms, or a relative "-1h", "-30m", "-2d"`);
  return t;
}

/** Builds a filter from loose strings (URL query or CLI options), rejecting what is not valid. */
export function parseFilter(raw: Record<string, string | undefined>, now: number): TaskFilter {
  const pick = (k: string) => (raw[k] !== undefined && raw[k] !== '' ? raw[k] : undefined);
  const status = pick('status');
  if (status !== undefined && !TASK_STATUSES.includes(status as TaskStatus)) throw new ValidationError('status', `"${status}" is not a status; use one of ${TASK_STATUSES.join(', ')}`);
  const from = pick('from');
  const to = pick('to');
  const filter: TaskFilter = {
    ...(pick('job') ? { job: pick('job') } : {}),
    ...(status ? { status: status as TaskStatus } : {}),
    ...(from ? { from: parseWhen(from, 'from', now) } : {}),
    ...(to ? { to: parseWhen(to, 'to', now) } : {}),
    ...(pick('id') ? { id: pick('id') } : {}),
  };
  if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) throw new ValidationError('from', 'must be before "to"');
  return filter;
}

/** One page of the tasks a filter selects, newest first; `cursor` continues it. */
export async function findTasks(client: JobfleetClient, filter: TaskFilter, page: { limit?: number; cursor?: string; jobs?: readonly string[] } = {}): Promise<TaskPage> {
  if (filter.id) {
    const task = await client.services.store.get(filter.id);
    return { tasks: task && matches(task, { ...filter, id: undefined }) ? [task] : [] };
  }
  // A cursor is the last id of the previous page; the range's end starts the first page (ids sort by their time).
  // The first id of that millisecond (a ULID with no randomness), so the SDK takes it as any other task id.
  const cursor = page.cursor ?? (filter.to !== undefined ? `${encodeTime(Math.max(0, filter.to), 10)}${'0'.repeat(16)}.${filter.job ?? 'any'}` : undefined);
  const limit = page.limit ?? 50;
  const found = filter.job || !page.jobs ? await client.list({ ...(filter.job ? { job: filter.job } : {}), ...(filter.status ? { status: filter.status } : {}), limit, ...(cursor ? { cursor } : {}) }) : await listAcrossJobs(client, page.jobs, filter, limit, cursor);
  const inRange = found.tasks.filter((t) => matches(t, filter));
  const next = found.cursor;
  const nextTime = next ? timeOfTaskId(next) : undefined;
  const past = filter.from !== undefined && (inRange.length < found.tasks.length || (nextTime !== undefined && nextTime < filter.from));
  return { tasks: inRange, ...(next && !past ? { cursor: next } : {}) };
}

/** Jobs listed this many at a time (each is 16 partition queries), so a page never opens hundreds of requests at once. */
const JOBS_AT_ONCE = 4;

/**
 * Newest first across jobs, a few jobs at a time. A job that has more past its page bounds what
 * this page may show (the newest such bound): older tasks of other jobs wait for the next page.
 */
async function listAcrossJobs(client: JobfleetClient, jobs: readonly string[], filter: TaskFilter, limit: number, cursor: string | undefined): Promise<TaskPage> {
  const tasks: TaskRecord[] = [];
  let frontier: string | undefined;
  for (let i = 0; i < jobs.length; i += JOBS_AT_ONCE) {
    const pages = await Promise.all(jobs.slice(i, i + JOBS_AT_ONCE).map((job) => client.list({ job, ...(filter.status ? { status: filter.status } : {}), limit, ...(cursor ? { cursor } : {}) })));
    for (const p of pages) {
      tasks.push(...p.tasks);
      if (p.cursor && (frontier === undefined || p.cursor > frontier)) frontier = p.cursor;
    }
  }
  const sorted = tasks.filter((t) => frontier === undefined || t.id >= frontier).sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const taken = sorted.slice(0, limit);
  const next = taken.length === limit ? taken[limit - 1]?.id : frontier;
  return { tasks: taken, ...(next ? { cursor: next } : {}) };
}

function matches(t: TaskRecord, f: TaskFilter): boolean {
  if (f.job && t.job !== f.job) return false;
  if (f.status && t.status !== f.status) return false;
  const at = timeOfTaskId(t.id) ?? t.createdAt;
  if (f.from !== undefined && at < f.from) return false;
  if (f.to !== undefined && at >= f.to) return false;
  return true;
}

/** Every task a filter selects, up to `max` (then `truncated`), reading page by page. */
export async function selectTasks(client: JobfleetClient, filter: TaskFilter, max = 1000, onPage?: (seen: number) => void, jobs?: readonly string[]): Promise<{ tasks: TaskRecord[]; truncated: boolean }> {
  const tasks: TaskRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await findTasks(client, filter, { limit: Math.min(200, max - tasks.length + 1), ...(jobs ? { jobs } : {}), ...(cursor ? { cursor } : {}) });
    tasks.push(...page.tasks);
    cursor = page.cursor;
    onPage?.(tasks.length);
  } while (cursor && tasks.length <= max);
  return { tasks: tasks.slice(0, max), truncated: tasks.length > max || Boolean(cursor) };
}

export type BulkAction = 'cancel' | 'retry';

/** Whether the action applies to the task: cancel what has not ended; retry failed one-off tasks. */
export function eligible(action: BulkAction, t: TaskRecord): boolean {
  if (action === 'cancel') return !isTerminal(t.status) && !t.cancelRequested;
  return t.status === 'failed' && Boolean(t.effectsDone) && !t.scheduleId;
}

export interface BulkResult {
  readonly action: BulkAction;
  readonly matched: number;
  readonly eligible: number;
  readonly done: number;
  readonly failed: { readonly id: string; readonly error: string }[];
  readonly truncated: boolean;
  readonly dryRun: boolean;
}

/** Applies an SDK action to every eligible task of a filter (or only counts them, with dryRun). */
export async function bulk(client: JobfleetClient, action: BulkAction, filter: TaskFilter, options: { dryRun?: boolean; max?: number; jobs?: readonly string[]; onProgress?: (done: number, of: number) => void } = {}): Promise<BulkResult> {
  const { tasks, truncated } = await selectTasks(client, filter, options.max ?? 1000, undefined, options.jobs);
  const targets = tasks.filter((t) => eligible(action, t));
  const failed: { id: string; error: string }[] = [];
  let done = 0;
  if (!options.dryRun) {
    for (const t of targets) {
      try {
        if (action === 'cancel') await client.cancel(t.id);
        else await client.reschedule(t.id);
        done++;
      } catch (err) {
        failed.push({ id: t.id, error: (err as Error).message });
      }
      options.onProgress?.(done + failed.length, targets.length);
    }
  }
  return { action, matched: tasks.length, eligible: targets.length, done, failed, truncated, dryRun: Boolean(options.dryRun) };
}
