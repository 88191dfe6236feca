import type { Catalogue } from '../catalogue';
import { loadRuntimeConfig, type RuntimeConfig } from '../config/runtime';
import { isDeepStrictEqual } from 'node:util';
import { ClaimConflictError, IdempotencyConflictError, SlotClassUnavailableError, TaskNotFoundError, TaskTimeoutError, ValidationError } from '../errors';
import { checkIdempotencyKey, checkTaskId } from '../input/ids';
import { showDuration } from '../input/duration';
import { LATEST_TIME } from '../input/instant';
import { createTask } from '../lifecycle/create-task';
import { readTaskLog, type TaskLogRead } from '../logs/read-log';
import { finishTask } from '../lifecycle/finish';
import { newTask } from '../model/new-task';
import { isTerminal, type TaskRecord, type TaskStatus } from '../model/task';
import { createServices, type Services } from '../services';
import { RecurringSchedules } from './recurring';
import { systemClock, type Clock } from '../clock';
import { checkArgs, DEFAULT_MAX_ARGS_BYTES, ListOptionsSchema, parseDuration, parseTime, parseWith, ScheduleOptionsSchema, waitOptions, type ScheduleOptions } from './validation';

export interface JobfleetClientOptions {
  readonly catalogue: Catalogue;
  /** @default loadRuntimeConfig(process.env) */
  readonly config?: RuntimeConfig;
  /** Clients and stores; built from `config` when omitted. */
  readonly services?: Services;
  /** The time, and the timers `waitFor`/`waitForLog` poll on (a bare function: the time only, Node's timers). @default services.clock, else systemClock */
  readonly clock?: Clock | (() => number);
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
  private readonly clock: Clock;
  private readonly maxArgsBytes: number;

  constructor(options: JobfleetClientOptions) {
    this.catalogue = options.catalogue;
    this.services = options.services ?? createServices(options.config ?? loadRuntimeConfig());
    const given = options.clock;
    this.clock = typeof given === 'function' ? { ...systemClock, now: given } : (given ?? this.services.clock ?? systemClock);
    this.now = () => this.clock.now();
    this.maxArgsBytes = options.maxArgsBytes ?? DEFAULT_MAX_ARGS_BYTES;
    this.schedules = new RecurringSchedules(this.catalogue, this.services, this.now, (args, job) => this.validArgs(job, args), (job) => this.checkDeployed(job));
  }

  /**
   * Schedules one run of `job`: now (default), `at` a time, after a `delay`, after another task
   * completes (`startAfter`), or `hold` it until `release`. A second call with the same
   * `idempotencyKey` returns the first task, even when the calls race.
   */
  async schedule(job: string, args?: unknown, options: ScheduleOptions = {}): Promise<TaskRecord> {
    // Everything is checked before the first read or write.
    const opts = parseWith(ScheduleOptionsSchema, options, 'options');
    const resolved = this.catalogue.get(job);
    this.checkDeployed(job);
    const validArgs = this.validArgs(job, args);
    const now = this.now();
    if (opts.at !== undefined && opts.delay !== undefined) throw new ValidationError('options.delay', 'give either "at" or "delay", not both');
    const at = opts.at !== undefined ? parseTime(opts.at, 'options.at') : undefined;
    const delay = opts.delay !== undefined ? parseDuration(opts.delay, 'options.delay') : 0;
    // A past `at` is due now; a delay must not carry the due time past the supported range.
    const dueAt = at !== undefined ? Math.max(now, at) : now + delay;
    if (dueAt > LATEST_TIME) throw new ValidationError('options.delay', `${showDuration(delay)} from now is past the latest supported time, ${new Date(LATEST_TIME).toISOString()}; give a shorter delay`);
    const expiresAt = opts.expiresAt !== undefined ? parseTime(opts.expiresAt, 'options.expiresAt') : undefined;
    if (expiresAt !== undefined && expiresAt <= now) throw new ValidationError('options.expiresAt', 'is in the past; give a later time, or leave it out to never expire');
    if (expiresAt !== undefined && expiresAt <= dueAt) throw new ValidationError('options.expiresAt', 'is before the task is due, so it could never run; move it after "at"/"delay"');
    const concurrencyLimit = this.concurrencyLimitOf(job, opts.concurrencyKey, opts.concurrencyLimit);
    const startAfter = opts.startAfter !== undefined ? checkTaskId(opts.startAfter, 'options.startAfter') : undefined;
    if (startAfter !== undefined && opts.hold) throw new ValidationError('options.hold', 'a task waiting on "startAfter" is already held until then; use one or the other');
    const predecessor = startAfter !== undefined ? await this.services.store.get(startAfter) : undefined;
    if (startAfter !== undefined && !predecessor) throw new ValidationError('options.startAfter', `task ${startAfter} does not exist; schedule the predecessor first`);

    const task = newTask(resolved.snapshot, { ...opts, startAfter, args: validArgs, dueAt, expiresAt, held: opts.hold, concurrencyLimit }, now);
    const key = opts.idempotencyKey;
    return createTask(this.services, task, this.now, {
      ...(predecessor ? { predecessor } : {}),
      ...(key !== undefined ? { idem: { key, ttl: Math.ceil((task.createdAt + 4 * task.retentionMs) / 1000) }, existing: (k: string) => this.holderOf(k, job, validArgs) } : {}),
    });
  }

