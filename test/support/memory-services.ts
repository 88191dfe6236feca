import type { Clock } from '../../core/clock';
import type { LifecycleDeps } from '../../core/lifecycle/finish';
import { shardOf } from '../../core/model/keys';
import type { TaskRecord } from '../../core/model/task';
import { MemoryTable } from '../../core/store/memory-table';
import { ScheduleStore } from '../../core/store/schedule-store';
import type { Item, ItemKey, QueryRequest, Table, TableWrite } from '../../core/store/table';
import { TaskStore } from '../../core/store/task-store';
import type { Change, Guard } from '../../core/store/update-expression';

/**
 * The in-memory table behind a switchable network: while `cut`, every call hangs (a black-holed
 * endpoint: nothing reaches the table); `heal()` lets calls through again and fails the hung
 * ones, as their connections would.
 */
export class PartitionableTable implements Table {
  cut = false;
  readonly hung: string[] = [];
  private readonly waiting: ((err: Error) => void)[] = [];

  constructor(private readonly inner: Table) {}

  heal(): void {
    this.cut = false;
    for (const fail of this.waiting.splice(0)) fail(new Error('connection reset'));
  }

  private call<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (!this.cut) return fn();
    this.hung.push(name);
    return new Promise<T>((_resolve, reject) => this.waiting.push(reject));
  }

  get(key: ItemKey, consistent?: boolean): Promise<Item | undefined> {
    return this.call('get', () => this.inner.get(key, consistent));
  }
  getMany(keys: readonly ItemKey[]): Promise<Item[]> {
    return this.call('getMany', () => this.inner.getMany(keys));
  }
  put(item: Item, options?: { readonly ifAbsent?: boolean }): Promise<void> {
    return this.call('put', () => this.inner.put(item, options));
  }
  update(key: ItemKey, change: Change, guard: Guard, returnNew?: boolean): Promise<Item | undefined> {
    return this.call('update', () => this.inner.update(key, change, guard, returnNew));
  }
  transact(writes: readonly TableWrite[]): Promise<void> {
    return this.call('transact', () => this.inner.transact(writes));
  }
  query(request: QueryRequest): Promise<QueryPage> {
    return this.call('query', () => this.inner.query(request));
  }
}

type QueryPage = Awaited<ReturnType<Table['query']>>;

export interface MemoryServices {
  readonly lifecycle: LifecycleDeps;
  readonly table: PartitionableTable;
  /** The table behind the network: its counts of writes, reads and lost conditions. */
  readonly memory: MemoryTable;
  /** What the ticker and a runner's start write do: claims `task` (pending and due) and starts it for `runnerId`. */
  startTask(task: TaskRecord, runnerId: string, leaseMs: number): Promise<TaskRecord>;
}

/** The lifecycle's dependencies on the in-memory store, on `clock`. */
export function memoryServices(clock: Clock, options: { shards?: number; graceMs?: number } = {}): MemoryServices {
  const shards = options.shards ?? 4;
  const memory = new MemoryTable({ now: () => clock.now() });
  const table = new PartitionableTable(memory);
  const storeOptions = { tableName: 'memory', shards };
  const lifecycle: LifecycleDeps = {
    store: new TaskStore(table, storeOptions),
    schedules: new ScheduleStore(table, storeOptions),
    shards,
    graceMs: options.graceMs ?? 500,
    clock,
  };
  return {
    lifecycle,
    table,
    memory,
    async startTask(task, runnerId, leaseMs) {
      const { store } = lifecycle;
      await store.create(task);
      const entry = (await store.queryDue(task.slotClass, shardOf(task.id, shards), clock.now())).find((e) => e.id === task.id);
      if (!entry) throw new Error(`task ${task.id} is not due`);
      const claim = await store.claim(entry, clock.now(), 60_000);
      if (!claim) throw new Error(`could not claim ${task.id}`);
      return store.start(task.id, claim.token, runnerId, clock.now(), leaseMs);
    },
  };
}
