import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ClaimConflictError, TaskNotFoundError } from '../errors';
import { CHECK_AT, INDEX, TASK_SHARDS, afterPk, idOfSk, idemKey, newToken, parseTaskId, schedPk, taskIdOf, taskKey, tasksPk, timeOfSk, timeUpperBound } from '../model/keys';
import type { TaskRecord, TaskStatus } from '../model/task';
import { dueKeys, newTaskItem, recordOf, type Item, type Placement } from './task-item';
import { buildExpressions, type Change, type Guard } from './update-expression';

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

export const isConditionFailure = (err: unknown): boolean =>
  (err as { name?: string })?.name === 'ConditionalCheckFailedException' ||
  ((err as { name?: string })?.name === 'TransactionCanceledException' &&
    ((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed'));

export interface PutOptions {
  readonly idem?: { readonly key: string; readonly ttl: number };
  /** A task waiting on another: mark that one `hasDependents`, if it still matches `guard`. */
  readonly markPredecessor?: { readonly id: string; readonly guard: Guard };
  readonly placement?: Placement;
}

/** Which conditions of a put lost: the task id was taken, the idempotency key was, or the predecessor changed. */
export class PutConflict extends Error {
  constructor(readonly parts: { readonly task: boolean; readonly idem: boolean; readonly predecessor: boolean }) {
    super(`the write lost a condition: ${Object.entries(parts).filter(([, lost]) => lost).map(([part]) => part).join(', ') || 'unknown (a conflicting transaction was in flight)'}`);
  }
}

function putConflictOf(err: unknown, parts: { idem: boolean; predecessor: boolean }): PutConflict | undefined {
  const name = (err as { name?: string })?.name;
  if (name === 'ConditionalCheckFailedException') return new PutConflict({ task: true, idem: false, predecessor: false });
  if (name !== 'TransactionCanceledException') return undefined;
  // Reasons come in the order of the transaction's items: task, then IDEM, then predecessor.
  const codes = ((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code);
  const lost = (i: number) => codes[i] === 'ConditionalCheckFailed';
  return new PutConflict({ task: lost(0), idem: parts.idem && lost(1), predecessor: parts.predecessor && lost(parts.idem ? 2 : 1) });
}

/** Concurrency scopes a task counts against: its job's limit and its concurrency key's limit. */
export function concurrencyScopes(t: { job: string; maxConcurrency?: number; concurrencyKey?: string; concurrencyLimit?: number }): { scope: string; limit: number }[] {
  const scopes: { scope: string; limit: number }[] = [];
  if (t.maxConcurrency && t.maxConcurrency > 0) scopes.push({ scope: `job#${t.job}`, limit: t.maxConcurrency });
  if (t.concurrencyKey && t.concurrencyLimit && t.concurrencyLimit > 0) scopes.push({ scope: `key#${t.job}#${t.concurrencyKey}`, limit: t.concurrencyLimit });
  return scopes;
}

/**
 * DynamoDB access for tasks. Each state change is one conditional write fenced by status and
 * token; a lost condition surfaces as ClaimConflictError (or `undefined` where losing is normal).
 */
export class TaskStore {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly options: TaskStoreOptions,
  ) {}

  get tableName(): string {
    return this.options.tableName;
  }

  /**
   * Writes a new task, conditionally (a task id is written once). With an idempotency key, the
   * IDEM item is written in the same transaction; with `markPredecessor`, so is the predecessor's
   * `hasDependents` mark, on condition that it is still as the caller saw it. All or nothing:
   * a lost condition throws PutConflict saying which.
   */
  async put(task: TaskRecord, options: PutOptions = {}): Promise<void> {
    const putTask = {
      TableName: this.tableName,
      Item: newTaskItem(task, this.options.shards, options.placement),
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    const { idem, markPredecessor } = options;
    try {
      if (!idem && !markPredecessor) {
        await this.doc.send(new PutCommand(putTask));
        return;
      }
      const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [{ Put: putTask }];
      if (idem) {
        items.push({
          Put: {
            TableName: this.tableName,
            Item: { ...idemKey(idem.key), type: 'idem', taskId: task.id, createdAt: task.createdAt, ttl: idem.ttl },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      }
      if (markPredecessor) {
        const mark = buildExpressions({ set: { hasDependents: true } }, markPredecessor.guard);
        items.push({ Update: { TableName: this.tableName, Key: taskKey(markPredecessor.id), ...mark, UpdateExpression: mark.UpdateExpression as string } });
      }
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      throw putConflictOf(err, { idem: idem !== undefined, predecessor: markPredecessor !== undefined }) ?? err;
    }
  }

  async getIdem(key: string): Promise<{ taskId: string; outcome?: TaskStatus } | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: idemKey(key), ConsistentRead: true }));
    return res.Item as { taskId: string; outcome?: TaskStatus } | undefined;
  }

  /** Records the task's final outcome on its idempotency item (read by hasExecutedSuccessfully). */
  async recordIdemOutcome(key: string, taskId: string, outcome: TaskStatus, ttl: number): Promise<void> {
    await this.updateRaw(idemKey(key), { set: { outcome, ttl } }, { equals: { taskId } }).catch((err) => {
      if (!isConditionFailure(err)) throw err;
    });
  }

  async get(id: string, consistent = true): Promise<TaskRecord | undefined> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: taskKey(id), ConsistentRead: consistent }));
    return res.Item ? recordOf(res.Item) : undefined;
  }

  async mustGet(id: string): Promise<TaskRecord> {
    const task = await this.get(id);
    if (!task) throw new TaskNotFoundError(id);
    return task;
  }

  /** Reads many tasks at once (at most 100 per call to DynamoDB), returning them in the order asked. */
  async getMany(ids: readonly string[]): Promise<TaskRecord[]> {
    const found = new Map<string, TaskRecord>();
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = ids.slice(i, i + 100).map(taskKey);
      while (keys && keys.length) {
        const res = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }));
        for (const item of res.Responses?.[this.tableName] ?? []) found.set(String(item.id), recordOf(item));
        keys = res.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
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
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX.sched.name,
          KeyConditionExpression: '#pk = :pk AND #sk <= :upTo',
          ExpressionAttributeNames: { '#pk': INDEX.sched.pk, '#sk': INDEX.sched.sk },
          ExpressionAttributeValues: { ':pk': schedPk(slotClass, shard), ':upTo': timeUpperBound(upTo) },
          ExclusiveStartKey: startKey,
          ...(maxPending ? { Limit: maxPending - pending.length } : {}),
        }),
      );
      for (const item of res.Items ?? []) {
        const entry = schedEntryOf(item);
        (entry.checkAt === undefined ? pending : inFlight).push(entry);
      }
      startKey = res.LastEvaluatedKey;
    } while (startKey && (!maxPending || pending.length < maxPending));
    return { pending, inFlight };
  }

  /** Pending tasks of one sched partition due at or before `upTo`, oldest first. */
  async queryDue(slotClass: string, shard: number, upTo: number, maxPending?: number): Promise<SchedEntry[]> {
    return (await this.querySched(slotClass, shard, upTo, maxPending)).pending;
  }

  /**
   * Claims a due task: pending -> queued with a new token, its sched entry marked in flight (look
   * again after the dispatch window) without moving it: a changed index key would cost two index
   * writes, a changed projected attribute costs one. Also takes the task's concurrency slots, in the
   * same transaction. Returns undefined when another ticker won or a limit is full.
   */
  async claim(entry: SchedEntry, now: number, dispatchWindowMs: number): Promise<{ token: string } | undefined> {
    const token = newToken();
    const update = {
      TableName: this.tableName,
      Key: taskKey(entry.id),
      ...buildExpressions(
        { set: { status: 'queued', token, queuedAt: now, [CHECK_AT]: now + dispatchWindowMs } },
        { equals: { status: 'pending', token: entry.token, [INDEX.sched.sk]: entry.sk } },
      ),
    };
    const scopes = concurrencyScopes(entry);
    try {
      if (scopes.length === 0) await this.doc.send(new UpdateCommand(update));
      else
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: update as never },
              ...scopes.map(({ scope, limit }) => ({
                Update: {
                  TableName: this.tableName,
                  Key: { pk: `conc#${scope}`, sk: 'conc' },
                  UpdateExpression: 'ADD #holders :me',
                  ConditionExpression: 'attribute_not_exists(#holders) OR size(#holders) < :limit OR contains(#holders, :id)',
                  ExpressionAttributeNames: { '#holders': 'holders' },
                  ExpressionAttributeValues: { ':me': new Set([entry.id]), ':limit': limit, ':id': entry.id },
                },
              })),
            ],
          }),
        );
      return { token };
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  /** Gives back a finished task's concurrency slots. Idempotent: removing an absent member is a no-op. */
  async releaseConcurrency(task: TaskRecord): Promise<void> {
    for (const { scope } of concurrencyScopes(task)) {
      await this.updateRaw({ pk: `conc#${scope}`, sk: 'conc' }, { delete: { holders: new Set([task.id]) } }, {});
    }
  }

  async concurrencyHolders(scope: string): Promise<string[]> {
    const res = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `conc#${scope}`, sk: 'conc' }, ConsistentRead: true }));
    return [...((res.Item?.holders as Set<string> | undefined) ?? [])];
  }

  /** queued -> running for this runner, with a short lease. Throws ClaimConflictError on a stale token or duplicate delivery. */
  start(id: string, token: string, runnerId: string, now: number, leaseMs: number): Promise<TaskRecord> {
    return this.transition(id, { set: { status: 'running', runnerId, startedAt: now, leaseUntil: now + leaseMs } }, { equals: { status: 'queued', token } }, 'queued with that token');
  }

  /** Extends a running task's lease; the answer says whether a cancel was requested. */
  async heartbeat(id: string, token: string, now: number, leaseMs: number, progress?: TaskRecord['progress']): Promise<{ cancelRequested: boolean }> {
    const task = await this.transition(
      id,
      { set: { leaseUntil: now + leaseMs, ...(progress ? { progress } : {}) } },
      { equals: { status: 'running', token } },
      'running with that token',
    );
    return { cancelRequested: Boolean(task.cancelRequested) };
  }

  /**
   * Any status change fenced by the current status (one of) and token. A lost condition throws
   * ClaimConflictError carrying the item as the write found it, at no extra cost.
   */
  transition(id: string, change: Change, guard: Guard, expected: string): Promise<TaskRecord> {
    return this.doc
      .send(new UpdateCommand({ TableName: this.tableName, Key: taskKey(id), ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...buildExpressions(change, guard) }))
      .then(
        (res) => recordOf(res.Attributes as Item),
        (err) => {
          if (isConditionFailure(err)) {
            const old = (err as { Item?: Record<string, AttributeValue> }).Item;
            throw new ClaimConflictError(id, expected, old ? unmarshall(old) : undefined);
          }
          throw err;
        },
      );
  }

  /** Like transition, but a lost condition is an expected outcome and returns undefined. */
  async tryTransition(id: string, change: Change, guard: Guard): Promise<TaskRecord | undefined> {
    try {
      return await this.transition(id, change, guard, '');
    } catch (err) {
      if (err instanceof ClaimConflictError) return undefined;
      throw err;
    }
  }

  async updateRaw(key: Record<string, string>, change: Change, guard: Guard, returnValues: 'NONE' | 'ALL_NEW' = 'NONE'): Promise<Item | undefined> {
    const res = await this.doc.send(
      new UpdateCommand({ TableName: this.tableName, Key: key, ReturnValues: returnValues, ...buildExpressions(change, guard) }),
    );
    return res.Attributes;
  }

  /**
   * Back to pending with a new token, for claimed tasks no runner started in time. It keeps its
   * due time, and so its place in line ahead of tasks that fell due after it.
   */
  putBack(task: TaskRecord): Promise<TaskRecord | undefined> {
    return this.tryTransition(task.id, { set: { status: 'pending', token: newToken() }, remove: ['queuedAt', CHECK_AT] }, { equals: { status: 'queued', token: task.token } });
  }

  /** Moves an in-flight task's look-again time (for long runs whose lease is still valid). */
  lookAgainAt(task: TaskRecord, at: number): Promise<TaskRecord | undefined> {
    return this.tryTransition(task.id, { set: { [CHECK_AT]: at } }, { equals: { status: task.status, token: task.token } });
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
    const shards = Array.from({ length: TASK_SHARDS }, (_, shard) => ({ shard, queue: [] as TaskRecord[], next: undefined as Record<string, unknown> | undefined, done: false }));
    const fill = async (s: (typeof shards)[number]) => {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: beforeStem !== undefined ? 'pk = :pk AND sk < :before' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': tasksPk(job, s.shard), ...(beforeStem !== undefined ? { ':before': taskIdOf(beforeStem, job) } : {}) },
          ScanIndexForward: false,
          ExclusiveStartKey: s.next,
          Limit: chunk,
        }),
      );
      s.queue.push(...(res.Items ?? []).map(recordOf));
      s.next = res.LastEvaluatedKey;
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
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX.after.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': INDEX.after.pk },
          ExpressionAttributeValues: { ':pk': afterPk(predecessorId) },
          ExclusiveStartKey: startKey,
        }),
      );
      ids.push(...(res.Items ?? []).map((i) => String(i[INDEX.after.sk])));
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    return ids;
  }

  /** A waiting task becomes due (its predecessor completed, or a held task was released). */
  releaseWaiting(task: TaskRecord, now: number, guard: Guard): Promise<TaskRecord | undefined> {
    const dueAt = Math.max(task.dueAt, now);
    return this.tryTransition(
      task.id,
      { set: { dueAt, ...dueKeys({ ...task, dueAt }, this.options.shards) }, remove: ['gsi3pk', 'gsi3sk', 'held'] },
      { equals: { status: 'pending', token: task.token, ...guard.equals }, ...(guard.exists ? { exists: guard.exists } : {}) },
    );
  }
}

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
