import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { DEFAULT_AWS_REQUEST_TIMEOUT_MS, longPollRequestTimeoutMs } from '../core/store/aws-clients';

/** The dispatch message the ticker sends: the task and the claim's token, nothing else. */
export const DispatchMessageSchema = z.object({
  v: z.literal(1),
  taskId: z.string().min(1).max(200),
  token: z.string().min(1).max(200),
});
export type DispatchMessage = z.infer<typeof DispatchMessageSchema>;

export type ParsedMessage = { readonly ok: true; readonly message: DispatchMessage } | { readonly ok: false; readonly error: string };

/** Parses a message body; never throws. */
export function parseDispatchMessage(body: string | undefined): ParsedMessage {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { ok: false, error: `not JSON: ${JSON.stringify((body ?? '').slice(0, 80))}` };
  }
  const parsed = DispatchMessageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') };
  return { ok: true, message: parsed.data };
}

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
