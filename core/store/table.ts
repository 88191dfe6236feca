import type { Change, Guard } from './update-expression';

/**
 * The single-table port: the few operations the task and schedule stores need, with DynamoDB's
 * semantics (conditional writes, all-or-nothing transactions, sparse indexes that lag the table,
 * TTL). Two adapters implement it: DynamoDB (dynamo-table.ts) and in memory (memory-table.ts),
 * held together by one contract suite (test/contract/table-contract.ts).
 */
export type Item = Record<string, unknown>;

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** One write of a transaction. */
export type TableWrite =
  | { readonly put: Item; readonly ifAbsent?: boolean }
  | { readonly update: ItemKey; readonly change: Change; readonly guard: Guard };

export interface QueryRequest {
  /** An index name (see table-definition.ts), or the table itself when absent. */
  readonly index?: string;
  readonly pk: string;
  /** Sort keys at or below this one. */
  readonly skAtMost?: string;
  /** Sort keys strictly below this one. */
  readonly skBelow?: string;
  /** @default true (ascending) */
  readonly ascending?: boolean;
  readonly limit?: number;
  /** The `next` of the previous page. */
  readonly startKey?: Item;
  /** Index queries are always eventually consistent; table queries may be strong. */
  readonly consistent?: boolean;
}

export interface QueryPage {
  readonly items: Item[];
  /** Present when more may follow. */
  readonly next?: Item;
}

/** A conditional write's condition did not hold. `item` is the item as the write found it (undefined: absent). */
export class ConditionFailed extends Error {
  constructor(readonly item: Item | undefined) {
    super('the conditional write lost: the item did not match its condition');
    this.name = 'ConditionFailed';
  }
}

/** A transaction was cancelled. `failed[i]` is true when write i's condition did not hold; all false means a conflicting transaction was in flight. */
export class TransactionCancelled extends Error {
  constructor(readonly failed: readonly boolean[]) {
    super(`the transaction was cancelled: ${failed.some(Boolean) ? `conditions of writes ${failed.flatMap((f, i) => (f ? [i] : [])).join(', ')} did not hold` : 'a conflicting transaction was in flight'}`);
    this.name = 'TransactionCancelled';
  }
}

export const lostCondition = (err: unknown): boolean => err instanceof ConditionFailed || (err instanceof TransactionCancelled && err.failed.some(Boolean));

export interface Table {
  get(key: ItemKey, consistent?: boolean): Promise<Item | undefined>;
  /** Items of the keys that exist, in no particular order (eventually consistent). */
  getMany(keys: readonly ItemKey[]): Promise<Item[]>;
  /** Throws ConditionFailed when `ifAbsent` and the key is taken. */
  put(item: Item, options?: { readonly ifAbsent?: boolean }): Promise<void>;
  /** Applies `change` if `guard` holds, returning the new item (or nothing, with returnNew false). Throws ConditionFailed carrying the old item. */
  update(key: ItemKey, change: Change, guard: Guard, returnNew?: boolean): Promise<Item | undefined>;
  /** All writes or none. Throws TransactionCancelled. At most one write per item. */
  transact(writes: readonly TableWrite[]): Promise<void>;
  query(request: QueryRequest): Promise<QueryPage>;
}
