import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
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
  overrides: { publisher?: EventPublisher; logger?: Logger } = {},
): StatusEventsProcess {
  const settings = loadStatusEventsSettings(env);
  const { runtime } = settings;
  const logger = overrides.logger ?? createStatusEventsLogger(settings.logLevel);
  const publisher =
    overrides.publisher ??
    new EventBridgePublisher(new EventBridgeClient({ region: runtime.region, ...(runtime.endpoint ? { endpoint: runtime.endpoint } : {}) }), runtime.eventBusName);
  return {
    settings,
    publisher,
    logger,
    handle: (records) =>
      publishRecords(records, {
        publisher,
        mode: runtime.statusEvents,
        now: Date.now,
        onError: (err, failedAt) => logger.error({ err, failedAt }, 'could not publish status events; the batch is retried from this record'),
      }),
  };
}
