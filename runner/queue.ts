import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_AWS_REQUEST_TIMEOUT_MS, longPollRequestTimeoutMs } from '../core/store/aws-clients';

export { parseDispatchMessage, type DispatchMessage, type ParsedMessage } from '../core/protocol/dispatch-message';

export interface QueueMessage {
  readonly id: string;
  readonly receiptHandle: string;
  readonly body: string | undefined;
  readonly receiveCount: number;
}

/** The runner's view of its class's queue: a narrow port with one SQS adapter. */
export interface DispatchQueue {
  /** Long-polls for up to `max` messages (1-10). */
  receive(max: number, signal?: AbortSignal): Promise<QueueMessage[]>;
  delete(messages: readonly QueueMessage[]): Promise<void>;
  /** Makes messages visible again at once (only ones received while shutting down). */
  handBack(messages: readonly QueueMessage[]): Promise<void>;
}

export class SqsDispatchQueue implements DispatchQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly waitTimeSeconds: number,
    /** The client's request timeout; a long poll gets its wait time on top, or every empty poll would time out. */
    private readonly requestTimeoutMs = DEFAULT_AWS_REQUEST_TIMEOUT_MS,
  ) {}

  async receive(max: number, signal?: AbortSignal): Promise<QueueMessage[]> {
    const res = await this.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: max, WaitTimeSeconds: this.waitTimeSeconds, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
      { abortSignal: signal, requestTimeout: longPollRequestTimeoutMs(this.waitTimeSeconds, this.requestTimeoutMs) },
    );
    return (res.Messages ?? []).map((m) => ({
      id: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
    }));
  }

  async delete(messages: readonly QueueMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const batch = messages.slice(i, i + 10);
      const res = await this.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((m, n) => ({ Id: String(n), ReceiptHandle: m.receiptHandle })) }),
      );
      if (res.Failed?.length) throw new Error(`SQS did not delete ${res.Failed.length} message(s): ${res.Failed[0]?.Message ?? res.Failed[0]?.Code}`);
    }
  }

  async handBack(messages: readonly QueueMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const batch = messages.slice(i, i + 10);
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((m, n) => ({ Id: String(n), ReceiptHandle: m.receiptHandle, VisibilityTimeout: 0 })) }),
      );
    }
  }
}
