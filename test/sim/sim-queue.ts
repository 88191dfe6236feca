import type { DispatchMessage } from '../../core/protocol/dispatch-message';
import { dispatchBody } from '../../core/protocol/dispatch-message';
import type { DispatchSender, SendResult } from '../../functions/ticker/sqs-dispatcher';
import type { DispatchQueue, QueueMessage } from '../../runner/queue';
import type { Rng } from './rng';
import type { SimProcess, World } from './world';

interface Stored {
  readonly id: string;
  readonly body: string;
  visibleAt: number;
  receiveCount: number;
  receipt: string;
}

interface Waiter {
  readonly max: number;
  readonly deadline: number;
  resolve(messages: QueueMessage[]): void;
}

export interface QueueFaults {
  /** Chance a sent message is lost. */
  readonly lossRate: number;
  /** Chance a sent message is delivered twice (SQS standard queues are at least once). */
  readonly duplicateRate: number;
}

/**
 * A standard SQS queue: at-least-once (duplicates), no order (a receive takes visible messages in
 * random order), loss, a visibility timeout, long polls, and a dead-letter limit on receives.
 */
export class SimQueue {
  private messages: Stored[] = [];
  private waiters: Waiter[] = [];
  private seq = 0;
  deadLettered = 0;

  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    readonly name: string,
    private readonly visibilityTimeoutMs: number,
    private readonly maxReceives: number,
    private readonly faults: QueueFaults,
  ) {}

  send(body: string): void {
    if (this.rng.chance(this.faults.lossRate)) {
      this.world.trace(`sqs:${this.name}`, `LOST ${body}`);
      return;
    }
    const copies = this.rng.chance(this.faults.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) this.messages.push({ id: `m${this.seq++}`, body, visibleAt: this.world.now, receiveCount: 0, receipt: '' });
    if (copies > 1) this.world.trace(`sqs:${this.name}`, `DUPLICATED ${body}`);
    this.serve();
  }

  /** Messages visible now (SQS's ApproximateNumberOfMessages). */
  visibleCount(): number {
    return this.messages.filter((m) => m.visibleAt <= this.world.now).length;
  }

  /** A long poll: answers at once if messages are visible, else when one becomes visible or the wait ends. */
  receive(max: number, waitMs: number): Promise<QueueMessage[]> {
    return new Promise((resolve) => {
      const waiter: Waiter = { max, deadline: this.world.now + waitMs, resolve };
      const taken = this.take(max);
      if (taken.length > 0 || waitMs <= 0) return resolve(taken);
      this.waiters.push(waiter);
      this.world.at(waiter.deadline, () => this.expire(waiter));
      const next = this.nextVisibleAt();
      if (next !== undefined && next < waiter.deadline) this.world.at(next, () => this.serve());
    });
  }

  delete(receipts: readonly string[]): void {
    const gone = new Set(receipts);
    this.messages = this.messages.filter((m) => !gone.has(m.receipt));
  }

  handBack(receipts: readonly string[]): void {
    const back = new Set(receipts);
    for (const m of this.messages) if (back.has(m.receipt)) m.visibleAt = this.world.now;
    this.serve();
  }

  get depth(): number {
    return this.messages.length;
  }

  private take(max: number): QueueMessage[] {
    const now = this.world.now;
    const visible = this.messages.filter((m) => m.visibleAt <= now);
    const out: QueueMessage[] = [];
    while (out.length < max && visible.length > 0) {
      const m = visible.splice(this.rng.int(0, visible.length - 1), 1)[0] as Stored;
      if (m.receiveCount >= this.maxReceives) {
        // The redrive policy moves it to the dead-letter queue.
        this.messages = this.messages.filter((x) => x !== m);
        this.deadLettered++;
        this.world.trace(`sqs:${this.name}`, `DEAD-LETTERED ${m.body}`);
        continue;
      }
      m.receiveCount++;
      m.visibleAt = now + this.visibilityTimeoutMs;
      m.receipt = `${m.id}#${m.receiveCount}`;
      out.push({ id: m.id, receiptHandle: m.receipt, body: m.body, receiveCount: m.receiveCount });
    }
    if (out.length > 0) this.world.at(now + this.visibilityTimeoutMs, () => this.serve());
    return out;
  }

  private nextVisibleAt(): number | undefined {
    let next: number | undefined;
    for (const m of this.messages) if (m.visibleAt > this.world.now && (next === undefined || m.visibleAt < next)) next = m.visibleAt;
    return next;
  }

  private serve(): void {
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0] as Waiter;
      const taken = this.take(waiter.max);
      if (taken.length === 0) return;
      this.waiters.shift();
      waiter.resolve(taken);
    }
  }

  private expire(waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at < 0) return;
    this.waiters.splice(at, 1);
    waiter.resolve([]);
  }
}

/** The runner's port to its class's queue, over the simulated network. */
export class SimDispatchQueue implements DispatchQueue {
  constructor(
    private readonly queue: SimQueue,
    private readonly proc: SimProcess,
    private readonly waitMs: number,
  ) {}

  receive(max: number, signal?: AbortSignal): Promise<QueueMessage[]> {
    // A long poll's request timeout covers its wait, as the SQS adapter's does.
    const call = this.proc.call('sqs.receive', () => this.queue.receive(max, this.waitMs), this.waitMs);
    if (!signal) return call;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new DOMException('aborted', 'AbortError'));
      const onAbort = () => reject(new DOMException('aborted', 'AbortError'));
      signal.addEventListener('abort', onAbort, { once: true });
      call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  delete(messages: readonly QueueMessage[]): Promise<void> {
    return this.proc.call('sqs.delete', () => this.queue.delete(messages.map((m) => m.receiptHandle)));
  }

  handBack(messages: readonly QueueMessage[]): Promise<void> {
    return this.proc.call('sqs.handBack', () => this.queue.handBack(messages.map((m) => m.receiptHandle)));
  }
}

/** The ticker's port to the class queues, over the simulated network. */
export class SimDispatchSender implements DispatchSender {
  constructor(
    private readonly queues: ReadonlyMap<string, SimQueue>,
    private readonly proc: SimProcess,
  ) {}

  async send(slotClass: string, messages: readonly DispatchMessage[]): Promise<SendResult> {
    const queue = this.queues.get(slotClass);
    if (!queue) return { failed: [...messages], error: `slot class "${slotClass}" has no queue` };
    try {
      await this.proc.call('sqs.send', () => {
        this.proc.world.trace(this.proc.name, `sqs.send ${messages.map((m) => m.taskId).join(' ')}`);
        for (const m of messages) queue.send(dispatchBody(m));
      });
      return { failed: [] };
    } catch (err) {
      return { failed: [...messages], error: (err as Error).message };
    }
  }

  async waiting(slotClass: string): Promise<number | undefined> {
    const queue = this.queues.get(slotClass);
    if (!queue) return undefined;
    return this.proc.call('sqs.depth', () => queue.visibleCount());
  }
}
