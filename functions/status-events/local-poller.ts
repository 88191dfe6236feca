import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from 'pino';
import type { EventPublisher } from '../../core/lifecycle/events';
import { ConfigError } from '../../core/errors';
import { createStatusEventsFromEnv, type AggregateSink } from './create';
import { StreamPoller, type StreamPollerOptions } from './stream-poller';

export interface LocalStatusEventsOptions extends Pick<StreamPollerOptions, 'startingPosition' | 'idleMs' | 'retryDelayMs' | 'discoverEveryMs'> {
  readonly publisher?: EventPublisher;
  readonly logger?: Logger;
  readonly aggregates?: AggregateSink;
}

/**
 * Resolves the table's stream, then polls it and publishes status events until `signal` aborts.
 * With JOBFLEET_STATUS_EVENTS=none there is nothing to do and it returns at once.
 */
export async function runLocalStatusEvents(env: Record<string, string | undefined>, signal: AbortSignal, options: LocalStatusEventsOptions = {}): Promise<void> {
  const p = createStatusEventsFromEnv(env, options);
  const { runtime } = p.settings;
  if (runtime.statusEvents === 'none' && !p.settings.aggregates) {
    p.logger.info('JOBFLEET_STATUS_EVENTS=none and JOBFLEET_AGGREGATES=off: nothing to do');
    return;
  }
  const base = { region: runtime.region, ...(runtime.endpoint ? { endpoint: runtime.endpoint } : {}) };
  const dynamodb = new DynamoDBClient(base);
  const streams = new DynamoDBStreamsClient(base);
  try {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: runtime.tableName }));
    const streamArn = Table?.StreamSpecification?.StreamEnabled ? Table.LatestStreamArn : undefined;
    if (!streamArn) throw new ConfigError(`table ${runtime.tableName} has no stream: status events need one (NEW_AND_OLD_IMAGES; the CDK table has it unless statusEvents is 'none')`);
    p.logger.info({ endpoint: runtime.endpoint ?? '(AWS)', table: runtime.tableName, bus: runtime.eventBusName, mode: runtime.statusEvents }, 'status events: polling the table stream');
    await new StreamPoller({ client: streams, streamArn, handle: p.handle, logger: p.logger, ...options }).run(signal);
    p.logger.info('status events stopped');
  } finally {
    dynamodb.destroy();
    streams.destroy();
  }
}
