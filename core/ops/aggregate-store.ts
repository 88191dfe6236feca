import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildExpressions } from '../store/update-expression';
import { BUCKET_MS, COUNTERS, type AggregateBucket, type AggregateDelta, type Counter } from './aggregates';

/** Aggregate items live in the tasks table: `agg#<job>` / `<bucket start, 13 digits>`, type 'agg'. */
export const AGGREGATE_ITEM_TYPE = 'agg';
export const aggregatePk = (job: string) => `agg#${job}`;
const bucketSk = (bucket: number) => String(Math.max(0, Math.floor(bucket))).padStart(13, '0');

/** Kept a week after their bucket ends (the overview shows a day). */
export const AGGREGATE_RETENTION_MS = 7 * 86_400_000;

/**
 * Reads and writes the per-job, per-bucket aggregates. One delta is one UpdateItem of ADDs on a
 * small item with no index attribute: 1 write unit, whatever it adds.
 */
export class AggregateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(delta: AggregateDelta): Promise<void> {
    const add: Record<string, number> = {};
    for (const [c, n] of Object.entries(delta.counts)) if (n) add[`c_${c}`] = n;
    for (const [i, n] of Object.entries(delta.lateness)) if (n) add[`l_${i}`] = n;
    for (const [r, n] of Object.entries(delta.reasons)) if (n) add[`r_${r}`] = n;
    if (Object.keys(add).length === 0) return;
    const ttl = Math.ceil((delta.bucket + BUCKET_MS + AGGREGATE_RETENTION_MS) / 1000);
    const expr = buildExpressions({ set: { type: AGGREGATE_ITEM_TYPE, job: delta.job, bucket: delta.bucket, ttl }, add }, {});
    await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: { pk: aggregatePk(delta.job), sk: bucketSk(delta.bucket) }, ...expr, UpdateExpression: expr.UpdateExpression as string }));
  }

  /** A job's buckets from `since` on: one Query of at most 288 small items for a day. */
  async read(job: string, since: number): Promise<AggregateBucket[]> {
    const out: AggregateBucket[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk >= :since',
          ExpressionAttributeValues: { ':pk': aggregatePk(job), ':since': bucketSk(since - BUCKET_MS) },
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...(res.Items ?? []).map((item) => bucketOfItem(job, item)));
      startKey = res.LastEvaluatedKey;
    } while (startKey);
    return out;
  }
}

function bucketOfItem(job: string, item: Record<string, unknown>): AggregateBucket {
  const counts: Partial<Record<Counter, number>> = {};
  const lateness: Record<number, number> = {};
  const reasons: Record<string, number> = {};
  for (const [k, v] of Object.entries(item)) {
    if (typeof v !== 'number') continue;
    if (k.startsWith('c_') && (COUNTERS as readonly string[]).includes(k.slice(2))) counts[k.slice(2) as Counter] = v;
    else if (k.startsWith('l_')) lateness[Number(k.slice(2))] = v;
    else if (k.startsWith('r_')) reasons[k.slice(2)] = v;
  }
  return { job, bucket: Number(item.bucket ?? Number(item.sk)), counts, lateness, reasons };
}
