import type { EventPublisher, StatusEvent, StatusEventMode } from '../../core/lifecycle/events';
import { statusEventOf } from './mapping';
import type { StreamBatchResponse, StreamRecord } from './stream-record';

/** EventBridge takes at most 10 entries per PutEvents call. */
export const EVENTS_PER_CALL = 10;

export interface PublishRecordsDeps {
  readonly publisher: EventPublisher;
  readonly mode: StatusEventMode;
  readonly now: () => number;
  /** Told about a failed call before the batch is cut short there. */
  readonly onError?: (err: unknown, failedAt: string) => void;
}

/**
 * Maps a batch of stream records to status events and publishes them in order, 10 per call.
 * When a call fails, the response names the record of its first event: Lambda (or the local
 * poller) then retries from there, and only from there; the records before it are done. A retried
 * call may publish some of its events twice: ids are deterministic, so consumers can drop them.
 */
export async function publishRecords(records: readonly StreamRecord[], deps: PublishRecordsDeps): Promise<StreamBatchResponse> {
  const pending: Array<{ readonly event: StatusEvent; readonly sequenceNumber: string }> = [];
  for (const record of records) {
    const event = statusEventOf(record, deps.mode, deps.now());
    if (!event) continue;
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    // Without a sequence number a failure could not be reported for this record: fail loudly instead.
    if (!sequenceNumber) throw new Error(`stream record for task ${event.taskId} has no SequenceNumber`);
    pending.push({ event, sequenceNumber });
  }
  for (let i = 0; i < pending.length; i += EVENTS_PER_CALL) {
    const chunk = pending.slice(i, i + EVENTS_PER_CALL);
    try {
      await deps.publisher.publish(chunk.map((p) => p.event));
    } catch (err) {
      const failedAt = chunk[0]!.sequenceNumber;
      deps.onError?.(err, failedAt);
      return { batchItemFailures: [{ itemIdentifier: failedAt }] };
    }
  }
  return { batchItemFailures: [] };
}
