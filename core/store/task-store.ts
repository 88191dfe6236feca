import { ClaimConflictError, IllegalTransitionError, TaskNotFoundError } from '../errors';
import { CHECK_AT, INDEX, TASK_SHARDS, afterPk, concurrencyKey, idOfSk, idemKey, newToken, parseTaskId, schedPk, taskIdOf, taskKey, tasksPk, timeOfSk, timeUpperBound } from '../model/keys';
import type { TaskRecord, TaskStatus } from '../model/task';
import { ConditionFailed, TransactionCancelled, lostCondition, type Item, type Table, type TableWrite } from './table';
import { newTaskItem, recordOf, type Placement } from './task-item';
import { TRANSITIONS, endTransitionFor, type EndParams, type Seen, type TaskTransition } from './transitions';
import type { Guard } from './update-expression';

/** An entry of the sched index: enough to claim or inspect a task without reading it. */
export interface SchedEntry {
  readonly id: string;
  /** Where the entry sorts: the task's due time (for a task that ended unclaimed, possibly earlier). */
  readonly at: number;
  readonly sk: string;
  /** Present while the task is in flight (queued, running, or ended with follow-up pending): when the reaper should look at it again. */
  readonly checkAt?: number;
  readonly token: string;
  readonly job: string;
  readonly slots: number;
  readonly slotClass: string;
  readonly expiresAt?: number;
  readonly maxConcurrency?: number;
  readonly concurrencyKey?: string;
  readonly concurrencyLimit?: number;
}

export interface TaskStoreOptions {
  readonly tableName: string;
  readonly shards: number;
}

export interface PutOptions {
  readonly idem?: { readonly key: string; readonly ttl: number };
  /** A task waiting on another: mark that one `hasDependents`, if it still has the status and token seen. */
  readonly markPredecessor?: Seen;
  readonly placement?: Placement;
}

/** Which conditions of a put lost: the task id was taken, the idempotency key was, or the predecessor changed. */
export class PutConflict extends Error {
  constructor(readonly parts: { readonly task: boolean; readonly idem: boolean; readonly predecessor: boolean }) {
    super(`the write lost a condition: ${Object.entries(parts).filter(([, lost]) => lost).map(([part]) => part).join(', ') || 'unknown (a conflicting transaction was in flight)'}`);
  }
}

/** Concurrency scopes a task counts against: its job's limit and its concurrency key's limit. */
export function concurrencyScopes(t: { job: string; maxConcurrency?: number; concurrencyKey?: string; concurrencyLimit?: number }): { scope: string; limit: number }[] {
  const scopes: { scope: string; limit: number }[] = [];
  if (t.maxConcurrency && t.maxConcurrency > 0) scopes.push({ scope: `job#${t.job}`, limit: t.maxConcurrency });
  if (t.concurrencyKey && t.concurrencyLimit && t.concurrencyLimit > 0) scopes.push({ scope: `key#${t.job}#${t.concurrencyKey}`, limit: t.concurrencyLimit });
  return scopes;
}

const HOLDERS = 'holders';

/**
 * The task store: the named transitions of store/transitions.ts and the queries the protocol
 * needs, over the Table port (DynamoDB, or memory in the simulation). Each state change is one
 * conditional write fenced by status and token; a lost condition surfaces as ClaimConflictError
 * carrying the item as the write found it (or `undefined` where losing is normal).
 */
export class TaskStore {
  constructor(
    readonly table: Table,
    readonly options: TaskStoreOptions,
  ) {}

  get shards(): number {
    return this.options.shards;
  }

  /**
   * Applies a named transition to a task as the caller saw it. Throws IllegalTransitionError
   * (before any I/O) when the task is in a status the transition does not leave, and
   * ClaimConflictError when the write loses its fence.
   */
  async apply<P>(t: TaskTransition<P>, seen: TaskRecord, params: P): Promise<TaskRecord> {
    const { change, guard } = this.writeOf(t, seen, params);
    try {
      return recordOf((await this.table.update(taskKey(seen.id), change, guard)) as Item);
    } catch (err) {
      if (err instanceof ConditionFailed) throw new ClaimConflictError(seen.id, `${seen.status} with token ${seen.token} (${t.name}: ${t.fence})`, err.item);
      throw err;
    }
  }

