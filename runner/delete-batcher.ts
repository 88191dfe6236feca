import { systemClock, type Clock, type Timer } from '../core/clock';
import type { DispatchQueue, QueueMessage } from './queue';

export interface DeleteBatcherOptions {
  /** How long a message may wait for others to share its DeleteMessageBatch call. */
  readonly lingerMs: number;
  readonly onError: (err: unknown, count: number) => void;
  readonly clock?: Clock;
}

const SQS_BATCH_MAX = 10;

/**
 * Deletes started tasks' messages in shared batches. Under load slots free up one at a time, so
 * each receive brings one message; deleting each at once would cost one SQS call per task.
 * Waiting a moment is safe: once the start write has landed the lease guards the task, and a
 * message redelivered before its delete is dropped as stale (the task is no longer queued).
 */
export class DeleteBatcher {
  private pending: QueueMessage[] = [];
  private timer?: Timer;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly queue: Pick<DispatchQueue, 'delete'>,
    private readonly options: DeleteBatcherOptions,
  ) {}

  add(messages: readonly QueueMessage[]): void {
    if (messages.length === 0) return;
    this.pending.push(...messages);
    if (this.pending.length >= SQS_BATCH_MAX) this.flush();
    else this.timer ??= (this.options.clock ?? systemClock).setTimer(this.options.lingerMs, () => this.flush());
  }

  /** Sends what is waiting now; resolves when every delete sent so far has settled. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }

  private flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, SQS_BATCH_MAX);
      const call = this.queue.delete(batch).catch((err) => this.options.onError(err, batch.length));
      this.inFlight.add(call);
      void call.finally(() => this.inFlight.delete(call));
    }
  }
}
