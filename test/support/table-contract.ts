import { ClaimConflictError, IllegalTransitionError } from '../../core/errors';
import { DEFAULT_BACKOFF } from '../../core/model/backoff';
import { INDEX, newTaskId, newToken, taskKey } from '../../core/model/keys';
import type { TaskRecord } from '../../core/model/task';
import { ConditionFailed, TransactionCancelled, type Item, type Table } from '../../core/store/table';
import { TaskStore } from '../../core/store/task-store';

/**
 * One contract for both adapters of the Table port (in memory in the unit project, DynamoDB on the
 * local AWS in the integration project): the behaviours the protocol relies on, so the in-memory
 * twin the simulation runs on cannot drift from DynamoDB.
 */
export interface ContractSubject {
  readonly table: Table;
  /** Waits until `check` passes (indexes lag the table on both adapters). */
  eventually(check: () => Promise<void>): Promise<void>;
  cleanup(): Promise<void>;
}

const SHARDS = 2;

function task(overrides: Partial<TaskRecord> = {}): TaskRecord {
  const now = 1_800_000_000_000;
  return {
    id: newTaskId('contract-job', now),
    job: 'contract-job',
    slots: 1,
    slotClass: 'standard',
    maxExecutionMs: 60_000,
    maxAttempts: 2,
    backoff: DEFAULT_BACKOFF,
    retentionMs: 86_400_000,
    maxConcurrency: 0,
    args: { n: 1 },
    status: 'pending',
    dueAt: now,
    priority: 100,
    attempt: 1,
    token: newToken(),
    createdAt: now,
    ...overrides,
  };
}

