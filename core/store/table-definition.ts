import { CHECK_AT, INDEX, TTL_ATTRIBUTE } from '../model/keys';

/**
 * The table's shape in one place, read by the CDK construct and by code that creates tables
 * for tests, so the two cannot drift. Indexes are KEYS_ONLY or project only attributes that change
 * rarely: an update that touches no projected attribute costs no index write. In `sched`, the
 * token and `checkAt` change at claim, put-back and look-again time (one index write each); the
 * rest never change while the entry exists.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Non-key attributes copied into the index. */
  readonly include: readonly string[];
}

export const TABLE_INDEXES: readonly IndexDefinition[] = [
  { name: INDEX.sched.name, partitionKey: INDEX.sched.pk, sortKey: INDEX.sched.sk, include: ['slots', 'slotClass', 'token', CHECK_AT, 'expiresAt', 'maxConcurrency', 'concurrencyKey', 'concurrencyLimit', 'job'] },
  { name: INDEX.after.name, partitionKey: INDEX.after.pk, sortKey: INDEX.after.sk, include: [] },
];

export { TTL_ATTRIBUTE };

/**
 * Items name their kind in this attribute ('task', 'schedule', 'idem'; concurrency counters have
 * none). The status-event stream consumer and its event source filter select task items by it,
 * not by key format.
 */
export const ITEM_TYPE_ATTRIBUTE = 'type';
export const TASK_ITEM_TYPE = 'task';

/** The table's stream, when status events are on: both images, so a consumer sees each status change old -> new. */
export const STREAM_VIEW_TYPE = 'NEW_AND_OLD_IMAGES';
