import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * The parts of a DynamoDB stream record the status-event consumer reads, in the shape Lambda
 * delivers them (images as DynamoDB JSON). The local poller builds the same shape from
 * GetRecords, so both feed one code path.
 */
export interface StreamRecord {
  readonly eventName?: 'INSERT' | 'MODIFY' | 'REMOVE' | string;
  readonly dynamodb?: {
    /** Seconds since the epoch (Lambda's event shape). */
    readonly ApproximateCreationDateTime?: number;
    readonly NewImage?: Record<string, AttributeValue>;
    readonly OldImage?: Record<string, AttributeValue>;
    /** Unique within the shard, and what partial batch responses name. */
    readonly SequenceNumber?: string;
  };
}

/** What Lambda passes a handler for a DynamoDB event source mapping. */
export interface StreamEvent {
  readonly Records: readonly StreamRecord[];
}

/**
 * A partial batch response (the mapping's ReportBatchItemFailures): Lambda retries the batch from
 * the lowest sequence number named here; records before it count as done.
 */
export interface StreamBatchResponse {
  readonly batchItemFailures: ReadonlyArray<{ readonly itemIdentifier: string }>;
}
