import { createStatusEventsFromEnv, type StatusEventsProcess } from './create';
import type { StreamBatchResponse, StreamEvent } from './stream-record';

/** Built on the first invocation and kept for the container's life. */
let process_: StatusEventsProcess | undefined;

/**
 * The table's stream (NEW_AND_OLD_IMAGES, filtered to task items by the event source mapping)
 * calls this with batches of records; each task status change becomes a status event on the
 * bus. Partial batch responses: a failed PutEvents retries the batch from its first record only.
 */
export async function handler(event: StreamEvent): Promise<StreamBatchResponse> {
  process_ ??= createStatusEventsFromEnv(process.env);
  const response = await process_.handle(event.Records);
  process_.logger.debug({ records: event.Records.length, failed: response.batchItemFailures.length }, 'batch done');
  return response;
}
