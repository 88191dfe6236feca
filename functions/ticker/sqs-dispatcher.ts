import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

import { dispatchBody, type DispatchMessage } from '../../core/protocol/dispatch-message';

export { dispatchBody, type DispatchMessage };

/** The ticker's port to the slot-class queues. */
export interface DispatchSender {
  /** Sends to the queue of `slotClass`; never rejects: what could not be sent comes back in `failed`. */
  send(slotClass: string, messages: readonly DispatchMessage[]): Promise<SendResult>;
  /** Messages waiting in the class's queue, nobody having received them yet; undefined when unknown. */
  waiting?(slotClass: string): Promise<number | undefined>;
}

export interface SendResult {
  readonly failed: DispatchMessage[];
  /** Why (the last error or failure code), when something failed. */
  readonly error?: string;
}

export interface SqsDispatcherOptions {
  /** Attempts per batch on top of the SDK's own retries (throttling, server errors, failed entries). @default 4 */
  readonly attempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'RequestThrottled', 'AWS.SimpleQueueService.RequestThrottled', 'KmsThrottled', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** Throttling, server-side or network trouble: worth another attempt. */
export function isRetryable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (THROTTLING.has(e?.name ?? '') || THROTTLING.has(e?.code ?? '') || e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  return ['TimeoutError', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(e?.name ?? e?.code ?? '');
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** SendMessageBatch, ten per call, to one queue per slot class; retries throttling with jittered backoff. */
export class SqsDispatcher implements DispatchSender {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrls: Readonly<Record<string, string>>,
    options: SqsDispatcherOptions = {},
  ) {
    this.attempts = options.attempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async send(slotClass: string, messages: readonly DispatchMessage[]): Promise<SendResult> {
    const url = this.queueUrls[slotClass];
    if (!url) return { failed: [...messages], error: `slot class "${slotClass}" has no queue in JOBFLEET_QUEUES` };
    const batches: Promise<SendResult>[] = [];
    for (let i = 0; i < messages.length; i += 10) batches.push(this.sendBatch(url, messages.slice(i, i + 10)));
    const results = await Promise.all(batches);
    const failed = results.flatMap((r) => r.failed);
    const error = results.find((r) => r.error)?.error;
    return error ? { failed, error } : { failed };
  }

  async waiting(slotClass: string): Promise<number | undefined> {
    const url = this.queueUrls[slotClass];
    if (!url) return undefined;
    try {
      const res = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
      const n = Number(res.Attributes?.ApproximateNumberOfMessages);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      // Unknown: the reaper does what it did without the count (puts the task back).
      return undefined;
    }
  }

  private async sendBatch(queueUrl: string, batch: readonly DispatchMessage[]): Promise<SendResult> {
    let pending = batch.map((message, i) => ({ id: String(i), message }));
    const rejected: DispatchMessage[] = [];
    let error: string | undefined;
    const giveUp = (): SendResult => ({ failed: [...rejected, ...pending.map((p) => p.message)], error });
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending.map((p) => ({ Id: p.id, MessageBody: dispatchBody(p.message) })) }));
        const failed = new Map((res.Failed ?? []).map((f) => [f.Id, f]));
        for (const f of failed.values()) error = `${f.Code}: ${f.Message ?? ''}`;
        // A sender fault (e.g. a malformed entry) will not get better by retrying.
        for (const p of pending) if (failed.get(p.id)?.SenderFault) rejected.push(p.message);
        pending = pending.filter((p) => failed.has(p.id) && !failed.get(p.id)?.SenderFault);
      } catch (err) {
        error = `${(err as Error).name}: ${(err as Error).message}`;
        if (!isRetryable(err)) return giveUp();
      }
      if (pending.length === 0) return rejected.length ? { failed: rejected, error } : { failed: [] };
      if (attempt >= this.attempts) return giveUp();
      await this.sleep(this.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    }
  }
}
