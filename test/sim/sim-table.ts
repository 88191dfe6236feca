import type { MemoryTable } from '../../core/store/memory-table';
import type { Item, ItemKey, QueryRequest, Table, TableWrite } from '../../core/store/table';
import type { Change, Guard } from '../../core/store/update-expression';
import type { SimProcess } from './world';

/**
 * One process's connection to the shared in-memory table: every call crosses the simulated
 * network (latency, throttling, lost answers, partitions, timeouts) and is applied at one instant.
 */
export class SimTable implements Table {
  constructor(
    private readonly table: MemoryTable,
    private readonly proc: SimProcess,
  ) {}

  private call<T>(label: string, detail: string, apply: () => Promise<T>): Promise<T> {
    return this.proc.call(label, () => {
      this.proc.world.trace(this.proc.name, `ddb.${label} ${detail}`);
      return apply();
    });
  }

  get(key: ItemKey, consistent?: boolean): Promise<Item | undefined> {
    return this.call('get', key.sk, () => this.table.get(key, consistent));
  }

  getMany(keys: readonly ItemKey[]): Promise<Item[]> {
    return this.call('getMany', `${keys.length} keys`, () => this.table.getMany(keys));
  }

  put(item: Item, options?: { ifAbsent?: boolean }): Promise<void> {
    return this.call('put', `${String(item.sk)} ${String(item.status ?? '')}`, () => this.table.put(item, options));
  }

  update(key: ItemKey, change: Change, guard: Guard, returnNew?: boolean): Promise<Item | undefined> {
    const to = change.set?.status ? ` -> ${String(change.set.status)}` : '';
    return this.call('update', `${key.sk}${to} if ${JSON.stringify(guard.equals ?? {})}`, () => this.table.update(key, change, guard, returnNew));
  }

  transact(writes: readonly TableWrite[]): Promise<void> {
    return this.call('transact', writes.map((w) => ('put' in w ? `put ${String(w.put.sk)}` : `update ${w.update.sk}`)).join(', '), () => this.table.transact(writes));
  }

  query(request: QueryRequest): Promise<{ items: Item[]; next?: Item }> {
    return this.call('query', `${request.index ?? 'table'} ${request.pk}`, () => this.table.query(request));
  }
}
