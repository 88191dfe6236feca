import { TABLE_INDEXES, type IndexDefinition } from './table-definition';
import { ConditionFailed, TransactionCancelled, type Item, type ItemKey, type QueryPage, type QueryRequest, type Table, type TableWrite } from './table';
import type { Change, Guard } from './update-expression';

export interface MemoryTableOptions {
  /** The time that index propagation and TTL go by (epoch ms). */
  readonly now: () => number;
  /** How long each write takes to reach the indexes (called once per write, so it may vary). @default 0 */
  readonly indexLagMs?: () => number;
  /** How long after its `ttl` an item is deleted by `sweepExpired`. @default 0 */
  readonly ttlDelayMs?: number;
  /** Indexes (name, keys, projected attributes). @default the jobfleet table's (table-definition.ts) */
  readonly indexes?: readonly IndexDefinition[];
}

/** DynamoDB refused the request as malformed (what the real service would answer with a ValidationException). */
export class MemoryTableValidationError extends Error {
  override readonly name = 'ValidationException';
}

interface IndexEntry {
  readonly sk: string;
  readonly tableKey: string;
  readonly item: Item;
}

interface PendingIndexChange {
  readonly visibleAt: number;
  readonly seq: number;
  readonly index: IndexDefinition;
  readonly tableKey: string;
  /** The entry's projection after the write, or undefined when the item left the index. */
  readonly projection: { readonly pk: string; readonly sk: string; readonly item: Item } | undefined;
}

const MAX_DEPTH = 32;

/**
 * The Table port in memory, faithful to what the protocol relies on: conditional writes that
 * hand back the item they lost on, all-or-nothing transactions with per-write reasons, sparse
 * indexes that project only their attributes and lag the table by a configurable delay (per
 * item in write order), TTL deletion that happens some time after expiry, and values copied
 * on the way in and out as the document client marshals them (undefined dropped, class
 * instances as maps, no NaN). Single-threaded, so each call is atomic.
 */
export class MemoryTable implements Table {
  private readonly partitions = new Map<string, Map<string, Item>>();
  private readonly indexes: readonly IndexDefinition[];
  private readonly indexData = new Map<string, Map<string, IndexEntry[]>>();
  /** Where each item currently sits in each index (index name -> table key -> index pk/sk). */
  private readonly placed = new Map<string, Map<string, { pk: string; sk: string }>>();
  private readonly lastVisible = new Map<string, number>();
  /** Index changes not visible yet: a min-heap by (visibleAt, seq). Per item, visibleAt never decreases, so each item's changes apply in write order. */
  private pending: PendingIndexChange[] = [];
  private seq = 0;
  /** Writes that succeeded, and conditional writes that lost (for the simulation's statistics). */
  readonly stats = { writes: 0, lostConditions: 0, reads: 0, queries: 0 };

  constructor(private readonly options: MemoryTableOptions) {
    this.indexes = options.indexes ?? TABLE_INDEXES;
    for (const index of this.indexes) {
      this.indexData.set(index.name, new Map());
      this.placed.set(index.name, new Map());
    }
  }

  // Single-threaded: every read sees every write, consistent or not.
  async get(key: ItemKey, _consistent?: boolean): Promise<Item | undefined> {
    this.stats.reads++;
    const item = this.partitions.get(key.pk)?.get(key.sk);
    return item ? copy(item) : undefined;
  }

  async getMany(keys: readonly ItemKey[]): Promise<Item[]> {
    this.stats.reads += keys.length;
    const out: Item[] = [];
    for (const key of keys) {
      const item = this.partitions.get(key.pk)?.get(key.sk);
      if (item) out.push(copy(item));
    }
    return out;
  }

  async put(item: Item, options: { ifAbsent?: boolean } = {}): Promise<void> {
    const stored = stored_(item);
    const key = keyOf(stored);
    const old = this.partitions.get(key.pk)?.get(key.sk);
    if (options.ifAbsent && old) {
      this.stats.lostConditions++;
      throw new ConditionFailed(copy(old));
    }
    this.write(key, stored);
  }

  async update(key: ItemKey, change: Change, guard: Guard, returnNew = true): Promise<Item | undefined> {
    const old = this.partitions.get(key.pk)?.get(key.sk);
    if (!holds(old, guard)) {
      this.stats.lostConditions++;
      throw new ConditionFailed(old ? copy(old) : undefined);
    }
    const next = applyChange(old, key, change);
    this.write(key, next);
    return returnNew ? copy(next) : undefined;
  }

