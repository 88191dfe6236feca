import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type Shard,
  type ShardIteratorType,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from 'pino';
import { sleep } from '../../core/sleep';
import type { StreamBatchResponse, StreamRecord } from './stream-record';

/**
 * What Lambda's event source mapping does for the table's stream, as a plain loop for local use
 * (Lambda functions do not run in LocalStack without Docker): read every shard in order, hand each
 * batch to the same function the Lambda handler calls, and honour its partial batch response by
 * reading that shard again from the failed record. Parents before children; shards are found again
 * every `discoverEveryMs` and whenever one closes.
 */
export interface StreamPollerOptions {
  readonly client: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly handle: (records: readonly StreamRecord[]) => Promise<StreamBatchResponse>;
  readonly logger: Logger;
  /** Where shards that exist when the poller starts are read from. @default 'TRIM_HORIZON' */
  readonly startingPosition?: Extract<ShardIteratorType, 'TRIM_HORIZON' | 'LATEST'>;
  /** GetRecords limit (Lambda's batch size). @default 100 */
  readonly batchSize?: number;
  /** Pause when no shard had records. @default 250 */
  readonly idleMs?: number;
  /** Pause before a failed batch is read again. @default 1000 */
  readonly retryDelayMs?: number;
  /** @default 5000 */
  readonly discoverEveryMs?: number;
}

interface ShardState {
  iterator?: string;
  /** The last record handed over successfully: where a lost iterator resumes. */
  lastSequence?: string;
  closed: boolean;
}

/** GetRecords' `_Record` in the shape Lambda delivers (images as DynamoDB JSON, time in seconds). */
export function toStreamRecord(r: _Record): StreamRecord {
  const d = r.dynamodb;
  return {
    eventName: r.eventName,
    dynamodb: {
      ...(d?.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      // The streams client's AttributeValue has the same members as DynamoDB's.
      ...(d?.NewImage ? { NewImage: d.NewImage as Record<string, AttributeValue> } : {}),
      ...(d?.OldImage ? { OldImage: d.OldImage as Record<string, AttributeValue> } : {}),
      ...(d?.SequenceNumber ? { SequenceNumber: d.SequenceNumber } : {}),
    },
  };
}

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private lastDiscovery = 0;
  private started = false;

  constructor(private readonly options: StreamPollerOptions) {}

  /** Polls until `signal` aborts. Errors are logged and retried; nothing is skipped. */
  async run(signal: AbortSignal): Promise<void> {
    const { idleMs = 250, discoverEveryMs = 5000 } = this.options;
    while (!signal.aborted) {
      let busy = false;
      try {
        if (Date.now() - this.lastDiscovery >= discoverEveryMs) await this.discover();
        for (const [shardId, state] of this.shards) {
          if (signal.aborted) break;
          if (state.closed || !state.iterator) continue;
          busy = (await this.pollShard(shardId, state, signal)) || busy;
        }
      } catch (err) {
        this.options.logger.error({ err }, 'stream poll failed; trying again');
        await sleep(this.options.retryDelayMs ?? 1000, signal);
      }
      if (!busy) await sleep(idleMs, signal);
    }
  }

  private async discover(): Promise<void> {
    const found: Shard[] = [];
    let start: string | undefined;
    do {
      const res = await this.options.client.send(new DescribeStreamCommand({ StreamArn: this.options.streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }));
      found.push(...(res.StreamDescription?.Shards ?? []));
      start = res.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    const initial = !this.started;
    this.started = true;
    this.lastDiscovery = Date.now();
    for (const shard of found) {
      const id = shard.ShardId;
      if (!id || this.shards.get(id)?.iterator || this.shards.get(id)?.closed) continue;
      const parent = shard.ParentShardId ? this.shards.get(shard.ParentShardId) : undefined;
      if (parent && !parent.closed) continue; // the parent's records come first
      const type = initial ? (this.options.startingPosition ?? 'TRIM_HORIZON') : 'TRIM_HORIZON';
      this.shards.set(id, { iterator: await this.iterator(id, type), closed: false });
    }
  }

  private async iterator(shardId: string, type: ShardIteratorType, sequence?: string): Promise<string | undefined> {
    const res = await this.options.client.send(
      new GetShardIteratorCommand({ StreamArn: this.options.streamArn, ShardId: shardId, ShardIteratorType: type, ...(sequence ? { SequenceNumber: sequence } : {}) }),
    );
    return res.ShardIterator;
  }

  /** One GetRecords on one shard; true if it returned records. */
  private async pollShard(shardId: string, state: ShardState, signal: AbortSignal): Promise<boolean> {
    let res;
    try {
      res = await this.options.client.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: this.options.batchSize ?? 100 }));
    } catch (err) {
      if ((err as Error).name !== 'ExpiredIteratorException') throw err;
      state.iterator = await this.iterator(shardId, state.lastSequence ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON', state.lastSequence);
      return true;
    }
    const records = (res.Records ?? []).map(toStreamRecord);
    if (records.length > 0) {
      let failedAt: string | undefined;
      try {
        failedAt = (await this.options.handle(records)).batchItemFailures[0]?.itemIdentifier;
      } catch (err) {
        this.options.logger.error({ err, shardId }, 'the stream handler threw; the batch is read again');
        failedAt = records[0]?.dynamodb?.SequenceNumber;
      }
      if (failedAt) {
        const index = records.findIndex((r) => r.dynamodb?.SequenceNumber === failedAt);
        const done = index > 0 ? records[index - 1]?.dynamodb?.SequenceNumber : undefined;
        if (done) state.lastSequence = done;
        state.iterator = await this.iterator(shardId, 'AT_SEQUENCE_NUMBER', failedAt);
        await sleep(this.options.retryDelayMs ?? 1000, signal);
        return true;
      }
      state.lastSequence = records.at(-1)?.dynamodb?.SequenceNumber ?? state.lastSequence;
    }
    state.iterator = res.NextShardIterator;
    if (!state.iterator) {
      state.closed = true;
      this.lastDiscovery = 0; // a closed shard's children are read next
    }
    return records.length > 0;
  }
}
