import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AggregateStore } from '../../core/ops/aggregate-store';
import { foldChanges, type AggregateDelta } from '../../core/ops/aggregates';
import { countedChangesOf } from './aggregate-changes';
import pino, { type DestinationStream, type Logger } from 'pino';
import { EventBridgePublisher, type EventPublisher } from '../../core/lifecycle/events';
import { loadStatusEventsSettings, type StatusEventsSettings } from './config';
import { publishRecords } from './publish';
import type { StreamBatchResponse, StreamRecord } from './stream-record';

export function createStatusEventsLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'jobfleet-status-events' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

export interface StatusEventsProcess {
  readonly settings: StatusEventsSettings;
  readonly publisher: EventPublisher;
  readonly logger: Logger;
  /** One batch of stream records in, a partial batch response out. */
  handle(records: readonly StreamRecord[]): Promise<StreamBatchResponse>;
}

/** Wires the stream consumer from the environment: settings, EventBridge publisher, logger. Once per process. */
export function createStatusEventsFromEnv(
  env: Record<string, string | undefined>,
  overrides: { publisher?: EventPublisher; logger?: Logger; aggregates?: AggregateSink } = {},
): StatusEventsProcess {
  const settings = loadStatusEventsSettings(env);
  const { runtime } = settings;
  const logger = overrides.logger ?? createStatusEventsLogger(settings.logLevel);
  const publisher =
    overrides.publisher ??
    new EventBridgePublisher(new EventBridgeClient({ region: runtime.region, ...(runtime.endpoint ? { endpoint: runtime.endpoint } : {}) }), runtime.eventBusName);
  const aggregates = settings.aggregates ? (overrides.aggregates ?? awsAggregateSink(runtime)) : undefined;
  return {
    settings,
    publisher,
    logger,
    handle: async (records) => {
      const response = await publishRecords(records, {
        publisher,
        mode: runtime.statusEvents,
        now: Date.now,
        onError: (err, failedAt) => logger.error({ err, failedAt }, 'could not publish status events; the batch is retried from this record'),
      });
      if (aggregates) await addAggregates(records, response, aggregates);
      return response;
    },
  };
}

/** Where a batch's aggregate deltas go (one write each). */
export type AggregateSink = (delta: AggregateDelta) => Promise<void>;

function awsAggregateSink(runtime: StatusEventsSettings['runtime']): AggregateSink {
  const dynamodb = new DynamoDBClient({ region: runtime.region, ...(runtime.endpoint ? { endpoint: runtime.endpoint } : {}) });
  const store = new AggregateStore(DynamoDBDocumentClient.from(dynamodb), runtime.tableName);
  return (delta) => store.add(delta);
}

/**
 * Counts the records the batch is done with (those before a failed publish, which are retried
 * and counted then), one UpdateItem per (job, 5-minute bucket). Called after publishing, so a
 * failed write throws and the batch is read again: events repeat (deterministic ids), and the
 * deltas written before the failure are counted twice. Counts are for operating, not billing.
 */
async function addAggregates(records: readonly StreamRecord[], response: StreamBatchResponse, sink: AggregateSink): Promise<void> {
  const failedAt = response.batchItemFailures[0]?.itemIdentifier;
  const end = failedAt === undefined ? records.length : records.findIndex((r) => r.dynamodb?.SequenceNumber === failedAt);
  const now = Date.now();
  const deltas = foldChanges(records.slice(0, end < 0 ? records.length : end).flatMap((r) => countedChangesOf(r, now)));
  await Promise.all(deltas.map(sink));
}