  /**
   * A task's per-key limit: the caller's `concurrencyLimit`, which may lower the job's
   * `maxConcurrencyPerKey` but never raise it, or the job's.
   */
  private concurrencyLimitOf(job: string, key: string | undefined, limit: number | undefined): number | undefined {
    const jobLimit = this.catalogue.get(job).definition.maxConcurrencyPerKey;
    if (limit !== undefined && key === undefined) throw new ValidationError('options.concurrencyLimit', 'needs a "concurrencyKey" to count against');
    if (key === undefined) return undefined;
    if (limit !== undefined && jobLimit !== undefined && limit > jobLimit) {
      throw new ValidationError('options.concurrencyLimit', `${limit} is above job "${job}"'s maxConcurrencyPerKey of ${jobLimit}, which a caller cannot raise; pass ${jobLimit} or less, or raise it in the catalogue`);
    }
    const effective = limit ?? jobLimit;
    if (effective === undefined) throw new ValidationError('options.concurrencyKey', `has no limit to enforce; pass "concurrencyLimit" or set maxConcurrencyPerKey on job "${job}"`);
    return effective;
  }

  /** Refuses a job whose slot class has no queue in this deployment, when the deployment's queues are known. */
  private checkDeployed(job: string): void {
    const { slotClass } = this.catalogue.get(job).snapshot;
    const classes = Object.keys(this.services.config.queueUrls);
    if (classes.length > 0 && !classes.includes(slotClass)) throw new SlotClassUnavailableError(job, slotClass, classes);
  }

  /**
   * The task an idempotency key names, if the key is taken. The key stands for one request: the
   * same key with another job or other args is a conflict, not a silent hand-back of another task.
   */
  private async holderOf(key: string, job: string, args: unknown): Promise<TaskRecord | undefined> {
    const idem = await this.services.store.getIdem(key);
    if (!idem) return undefined;
    const existing = await this.services.store.get(idem.taskId);
    if (!existing) throw new ValidationError('options.idempotencyKey', `"${key}" was used by task ${idem.taskId}, whose record has expired; use a new key`);
    if (existing.job !== job || !isDeepStrictEqual(existing.args, args)) {
      const brief = (v: unknown) => {
        const json = JSON.stringify(v);
        return json.length > 120 ? `${json.slice(0, 117)}...` : json;
      };
      const what = existing.job !== job ? `job "${existing.job}"` : `other args`;
      throw new IdempotencyConflictError(
        key,
        existing.id,
        `"${key}" already names task ${existing.id} of job "${existing.job}" with args ${brief(existing.args)}; this call asked for job "${job}" with args ${brief(args)} (${what}). Use a different key for a different request, or the same job and args to get the existing task back`,
      );
    }
    return existing;
  }

  /**
   * Args in their canonical JSON form: checked as given, run through the job's schema, and the
   * schema's output checked again (a transform may produce a Date), so what the schema accepted is
   * exactly what is stored and what the job receives.
   */
  private validArgs(job: string, args: unknown): unknown {
    const schema = this.catalogue.get(job).definition.args;
    const given = checkArgs(args, this.maxArgsBytes);
    if (!schema) return given;
    // No args (undefined or null) reach the schema as undefined, and are stored as null.
    return checkArgs(parseWith(schema, given === null ? undefined : given, 'args'), this.maxArgsBytes);
  }

  /** Makes a held task due now. */
  async release(taskId: string): Promise<TaskRecord> {
    checkTaskId(taskId, 'taskId');
    const task = await this.get(taskId);
    if (!task.held || task.status !== 'pending') throw new ValidationError('taskId', `task ${taskId} is ${task.status}${task.held ? '' : ' and not held'}; only held pending tasks can be released`);
    const released = await this.services.store.releaseWaiting(task, this.now(), { held: true });
    if (!released) throw new ClaimConflictError(taskId, 'held');
    return released;
  }

  async get(taskId: string): Promise<TaskRecord> {
    checkTaskId(taskId, 'taskId');
    const task = await this.services.store.get(taskId);
    if (!task) throw new TaskNotFoundError(taskId);
    return task;
  }