  /** Like apply, but losing the fence is an expected outcome: undefined. */
  async tryApply<P>(t: TaskTransition<P>, seen: TaskRecord, params: P): Promise<TaskRecord | undefined> {
    try {
      return await this.apply(t, seen, params);
    } catch (err) {
      if (err instanceof ClaimConflictError) return undefined;
      throw err;
    }
  }

  private writeOf<P>(t: TaskTransition<P>, seen: TaskRecord, params: P): { change: Parameters<Table['update']>[1]; guard: Guard } {
    if (t.fencedBy === 'token' && !t.from.includes(seen.status)) throw new IllegalTransitionError(seen.status, `${t.to.join('/')} by ${t.name}`);
    const write = t.write(seen, params);
    const to = write.change.set?.status as TaskStatus | undefined;
    if (to !== undefined && !t.to.includes(to)) throw new IllegalTransitionError(seen.status, `${to} (${t.name} ends in ${t.to.join('/')})`);
    const extra = write.guard ?? {};
    const guard: Guard =
      t.fencedBy === 'token'
        ? { equals: { status: seen.status, token: seen.token, ...extra.equals }, ...(extra.exists ? { exists: extra.exists } : {}), ...(extra.notExists ? { notExists: extra.notExists } : {}) }
        : extra;
    return { change: write.change, guard };
  }

  /**
   * Writes a new task (create), conditionally: a task id is written once. With an idempotency key,
   * the IDEM item is written in the same transaction; with `markPredecessor`, so is the
   * predecessor's `hasDependents` mark (markDependents), on condition that it is still as the
   * caller saw it. All or nothing: a lost condition throws PutConflict saying which.
   */
  async create(task: TaskRecord, options: PutOptions = {}): Promise<void> {
    const item = newTaskItem(task, this.options.shards, options.placement);
    const { idem, markPredecessor } = options;
    try {
      if (!idem && !markPredecessor) {
        await this.table.put(item, { ifAbsent: true });
        return;
      }
      const writes: TableWrite[] = [{ put: item, ifAbsent: true }];
      if (idem) writes.push({ put: { ...idemKey(idem.key), type: 'idem', taskId: task.id, createdAt: task.createdAt, ttl: idem.ttl }, ifAbsent: true });
      if (markPredecessor) {
        const { change, guard } = this.writeOf(TRANSITIONS.markDependents, markPredecessor as TaskRecord, { dependentId: task.id });
        writes.push({ update: taskKey(markPredecessor.id), change, guard });
      }
      await this.table.transact(writes);
    } catch (err) {
      if (err instanceof ConditionFailed) throw new PutConflict({ task: true, idem: false, predecessor: false });
      if (err instanceof TransactionCancelled) {
        const lost = (i: number) => err.failed[i] === true;
        throw new PutConflict({ task: lost(0), idem: idem !== undefined && lost(1), predecessor: markPredecessor !== undefined && lost(idem ? 2 : 1) });
      }
      throw err;
    }
  }

  async getIdem(key: string): Promise<{ taskId: string; outcome?: TaskStatus } | undefined> {
    return (await this.table.get(idemKey(key), true)) as { taskId: string; outcome?: TaskStatus } | undefined;
  }

  /** Records the task's final outcome on its idempotency item (read by hasExecutedSuccessfully). Only the task the key names may. */
  async recordIdemOutcome(key: string, taskId: string, outcome: TaskStatus, ttl: number): Promise<void> {
    await this.table.update(idemKey(key), { set: { outcome, ttl } }, { equals: { taskId } }, false).catch(ignoreLost);
  }

