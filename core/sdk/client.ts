import type { Catalogue } from '../catalogue';
import { loadRuntimeConfig, type RuntimeConfig } from '../config/runtime';
import { ClaimConflictError, TaskNotFoundError, TaskTimeoutError, ValidationError } from '../errors';
import { createTask } from '../lifecycle/create-task';
import { finishTask } from '../lifecycle/finish';
import { newTask } from '../model/new-task';
import { isTerminal, type TaskRecord, type TaskStatus } from '../model/task';
import { createServices, type Services } from '../services';
import { RecurringSchedules } from './recurring';
import { checkArgs, DEFAULT_MAX_ARGS_BYTES, parseDuration, parseTime, parseWith, ScheduleOptionsSchema, type ScheduleOptions } from './validation';

export interface JobfleetClientOptions {
  readonly catalogue: Catalogue;
  /** @default loadRuntimeConfig(process.env) */
  readonly config?: RuntimeConfig;
  /** Clients and stores; built from `config` when omitted. */
  readonly services?: Services;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default 32 KiB */
  readonly maxArgsBytes?: number;
}

export interface ListOptions {
  readonly job?: string;
  readonly status?: TaskStatus;
  /** @default 50 */
  readonly limit?: number;
  /** The `cursor` of the previous page. */
  readonly cursor?: string;
}

export interface TaskPage {
  readonly tasks: TaskRecord[];
  /** Pass to the next `list` call; absent on the last page. */
  readonly cursor?: string;
}

/**
 * The jobfleet SDK: schedule tasks, follow them, cancel them, and manage recurring schedules.
 * Every call validates its input first and throws a typed error naming the field.
 */
export class JobfleetClient {
  readonly services: Services;
  readonly schedules: RecurringSchedules;
  private readonly catalogue: Catalogue;
  private readonly now: () => number;
  private readonly maxArgsBytes: number;

  constructor(options: JobfleetClientOptions) {
    this.catalogue = options.catalogue;
    this.services = options.services ?? createServices(options.config ?? loadRuntimeConfig());
    this.now = options.clock ?? Date.now;
    this.maxArgsBytes = options.maxArgsBytes ?? DEFAULT_MAX_ARGS_BYTES;
    this.schedules = new RecurringSchedules(this.catalogue, this.services, this.now, (args, job) => this.validArgs(job, args));
  }

  /**
   * Schedules one run of `job`: now (default), `at` a time, after a `delay`, after another task
   * completes (`startAfter`), or `hold` it until `release`. A second call with the same
   * `idempotencyKey` returns the first task, even when the calls race.
   */
  async schedule(job: string, args?: unknown, options: ScheduleOptions = {}): Promise<TaskRecord> {
    const opts = parseWith(ScheduleOptionsSchema, options, 'options');
    const resolved = this.catalogue.get(job);
    const validArgs = this.validArgs(job, args);
    const now = this.now();
    if (opts.at !== undefined && opts.delay !== undefined) throw new ValidationError('options.delay', 'give either "at" or "delay", not both');
    const dueAt = Math.max(now, opts.at !== undefined ? parseTime(opts.at, 'options.at') : now + (opts.delay !== undefined ? parseDuration(opts.delay, 'options.delay') : 0));
    const expiresAt = opts.expiresAt !== undefined ? parseTime(opts.expiresAt, 'options.expiresAt') : undefined;
    if (expiresAt !== undefined && expiresAt <= now) throw new ValidationError('options.expiresAt', 'is in the past; give a later time, or leave it out to never expire');
    if (expiresAt !== undefined && expiresAt <= dueAt) throw new ValidationError('options.expiresAt', 'is before the task is due, so it could never run; move it after "at"/"delay"');
    if (opts.concurrencyLimit !== undefined && opts.concurrencyKey === undefined) throw new ValidationError('options.concurrencyLimit', 'needs a "concurrencyKey" to count against');
    const concurrencyLimit = opts.concurrencyKey !== undefined ? (opts.concurrencyLimit ?? resolved.definition.maxConcurrencyPerKey) : undefined;
    if (opts.concurrencyKey !== undefined && concurrencyLimit === undefined) {
      throw new ValidationError('options.concurrencyKey', `has no limit to enforce; pass "concurrencyLimit" or set maxConcurrencyPerKey on job "${job}"`);
    }
    if (opts.startAfter !== undefined && opts.hold) throw new ValidationError('options.hold', 'a task waiting on "startAfter" is already held until then; use one or the other');
    const predecessor = opts.startAfter !== undefined ? await this.services.store.get(opts.startAfter) : undefined;
    if (opts.startAfter !== undefined && !predecessor) throw new ValidationError('options.startAfter', `task ${opts.startAfter} does not exist; schedule the predecessor first`);

    const task = newTask(resolved.snapshot, { ...opts, args: validArgs, dueAt, expiresAt, held: opts.hold, concurrencyLimit }, now);
    const key = opts.idempotencyKey;
    return createTask(this.services, task, this.now, {
      ...(predecessor ? { predecessor } : {}),
      ...(key !== undefined ? { idem: { key, ttl: Math.ceil((task.createdAt + 4 * task.retentionMs) / 1000) }, existing: (k: string) => this.holderOf(k) } : {}),
    });
  }