export function describeTableContract(adapter: string, open: () => Promise<ContractSubject>): void {
  describe(`the Table port on ${adapter}`, () => {
    let subject: ContractSubject;
    let table: Table;
    let n = 0;
    const key = () => ({ pk: `contract#${++n}`, sk: 'item' });

    beforeAll(async () => {
      subject = await open();
      table = subject.table;
    });
    afterAll(() => subject.cleanup());

    it('writes a new item once: a second put-if-absent loses and hands back the item it found', async () => {
      const k = key();
      await table.put({ ...k, v: 1 }, { ifAbsent: true });
      const lost = await table.put({ ...k, v: 2 }, { ifAbsent: true }).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(ConditionFailed);
      expect((lost as ConditionFailed).item).toMatchObject({ v: 1 });
      expect(await table.get(k)).toMatchObject({ v: 1 });
    });

    it('applies a guarded update only while the guard holds, and a lost update hands back the old item', async () => {
      const k = key();
      await table.put({ ...k, status: 'pending', token: 'a' });
      const won = await table.update(k, { set: { status: 'queued', token: 'b' } }, { equals: { status: 'pending', token: 'a' } });
      expect(won).toMatchObject({ status: 'queued', token: 'b' });
      const lost = await table.update(k, { set: { status: 'running' } }, { equals: { status: 'pending', token: 'a' } }).catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(ConditionFailed);
      expect((lost as ConditionFailed).item).toMatchObject({ status: 'queued', token: 'b' });
      expect(await table.get(k)).toMatchObject({ status: 'queued' });
    });

    it('treats "one of" guards, exists and not-exists as DynamoDB does, and a lost guard on an absent item hands back nothing', async () => {
      const k = key();
      await table.put({ ...k, status: 'queued' });
      await expect(table.update(k, { set: { seen: true } }, { equals: { status: ['pending', 'queued'] }, notExists: ['gone'], exists: ['status'] })).resolves.toMatchObject({ seen: true });
      await expect(table.update(k, { set: { seen: false } }, { exists: ['missing'] })).rejects.toBeInstanceOf(ConditionFailed);
      const absent = await table.update(key(), { set: { v: 1 } }, { equals: { status: 'pending' } }).catch((e: unknown) => e);
      expect(absent).toBeInstanceOf(ConditionFailed);
      expect((absent as ConditionFailed).item).toBeUndefined();
    });

    it('creates the item on an unguarded update (upsert), and removes attributes', async () => {
      const k = key();
      await table.update(k, { set: { a: 1, b: 2 } }, {}, false);
      await table.update(k, { remove: ['b'] }, {}, false);
      const item = await table.get(k);
      expect(item).toMatchObject({ ...k, a: 1 });
      expect(item).not.toHaveProperty('b');
    });

    it('adds and deletes set members; removing the last member removes the attribute', async () => {
      const k = key();
      await table.update(k, { add: { holders: new Set(['x', 'y']) } }, {}, false);
      await table.update(k, { delete: { holders: new Set(['x']) } }, {}, false);
      expect([...((await table.get(k))?.holders as Set<string>)]).toEqual(['y']);
      await table.update(k, { delete: { holders: new Set(['y', 'never-there']) } }, {}, false);
      expect(await table.get(k)).not.toHaveProperty('holders');
    });

    it('appends to a list, creating it when absent, alongside other sets in one update', async () => {
      const k = key();
      await table.update(k, { set: { n: 1 }, append: { attempts: [{ attempt: 1, reason: 'timeout' }] } }, {}, false);
      await table.update(k, { set: { n: 2 }, append: { attempts: [{ attempt: 2, reason: 'error' }] } }, { equals: { n: 1 } }, false);
      const item = await table.get(k, true);
      expect(item?.n).toBe(2);
      expect(item?.attempts).toEqual([
        { attempt: 1, reason: 'timeout' },
        { attempt: 2, reason: 'error' },
      ]);
    });

    it('admits a set member only while the set has room or already holds it', async () => {
      const k = key();
      const join = (member: string) => table.update(k, { add: { holders: new Set([member]) } }, { setRoom: { attr: 'holders', limit: 2, member } }, false);
      await join('a');
      await join('b');
      await expect(join('c')).rejects.toBeInstanceOf(ConditionFailed);
      await expect(join('a')).resolves.toBeUndefined();
    });

    it('commits a transaction whole or not at all, naming the writes whose condition failed', async () => {
      const taken = key();
      const fresh = key();
      const guarded = key();
      await table.put({ ...taken, v: 'old' });
      await table.put({ ...guarded, status: 'running' });
      const lost = await table
        .transact([
          { put: { ...fresh, v: 'new' }, ifAbsent: true },
          { put: { ...taken, v: 'new' }, ifAbsent: true },
          { update: guarded, change: { set: { status: 'done' } }, guard: { equals: { status: 'pending' } } },
        ])
        .catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(TransactionCancelled);
      expect((lost as TransactionCancelled).failed).toEqual([false, true, true]);
      expect(await table.get(fresh)).toBeUndefined();
      expect(await table.get(taken)).toMatchObject({ v: 'old' });
      await table.transact([
        { put: { ...fresh, v: 'new' }, ifAbsent: true },
        { update: guarded, change: { set: { status: 'done' } }, guard: { equals: { status: 'running' } } },
      ]);
      expect(await table.get(fresh)).toMatchObject({ v: 'new' });
      expect(await table.get(guarded)).toMatchObject({ status: 'done' });
    });

    it('stores values as the document client marshals them: undefined dropped, class instances as maps', async () => {
      const k = key();
      await table.put({ ...k, keep: [1, undefined, 3], nested: { a: undefined, b: 'x' }, gone: undefined });
      const item = await table.get(k);
      expect(item).toEqual({ ...k, keep: [1, 3], nested: { b: 'x' } });
    });

    it('reads many items at once, skipping keys that do not exist', async () => {
      const a = key();
      const b = key();
      await table.put({ ...a, v: 'a' });
      await table.put({ ...b, v: 'b' });
      const items = await table.getMany([a, key(), b]);
      expect(items.map((i) => i.v).sort()).toEqual(['a', 'b']);
    });

    it('queries a partition in sort-key order, either way, below a bound, in pages', async () => {
      const pk = `contract-part#${++n}`;
      for (const sk of ['a', 'b', 'c', 'd', 'e']) await table.put({ pk, sk, v: sk });
      const down = await table.query({ pk, skBelow: 'e', ascending: false, limit: 2, consistent: true });
      expect(down.items.map((i) => i.sk)).toEqual(['d', 'c']);
      expect(down.next).toBeDefined();
      const rest = await table.query({ pk, skBelow: 'e', ascending: false, startKey: down.next as Item, consistent: true });
      expect(rest.items.map((i) => i.sk)).toEqual(['b', 'a']);
      expect(rest.next).toBeUndefined();
      const upTo = await table.query({ pk, skAtMost: 'b', consistent: true });
      expect(upTo.items.map((i) => i.sk)).toEqual(['a', 'b']);
    });

    it('keeps a sparse index: only items with its keys, only its projected attributes, and follows updates', async () => {
      const gsiPk = `contract-sched#${++n}`;
      const inIndex = key();
      const notInIndex = key();
      await table.put({ ...inIndex, [INDEX.sched.pk]: gsiPk, [INDEX.sched.sk]: '0001', token: 't1', args: { secret: true } });
      await table.put({ ...notInIndex, token: 't2' });
      await subject.eventually(async () => {
        const page = await table.query({ index: INDEX.sched.name, pk: gsiPk });
        expect(page.items).toHaveLength(1);
        expect(page.items[0]).toMatchObject({ ...inIndex, token: 't1' });
        expect(page.items[0]).not.toHaveProperty('args');
      });
      await table.update(inIndex, { remove: [INDEX.sched.pk, INDEX.sched.sk] }, {}, false);
      await subject.eventually(async () => {
        expect((await table.query({ index: INDEX.sched.name, pk: gsiPk })).items).toHaveLength(0);
      });
    });

    it('still reads an item whose ttl has passed until TTL deletes it (deletion is not immediate)', async () => {
      const k = key();
      await table.put({ ...k, ttl: 1 });
      expect(await table.get(k)).toMatchObject({ ttl: 1 });
    });

    describe('the task store over it', () => {
      let store: TaskStore;
      beforeAll(() => {
        store = new TaskStore(table, { tableName: 'contract', shards: SHARDS });
      });

      it('runs a task through create, claim, start, heartbeat, finish and settle, each fenced by its token', async () => {
        const t = task();
        await store.create(t);
        let entry: Awaited<ReturnType<TaskStore['queryDue']>>[number] | undefined;
        await subject.eventually(async () => {
          const due = (await Promise.all([0, 1].map((s) => store.queryDue('standard', s, t.dueAt)))).flat();
          entry = due.find((e) => e.id === t.id);
          expect(entry).toBeDefined();
        });
        const claim = await store.claim(entry!, t.dueAt, 5000);
        expect(claim).toBeDefined();
        // A second ticker with the same entry loses.
        expect(await store.claim(entry!, t.dueAt, 5000)).toBeUndefined();
        // A message with a stale token loses, and the conflict carries the item as found.
        const stale = await store.start(t.id, t.token, 'r1', t.dueAt, 1000).catch((e: unknown) => e);
        expect(stale).toBeInstanceOf(ClaimConflictError);
        expect((stale as ClaimConflictError).current).toMatchObject({ status: 'queued' });
        const running = await store.start(t.id, claim!.token, 'r1', t.dueAt + 10, 1000);
        expect(running).toMatchObject({ status: 'running', runnerId: 'r1', leaseUntil: t.dueAt + 1010 });
        await expect(store.heartbeat(t.id, claim!.token, t.dueAt + 500, 1000)).resolves.toEqual({ cancelRequested: false, leaseUntil: t.dueAt + 1500 });
        const ended = await store.end(running, { outcome: { status: 'completed', result: 42 }, now: t.dueAt + 900, graceMs: 100, nextRunAt: null });
        expect(ended).toMatchObject({ status: 'completed', result: 42, nextRunAt: null });
        await expect(store.heartbeat(t.id, claim!.token, t.dueAt + 950, 1000)).rejects.toBeInstanceOf(ClaimConflictError);
        expect(await store.settle(ended)).toMatchObject({ effectsDone: true });
        const item = await table.get(taskKey(t.id));
        expect(item).not.toHaveProperty(INDEX.sched.pk);
      });

      it('refuses a transition from a status it does not leave before any write', async () => {
        const t = task();
        await store.create(t);
        await expect(store.end(t, { outcome: { status: 'completed' }, now: t.dueAt, graceMs: 100 })).rejects.toBeInstanceOf(IllegalTransitionError);
        expect(await store.get(t.id)).toMatchObject({ status: 'pending' });
      });

      it('ends a task in one settled write only while no dependent has registered', async () => {
        const t = task({ status: 'pending' });
        await store.create(t);
        const dependent = task({ startAfter: t.id });
        await store.create(dependent, { markPredecessor: t });
        const marked = await store.mustGet(t.id);
        expect(marked.hasDependents).toBe(true);
        const lost = await store.end(marked, { outcome: { status: 'cancelled' }, now: t.dueAt, graceMs: 100, settled: true }).catch((e: unknown) => e);
        expect(lost).toBeInstanceOf(ClaimConflictError);
        await subject.eventually(async () => expect(await store.dependentsOf(t.id)).toEqual([dependent.id]));
      });

      it('takes concurrency slots with the claim, in one transaction, and gives them back idempotently', async () => {
        const job = `contract-conc-${++n}`;
        const a = task({ job, maxConcurrency: 1 });
        const b = task({ job, maxConcurrency: 1 });
        const entryOf = (x: TaskRecord) => ({ id: x.id, at: x.dueAt, sk: `${x.dueAt}`, token: x.token, job, slots: 1, slotClass: 'standard', maxConcurrency: 1 });
        // Written with the sort key the claim is fenced on.
        for (const x of [a, b]) await table.put({ ...taskKey(x.id), type: 'task', ...x, [INDEX.sched.pk]: 'p', [INDEX.sched.sk]: `${x.dueAt}` });
        expect(await store.claim(entryOf(a), a.dueAt, 1000)).toBeDefined();
        expect(await store.claim(entryOf(b), b.dueAt, 1000)).toBeUndefined();
        expect(await store.concurrencyHolders(`job#${job}`)).toEqual([a.id]);
        await store.releaseConcurrency(a);
        await store.releaseConcurrency(a);
        expect(await store.concurrencyHolders(`job#${job}`)).toEqual([]);
      });
    });
  });
}