  async transact(writes: readonly TableWrite[]): Promise<void> {
    if (writes.length === 0 || writes.length > 100) throw new MemoryTableValidationError(`a transaction holds 1 to 100 writes, not ${writes.length}`);
    const keys = writes.map((w) => ('put' in w ? keyOf(w.put) : w.update));
    if (new Set(keys.map(tableKeyOf)).size !== keys.length) throw new MemoryTableValidationError('a transaction cannot include more than one write to the same item');
    const failed = writes.map((w, i) => {
      const old = this.partitions.get(keys[i]!.pk)?.get(keys[i]!.sk);
      return 'put' in w ? Boolean(w.ifAbsent && old) : !holds(old, w.guard);
    });
    if (failed.some(Boolean)) {
      this.stats.lostConditions++;
      throw new TransactionCancelled(failed);
    }
    // Every value is checked before anything is written, so a malformed one writes nothing.
    const results = writes.map((w, i) => ('put' in w ? stored_(w.put) : applyChange(this.partitions.get(keys[i]!.pk)?.get(keys[i]!.sk), keys[i]!, w.change)));
    results.forEach((item, i) => this.write(keys[i]!, item));
  }

  async query(request: QueryRequest): Promise<QueryPage> {
    this.stats.queries++;
    const entries = request.index === undefined ? this.tableEntries(request.pk) : this.indexEntries(request.index, request.pk);
    const ascending = request.ascending ?? true;
    const inRange = (sk: string) => (request.skAtMost !== undefined ? sk <= request.skAtMost : request.skBelow !== undefined ? sk < request.skBelow : true);
    const ordered = ascending ? entries : [...entries].reverse();
    const after = request.startKey ? positionOf(request.startKey, request.index, this.indexes) : undefined;
    const items: Item[] = [];
    let last: IndexEntry | undefined;
    for (const entry of ordered) {
      if (!inRange(entry.sk)) continue;
      if (after && (ascending ? compareEntry(entry, after) <= 0 : compareEntry(entry, after) >= 0)) continue;
      if (request.limit !== undefined && items.length >= request.limit) break;
      // Index projections hold only keys and scalar attributes: a shallow copy is a full one.
      items.push(request.index === undefined ? copy(entry.item) : { ...entry.item });
      last = entry;
    }
    // Like DynamoDB, a page that reached its limit says more may follow, even when none does.
    const full = request.limit !== undefined && items.length >= request.limit && last !== undefined;
    return { items, ...(full ? { next: startKeyOf(last as IndexEntry, request.index, this.indexes) } : {}) };
  }

  /** Deletes the items whose `ttl` (epoch seconds) passed at least `ttlDelayMs` ago, as DynamoDB's TTL eventually does. Returns how many. */
  sweepExpired(): number {
    const cutoff = this.options.now() - (this.options.ttlDelayMs ?? 0);
    let deleted = 0;
    for (const partition of this.partitions.values()) {
      for (const item of [...partition.values()]) {
        if (typeof item.ttl === 'number' && item.ttl * 1000 <= cutoff) {
          this.write(keyOf(item), undefined);
          deleted++;
        }
      }
    }
    return deleted;
  }

  /** One item as stored, without copying, for invariant checks (not part of the port). */
  peek(key: ItemKey): Item | undefined {
    return this.partitions.get(key.pk)?.get(key.sk);
  }

  /** Every item, for invariant checks (not part of the port). */
  *allItems(): Iterable<Item> {
    for (const partition of this.partitions.values()) yield* partition.values();
  }

  private write(key: ItemKey, item: Item | undefined): void {
    this.stats.writes++;
    let partition = this.partitions.get(key.pk);
    if (item) {
      if (!partition) this.partitions.set(key.pk, (partition = new Map()));
      partition.set(key.sk, item);
    } else partition?.delete(key.sk);
    const tableKey = tableKeyOf(key);
    const now = this.options.now();
    const visibleAt = Math.max(now + Math.max(0, this.options.indexLagMs?.() ?? 0), this.lastVisible.get(tableKey) ?? 0);
    for (const index of this.indexes) {
      const pk = item?.[index.partitionKey];
      const sk = item?.[index.sortKey];
      const projection = typeof pk === 'string' && typeof sk === 'string' ? { pk, sk, item: project(item as Item, index) } : undefined;
      heapPush(this.pending, { visibleAt, seq: this.seq++, index, tableKey, projection });
    }
    this.lastVisible.set(tableKey, visibleAt);
    if (visibleAt <= now) this.propagate(now);
  }