  /** The task an idempotency key names, if the key is taken. */
  private async holderOf(key: string): Promise<TaskRecord | undefined> {
    const idem = await this.services.store.getIdem(key);
    if (!idem) return undefined;
    const existing = await this.services.store.get(idem.taskId);
    if (existing) return existing;
    throw new ValidationError('options.idempotencyKey', `"${key}" was used by task ${idem.taskId}, whose record has expired; use a new key`);
  }

  private validArgs(job: string, args: unknown): unknown {
    const schema = this.catalogue.get(job).definition.args;
    const parsed = schema ? parseWith(schema, args ?? undefined, 'args') : args;
    checkArgs(parsed, this.maxArgsBytes);
    return parsed ?? null;
  }

  /** Makes a held task due now. */
  async release(taskId: string): Promise<TaskRecord> {
    const task = await this.get(taskId);
    if (!task.held || task.status !== 'pending') throw new ValidationError('taskId', `task ${taskId} is ${task.status}${task.held ? '' : ' and not held'}; only held pending tasks can be released`);
    const released = await this.services.store.releaseWaiting(task, this.now(), { held: true });
    if (!released) throw new ClaimConflictError(taskId, 'held');
    return released;
  }

  async get(taskId: string): Promise<TaskRecord> {
    const task = await this.services.store.get(taskId);
    if (!task) throw new TaskNotFoundError(taskId);
    return task;
  }

  /** Tasks newest first, by job (or across every catalogued job) and optionally by status. */
  async list(options: ListOptions = {}): Promise<TaskPage> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError('options.limit', 'must be an integer from 1 to 1000');
    const jobs = options.job ? [this.catalogue.get(options.job).snapshot.job] : [...this.catalogue.jobs.keys()];
    const tasks: TaskRecord[] = [];
    let before = options.cursor;
    for (let page = 0; page < 20; page++) {
      const found = (await Promise.all(jobs.map((job) => this.services.store.listTasks(job, limit, before))))
        .flat()
        .sort((x, y) => (x.id < y.id ? 1 : x.id > y.id ? -1 : 0))
        .slice(0, limit);
      if (found.length === 0) return { tasks };
      tasks.push(...found.filter((t) => !options.status || t.status === options.status));
      before = found[found.length - 1]?.id;
      if (tasks.length >= limit) {
        const full = tasks.slice(0, limit);
        return { tasks: full, cursor: full[limit - 1]?.id };
      }
      if (found.length < limit) return { tasks };
    }
    // Many filtered out: hand back what we have and where to go on from.
    return { tasks, cursor: before };
  }

  /**
   * Cancels a task. Pending or queued: cancelled at once. Running: the runner is asked to stop,
   * signals the script, and ends the task cancelled (a script that finishes within the grace period
   * keeps its real outcome). Already ended: returned as it is.
   */
  async cancel(taskId: string): Promise<TaskRecord> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const task = await this.get(taskId);
      if (isTerminal(task.status) || task.cancelRequested) return task;
      try {
        if (task.status === 'running') {
          return await this.services.store.requestCancel(task);
        }
        return await finishTask(this.services, { task, outcome: { status: 'cancelled', error: { reason: 'cancelled', message: 'cancelled through the SDK' } } }, this.now());
      } catch (err) {
        // A ticker or runner moved it meanwhile: look again and act on the new state.
        if (!(err instanceof ClaimConflictError)) throw err;
      }
    }
    throw new ClaimConflictError(taskId, 'stable long enough to cancel');
  }

  /** Resolves when the task has ended for good (retries included), or throws TaskTimeoutError. */
  async waitFor(taskId: string, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<TaskRecord> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (timeoutMs <= 0) throw new ValidationError('options.timeoutMs', 'must be more than 0');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const task = await this.get(taskId);
      if (isTerminal(task.status) && task.effectsDone) return task;
      if (Date.now() >= deadline) throw new TaskTimeoutError(`task ${taskId} is still ${task.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, Math.min(options.pollMs ?? 250, Math.max(1, deadline - Date.now()))));
    }
  }

  /** Whether a task scheduled with this idempotency key completed (remembered beyond the task's own retention). */
  async hasExecutedSuccessfully(idempotencyKey: string): Promise<boolean> {
    const idem = await this.services.store.getIdem(idempotencyKey);
    if (!idem) return false;
    if (idem.outcome) return idem.outcome === 'completed';
    return (await this.services.store.get(idem.taskId))?.status === 'completed';
  }

  /** Gives a failed one-off task another attempt, due at `at` (default now). */
  async reschedule(taskId: string, options: { at?: Date | string | number } = {}): Promise<TaskRecord> {
    const task = await this.get(taskId);
    if (task.status !== 'failed' || !task.effectsDone) throw new ValidationError('taskId', `task ${taskId} is ${task.status}; only failed tasks can be rescheduled`);
    if (task.scheduleId) throw new ValidationError('taskId', `task ${taskId} is an occurrence of schedule ${task.scheduleId}; it runs again on its schedule`);
    const now = this.now();
    const dueAt = Math.max(now, options.at !== undefined ? parseTime(options.at, 'options.at') : now);
    const rescheduled = await this.services.store.reschedule(task, dueAt);
    if (task.idempotencyKey) await this.services.store.clearIdemOutcome(task.idempotencyKey, taskId);
    return rescheduled;
  }
}