  /** Forgets a recorded outcome (the task was rescheduled and will run again). */
  async clearIdemOutcome(key: string, taskId: string): Promise<void> {
    await this.table.update(idemKey(key), { remove: ['outcome'] }, { equals: { taskId } }, false).catch(ignoreLost);
  }

  async get(id: string, consistent = true): Promise<TaskRecord | undefined> {
    const item = await this.table.get(taskKey(id), consistent);
    return item ? recordOf(item) : undefined;
  }

  async mustGet(id: string): Promise<TaskRecord> {
    const task = await this.get(id);
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  /** Reads many tasks at once (eventually consistent), returning them in the order asked. */
  async getMany(ids: readonly string[]): Promise<TaskRecord[]> {
    const found = new Map((await this.table.getMany(ids.map(taskKey))).map((item) => [String(item.id), recordOf(item)]));
    return ids.flatMap((id) => (found.has(id) ? [found.get(id) as TaskRecord] : []));
  }

  /**
   * One sched partition up to `upTo`, oldest first: the pending tasks due by then (at most
   * `maxPending`, when given) and every in-flight entry among them. In-flight entries sort at
   * their due time, which is never after their claim, so they are read whatever the limit, unless
   * more than `maxPending` pending tasks sort before them.
   */
  async querySched(slotClass: string, shard: number, upTo: number, maxPending?: number): Promise<{ pending: SchedEntry[]; inFlight: SchedEntry[] }> {
    const pending: SchedEntry[] = [];
    const inFlight: SchedEntry[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.table.query({
        index: INDEX.sched.name,
        pk: schedPk(slotClass, shard),
        skAtMost: timeUpperBound(upTo),
        ...(startKey ? { startKey } : {}),
        ...(maxPending ? { limit: maxPending - pending.length } : {}),
      });
      for (const item of page.items) {
        const entry = schedEntryOf(item);
        (entry.checkAt === undefined ? pending : inFlight).push(entry);
      }
      startKey = page.next;
    } while (startKey && (!maxPending || pending.length < maxPending));
    return { pending, inFlight };
  }

  /** Pending tasks of one sched partition due at or before `upTo`, oldest first. */
  async queryDue(slotClass: string, shard: number, upTo: number, maxPending?: number): Promise<SchedEntry[]> {
    return (await this.querySched(slotClass, shard, upTo, maxPending)).pending;
  }

  /**
   * claim: pending -> queued with a new token, its sched entry marked in flight (look again after
   * the dispatch window) without moving it: a changed index key would cost two index writes, a
   * changed projected attribute costs one. Also takes the task's concurrency slots, in the same
   * transaction. Returns undefined when another ticker won or a limit is full.
   */
  async claim(entry: SchedEntry, now: number, dispatchWindowMs: number): Promise<{ token: string } | undefined> {
    const token = newToken();
    const seen = { id: entry.id, status: 'pending', token: entry.token } as TaskRecord;
    const { change, guard } = this.writeOf(TRANSITIONS.claim, seen, { now, dispatchWindowMs, entrySk: entry.sk, token });
    const scopes = concurrencyScopes(entry);
    try {
      if (scopes.length === 0) await this.table.update(taskKey(entry.id), change, guard, false);
      else
        await this.table.transact([
          { update: taskKey(entry.id), change, guard },
          ...scopes.map(({ scope, limit }) => ({
            update: concurrencyKey(scope),
            change: { add: { [HOLDERS]: new Set([entry.id]) } },
            // Under the limit, or already a holder (a claim retried after a put-back).
            guard: { setRoom: { attr: HOLDERS, limit, member: entry.id } },
          })),
        ]);
      return { token };
    } catch (err) {
      if (lostCondition(err)) return undefined;
      throw err;
    }
  }

  /** Gives back a finished task's concurrency slots. Idempotent: removing an absent member is a no-op. */
  async releaseConcurrency(task: TaskRecord): Promise<void> {
    for (const { scope } of concurrencyScopes(task)) await this.table.update(concurrencyKey(scope), { delete: { [HOLDERS]: new Set([task.id]) } }, {}, false);
  }

  async concurrencyHolders(scope: string): Promise<string[]> {
    const item = await this.table.get(concurrencyKey(scope), true);
    return [...((item?.[HOLDERS] as Set<string> | undefined) ?? [])];
  }

  /** start: queued -> running for this runner, with a short lease. Throws ClaimConflictError on a stale token or duplicate delivery. */
  start(id: string, token: string, runnerId: string, now: number, leaseMs: number): Promise<TaskRecord> {
    return this.apply(TRANSITIONS.start, { id, status: 'queued', token } as TaskRecord, { runnerId, now, leaseMs });
  }

  /** heartbeat: extends a running task's lease; the answer says whether a cancel was requested. */
  async heartbeat(id: string, token: string, now: number, leaseMs: number, progress?: TaskRecord['progress']): Promise<{ cancelRequested: boolean; leaseUntil: number }> {
    const task = await this.apply(TRANSITIONS.heartbeat, { id, status: 'running', token } as TaskRecord, { now, leaseMs, ...(progress ? { progress } : {}) });
    return { cancelRequested: Boolean(task.cancelRequested), leaseUntil: Number(task.leaseUntil) };
  }

  /** requestCancel: asks the runner of a running task to stop it. */
  requestCancel(task: TaskRecord): Promise<TaskRecord> {
    return this.apply(TRANSITIONS.requestCancel, task, undefined);
  }

  /**
   * putBack: claimed tasks no runner started in time go back to pending with a new token, keeping
   * their place in line. A pending task holds no concurrency slot, so the claim's slots are given
   * back in the same transaction: kept, they would block every other task of the scope while this
   * one waits its turn behind them.
   */
  async putBack(task: TaskRecord): Promise<TaskRecord | undefined> {
    const scopes = concurrencyScopes(task);
    if (scopes.length === 0) return this.tryApply(TRANSITIONS.putBack, task, undefined);
    const { change, guard } = this.writeOf(TRANSITIONS.putBack, task, undefined);
    try {
      await this.table.transact([{ update: taskKey(task.id), change, guard }, ...scopes.map(({ scope }) => ({ update: concurrencyKey(scope), change: { delete: { [HOLDERS]: new Set([task.id]) } }, guard: {} }))]);
    } catch (err) {
      if (lostCondition(err)) return undefined;
      throw err;
    }
    return this.get(task.id);
  }

  /** lookAgain: moves an in-flight task's look-again time (for long runs whose lease is still valid). */
  lookAgainAt(task: TaskRecord, at: number): Promise<TaskRecord | undefined> {
    return this.tryApply(TRANSITIONS.lookAgain, task, { at });
  }

  /** The terminal write of whichever ending fits (finish, cancel, expire, failDependent, invalid). */
  end(task: TaskRecord, params: Omit<EndParams, 'shards'>): Promise<TaskRecord> {
    return this.apply(endTransitionFor(task.status, params.outcome), task, { ...params, shards: this.options.shards });
  }

  /** retry: the next attempt of a failed task, pending after its backoff. */
  retry(task: TaskRecord, now: number): Promise<TaskRecord | undefined> {
    return this.tryApply(TRANSITIONS.retry, task, { now, shards: this.options.shards });
  }

  /** reschedule: a failed task's next attempt on request, due at `dueAt`. */
  reschedule(task: TaskRecord, dueAt: number): Promise<TaskRecord> {
    return this.apply(TRANSITIONS.reschedule, task, { dueAt, shards: this.options.shards });
  }

  /** settle: the follow-up work is done; the task leaves the sched index. */
  settle(task: TaskRecord): Promise<TaskRecord | undefined> {
    return this.tryApply(TRANSITIONS.settle, task, undefined);
  }

  /** release: a held task, or one whose predecessor completed, becomes due. */
  releaseWaiting(task: TaskRecord, now: number, because: { held: true } | { predecessor: string }): Promise<TaskRecord | undefined> {
    return this.tryApply(TRANSITIONS.release, task, { now, shards: this.options.shards, because });
  }

  /**
   * repair: gives an item too broken to be fenced a status and token, conditional on the sched
   * entry seen. Undefined when the item moved or is gone.
   */
  async repair(entry: Pick<SchedEntry, 'id' | 'sk'>, set: { status?: TaskStatus; token?: string }): Promise<TaskRecord | undefined> {
    const { change, guard } = this.writeOf(TRANSITIONS.repair, { id: entry.id } as TaskRecord, { entrySk: entry.sk, set });
    try {
      return recordOf((await this.table.update(taskKey(entry.id), change, guard)) as Item);
    } catch (err) {
      if (err instanceof ConditionFailed) return undefined;
      throw err;
    }
  }

  /**
   * Newest-first page of one job's tasks, merged over the job's task shards. `before` is the id of
   * the last task of the previous page (of any job). Each shard is read in small chunks and only
   * read further while its next task could still make the page, so a page of n reads about
   * n + 16 x (n / 16 + 2) items, not 16 x n.
   */
  async listTasks(job: string, limit: number, before?: string): Promise<TaskRecord[]> {
    const beforeStem = before === undefined ? undefined : (parseTaskId(before)?.stem ?? before);
    const chunk = Math.min(limit, Math.ceil(limit / TASK_SHARDS) + 2);
    const shards = Array.from({ length: TASK_SHARDS }, (_, shard) => ({ shard, queue: [] as TaskRecord[], next: undefined as Item | undefined, done: false }));
    const fill = async (s: (typeof shards)[number]) => {
      const page = await this.table.query({
        pk: tasksPk(job, s.shard),
        ...(beforeStem !== undefined ? { skBelow: taskIdOf(beforeStem, job) } : {}),
        ascending: false,
        limit: chunk,
        ...(s.next ? { startKey: s.next } : {}),
      });
      s.queue.push(...page.items.map(recordOf));
      s.next = page.next;
      s.done = s.next === undefined;
    };
    await Promise.all(shards.map(fill));
    const page: TaskRecord[] = [];
    while (page.length < limit) {
      // A shard that ran dry but has more must be read on before the newest head can be known.
      const dry = shards.filter((s) => s.queue.length === 0 && !s.done);
      if (dry.length > 0) {
        await Promise.all(dry.map(fill));
        continue;
      }
      let newest: (typeof shards)[number] | undefined;
      for (const s of shards) if (s.queue.length > 0 && (!newest || (s.queue[0] as TaskRecord).id > (newest.queue[0] as TaskRecord).id)) newest = s;
      if (!newest) break;
      page.push(newest.queue.shift() as TaskRecord);
    }
    return page;
  }

  /** Ids of tasks waiting for `predecessorId` to complete. */
  async dependentsOf(predecessorId: string): Promise<string[]> {
    const ids: string[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.table.query({ index: INDEX.after.name, pk: afterPk(predecessorId), ...(startKey ? { startKey } : {}) });
      ids.push(...page.items.map((i) => String(i[INDEX.after.sk])));
      startKey = page.next;
    } while (startKey);
    return ids;
  }
}

const ignoreLost = (err: unknown): void => {
  if (!lostCondition(err)) throw err;
};

function schedEntryOf(item: Item): SchedEntry {
  const sk = String(item[INDEX.sched.sk]);
  return {
    id: idOfSk(sk),
    at: timeOfSk(sk),
    sk,
    ...(typeof item[CHECK_AT] === 'number' ? { checkAt: item[CHECK_AT] } : {}),
    token: String(item.token),
    job: String(item.job),
    slots: Number(item.slots ?? 1),
    slotClass: String(item.slotClass),
    expiresAt: item.expiresAt as number | undefined,
    maxConcurrency: item.maxConcurrency as number | undefined,
    concurrencyKey: item.concurrencyKey as string | undefined,
    concurrencyLimit: item.concurrencyLimit as number | undefined,
  };
}