  /**
   * Tasks newest first, by job (or across every catalogued job) and optionally by status. A page
   * has a cursor only when it is full and more tasks follow, so a page is never empty with a
   * cursor, and a loop may stop at the first page without one. With a status filter the listing
   * reads on through non-matching tasks until the page is full or the tasks run out.
   */
  async list(options: ListOptions = {}): Promise<TaskPage> {
    const o = parseWith(ListOptionsSchema, options, 'options');
    const limit = o.limit ?? 50;
    const jobs = o.job !== undefined ? [this.catalogue.get(o.job).snapshot.job] : [...this.catalogue.jobs.keys()];
    const wanted = (t: TaskRecord) => o.status === undefined || t.status === o.status;
    // Unfiltered, a page's worth (and one more, to know whether more follow); filtered, bigger chunks.
    const chunk = o.status === undefined ? limit : Math.max(limit, 200);
    const tasks: TaskRecord[] = [];
    let before = o.cursor !== undefined ? checkTaskId(o.cursor, 'options.cursor') : undefined;
    for (;;) {
      const found = (await Promise.all(jobs.map((job) => this.services.store.listTasks(job, chunk + 1, before))))
        .flat()
        .sort((x, y) => (x.id < y.id ? 1 : x.id > y.id ? -1 : 0))
        .slice(0, chunk + 1);
      const examined = found.slice(0, chunk);
      for (let i = 0; i < examined.length; i++) {
        const t = examined[i] as TaskRecord;
        if (!wanted(t)) continue;
        tasks.push(t);
        if (tasks.length === limit) {
          const more = found.length > i + 1;
          return more ? { tasks, cursor: t.id } : { tasks };
        }
      }
      if (found.length <= chunk) return { tasks };
      before = (examined[examined.length - 1] as TaskRecord).id;
    }
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
    const { timeoutMs, pollMs } = waitOptions(options);
    checkTaskId(taskId, 'taskId');
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const task = await this.get(taskId);
      if (isTerminal(task.status) && task.effectsDone) return task;
      if (this.now() >= deadline) throw new TaskTimeoutError(`task ${taskId} is still ${task.status} after ${timeoutMs} ms`);
      await this.clock.sleep(Math.min(pollMs, Math.max(1, deadline - this.now())));
    }
  }

  /**
   * One task's log with one GET (a ranged GET of its slice of a batch object, or its own object).
   * 'pending' while the task runs or its runner's upload is still due; 'lost' when the runner
   * never uploaded it (it died before its flush).
   */
  async readLog(taskOrId: string | TaskRecord): Promise<TaskLogRead> {
    const task = typeof taskOrId === 'string' ? await this.get(taskOrId) : taskOrId;
    return readTaskLog(this.services.clients.s3, this.services.config.bucket, task, { now: this.now() });
  }

  /** Waits for a task's log until it is available, lost or absent (or the timeout passes: 'pending'). */
  async waitForLog(taskId: string, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<TaskLogRead> {
    const { timeoutMs, pollMs } = waitOptions(options, { timeoutMs: 120_000, pollMs: 500 });
    checkTaskId(taskId, 'taskId');
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const read = await this.readLog(taskId);
      if (read.state !== 'pending' || this.now() >= deadline) return read;
      await this.clock.sleep(Math.min(pollMs, Math.max(1, deadline - this.now())));
    }
  }

  /** Whether a task scheduled with this idempotency key completed (remembered beyond the task's own retention). */
  async hasExecutedSuccessfully(idempotencyKey: string): Promise<boolean> {
    checkIdempotencyKey(idempotencyKey, 'idempotencyKey');
    const idem = await this.services.store.getIdem(idempotencyKey);
    if (!idem) return false;
    if (idem.outcome) return idem.outcome === 'completed';
    return (await this.services.store.get(idem.taskId))?.status === 'completed';
  }

  /** Gives a failed one-off task another attempt, due at `at` (default now). */
  async reschedule(taskId: string, options: { at?: Date | string | number } = {}): Promise<TaskRecord> {
    const opts = parseWith(ScheduleOptionsSchema.pick({ at: true }), options, 'options');
    const requested = opts.at !== undefined ? parseTime(opts.at, 'options.at') : undefined;
    const task = await this.get(taskId);
    if (task.status !== 'failed' || !task.effectsDone) throw new ValidationError('taskId', `task ${taskId} is ${task.status}; only failed tasks can be rescheduled`);
    if (task.scheduleId) throw new ValidationError('taskId', `task ${taskId} is an occurrence of schedule ${task.scheduleId}; it runs again on its schedule`);
    const now = this.now();
    const dueAt = Math.max(now, requested ?? now);
    const rescheduled = await this.services.store.reschedule(task, dueAt);
    if (task.idempotencyKey) await this.services.store.clearIdemOutcome(task.idempotencyKey, taskId);
    return rescheduled;
  }
}