  /** Applies the index changes whose time has come. */
  private propagate(now: number): void {
    while (this.pending.length > 0 && (this.pending[0] as PendingIndexChange).visibleAt <= now) {
      const change = heapPop(this.pending) as PendingIndexChange;
      const placed = this.placed.get(change.index.name) as Map<string, { pk: string; sk: string }>;
      const data = this.indexData.get(change.index.name) as Map<string, IndexEntry[]>;
      const was = placed.get(change.tableKey);
      if (was) {
        const list = data.get(was.pk) ?? [];
        const at = findEntry(list, was.sk, change.tableKey);
        if (at >= 0) list.splice(at, 1);
        if (list.length === 0) data.delete(was.pk);
        placed.delete(change.tableKey);
      }
      if (change.projection) {
        const { pk, sk, item } = change.projection;
        let list = data.get(pk);
        if (!list) data.set(pk, (list = []));
        const entry = { sk, tableKey: change.tableKey, item };
        list.splice(insertionPoint(list, entry), 0, entry);
        placed.set(change.tableKey, { pk, sk });
      }
    }
  }

  private indexEntries(name: string, pk: string): readonly IndexEntry[] {
    if (!this.indexData.has(name)) throw new MemoryTableValidationError(`the table has no index "${name}"`);
    this.propagate(this.options.now());
    return this.indexData.get(name)?.get(pk) ?? [];
  }

  private tableEntries(pk: string): IndexEntry[] {
    const partition = this.partitions.get(pk);
    if (!partition) return [];
    return [...partition.entries()].map(([sk, item]) => ({ sk, tableKey: tableKeyOf({ pk, sk }), item })).sort(compareEntry);
  }
}

const tableKeyOf = (key: ItemKey): string => `${key.pk}\u0000${key.sk}`;

function keyOf(item: Item): ItemKey {
  if (typeof item.pk !== 'string' || typeof item.sk !== 'string' || item.pk === '' || item.sk === '') throw new MemoryTableValidationError('an item needs non-empty string pk and sk');
  return { pk: item.pk, sk: item.sk };
}

function compareEntry(a: Pick<IndexEntry, 'sk' | 'tableKey'>, b: Pick<IndexEntry, 'sk' | 'tableKey'>): number {
  return a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : a.tableKey < b.tableKey ? -1 : a.tableKey > b.tableKey ? 1 : 0;
}

function insertionPoint(list: readonly IndexEntry[], entry: IndexEntry): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareEntry(list[mid] as IndexEntry, entry) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function findEntry(list: readonly IndexEntry[], sk: string, tableKey: string): number {
  const at = insertionPoint(list, { sk, tableKey, item: {} });
  return list[at]?.sk === sk && list[at]?.tableKey === tableKey ? at : -1;
}

function project(item: Item, index: IndexDefinition): Item {
  const out: Item = { pk: item.pk, sk: item.sk, [index.partitionKey]: item[index.partitionKey], [index.sortKey]: item[index.sortKey] };
  for (const attr of index.include) if (item[attr] !== undefined) out[attr] = item[attr];
  return out;
}

function startKeyOf(entry: IndexEntry, index: string | undefined, indexes: readonly IndexDefinition[]): Item {
  const def = indexes.find((i) => i.name === index);
  return { pk: entry.item.pk, sk: entry.item.sk, ...(def ? { [def.partitionKey]: entry.item[def.partitionKey], [def.sortKey]: entry.sk } : {}) };
}

function positionOf(startKey: Item, index: string | undefined, indexes: readonly IndexDefinition[]): Pick<IndexEntry, 'sk' | 'tableKey'> {
  const def = indexes.find((i) => i.name === index);
  const tableKey = tableKeyOf({ pk: String(startKey.pk), sk: String(startKey.sk) });
  return { sk: String(def ? startKey[def.sortKey] : startKey.sk), tableKey };
}

/** Whether the item (undefined: absent) satisfies the guard, as DynamoDB evaluates the condition the guard builds. */
function holds(item: Item | undefined, guard: Guard): boolean {
  for (const [attr, wanted] of Object.entries(guard.equals ?? {})) {
    const actual = item?.[attr];
    if (actual === undefined) return false;
    if (Array.isArray(wanted) ? !wanted.some((w) => same(actual, w)) : !same(actual, wanted)) return false;
  }
  for (const attr of guard.exists ?? []) if (item?.[attr] === undefined) return false;
  for (const attr of guard.notExists ?? []) if (item !== undefined && item[attr] !== undefined) return false;
  if (guard.setRoom) {
    const set = item?.[guard.setRoom.attr];
    if (set instanceof Set && set.size >= guard.setRoom.limit && !set.has(guard.setRoom.member)) return false;
  }
  return true;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(copyValue(a, 0, 'value')) === JSON.stringify(copyValue(b, 0, 'value'));
}

function applyChange(old: Item | undefined, key: ItemKey, change: Change): Item {
  const next: Item = old ? { ...old } : { pk: key.pk, sk: key.sk };
  for (const [attr, value] of Object.entries(change.set ?? {})) {
    if (attr === 'pk' || attr === 'sk') throw new MemoryTableValidationError(`cannot update the key attribute ${attr}`);
    const v = copyValue(value, 0, attr);
    if (v === undefined) throw new MemoryTableValidationError(`${attr}: an expression value cannot be undefined`);
    next[attr] = v;
  }
  for (const [attr, values] of Object.entries(change.append ?? {})) {
    const current = next[attr];
    if (current !== undefined && !Array.isArray(current)) throw new MemoryTableValidationError(`${attr}: list_append to a non-list`);
    next[attr] = [...((current as unknown[] | undefined) ?? []), ...(copyValue([...values], 0, attr) as unknown[])];
  }
  for (const attr of change.remove ?? []) delete next[attr];
  for (const [attr, value] of Object.entries(change.add ?? {})) {
    const current = next[attr];
    if (typeof value === 'number') {
      if (current !== undefined && typeof current !== 'number') throw new MemoryTableValidationError(`${attr}: ADD of a number to a non-number`);
      next[attr] = (typeof current === 'number' ? current : 0) + value;
    } else if (value instanceof Set) {
      if (current !== undefined && !(current instanceof Set)) throw new MemoryTableValidationError(`${attr}: ADD of a set to a non-set`);
      next[attr] = new Set([...((current as Set<unknown> | undefined) ?? []), ...value]);
    } else throw new MemoryTableValidationError(`${attr}: ADD takes a number or a set`);
  }
  for (const [attr, value] of Object.entries(change.delete ?? {})) {
    const current = next[attr];
    if (!(value instanceof Set)) throw new MemoryTableValidationError(`${attr}: DELETE takes a set`);
    if (current === undefined) continue;
    if (!(current instanceof Set)) throw new MemoryTableValidationError(`${attr}: DELETE from a non-set`);
    const left = new Set([...current].filter((m) => !value.has(m)));
    // DynamoDB has no empty sets: removing the last member removes the attribute.
    if (left.size === 0) delete next[attr];
    else next[attr] = left;
  }
  return next;
}

/** An item as the document client would store it. */
function stored_(item: Item): Item {
  return copyValue(item, 0, '(item)') as Item;
}

function copy(item: Item): Item {
  return copyValue(item, 0, '(item)') as Item;
}

/** A deep copy in DynamoDB's value model: undefined dropped (removeUndefinedValues), class instances as maps (convertClassInstanceToMap), NaN and Infinity refused. */
function copyValue(value: unknown, depth: number, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new MemoryTableValidationError(`${path}: ${value} is not a number DynamoDB can store`);
    return value;
  }
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value;
  if (depth > MAX_DEPTH) throw new MemoryTableValidationError(`${path}: nested deeper than DynamoDB's ${MAX_DEPTH} levels`);
  if (value instanceof Set) {
    if (value.size === 0) throw new MemoryTableValidationError(`${path}: DynamoDB has no empty sets`);
    return new Set(value);
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const c = copyValue(v, depth + 1, path);
      if (c !== undefined) out.push(c);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const c = copyValue(v, depth + 1, `${path}.${k}`);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

const earlier = (a: PendingIndexChange, b: PendingIndexChange): boolean => a.visibleAt < b.visibleAt || (a.visibleAt === b.visibleAt && a.seq < b.seq);

function heapPush(h: PendingIndexChange[], e: PendingIndexChange): void {
  h.push(e);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (earlier(h[p] as PendingIndexChange, e)) break;
    h[i] = h[p] as PendingIndexChange;
    i = p;
  }
  h[i] = e;
}

function heapPop(h: PendingIndexChange[]): PendingIndexChange | undefined {
  const top = h[0];
  const last = h.pop() as PendingIndexChange;
  if (h.length === 0 || top === undefined) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    let best = last;
    if (l < h.length && earlier(h[l] as PendingIndexChange, best)) {
      m = l;
      best = h[l] as PendingIndexChange;
    }
    if (r < h.length && earlier(h[r] as PendingIndexChange, best)) m = r;
    if (m === i) break;
    h[i] = h[m] as PendingIndexChange;
    i = m;
  }
  h[i] = last;
  return top;
}
