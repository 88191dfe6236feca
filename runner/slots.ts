/**
 * Slot accounting for one runner: never more than `capacity` slots in use. Pure bookkeeping
 * with no clock and no I/O; the poll loop and task executions share one pool.
 */
export class SlotPool {
  private usedSlots = 0;
  private peakSlots = 0;
  private readonly waiters: { slots: number; resolve: () => void }[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`slot capacity must be a positive integer, got ${capacity}`);
  }

  get used(): number {
    return this.usedSlots;
  }

  get free(): number {
    return this.capacity - this.usedSlots;
  }

  /** The most slots ever in use at once. */
  get peak(): number {
    return this.peakSlots;
  }

  /** Takes `slots` now if they are free and nobody is queued ahead. */
  tryAcquire(slots: number): boolean {
    this.check(slots);
    if (this.waiters.length > 0 || slots > this.free) return false;
    this.take(slots);
    return true;
  }

  /**
   * Takes `slots` as soon as they are free, first come first served. Resolves false (holding
   * nothing) if `signal` aborts first.
   */
  acquire(slots: number, signal?: AbortSignal): Promise<boolean> {
    if (slots > this.capacity) return Promise.reject(new RangeError(`${slots} slots can never fit a runner of ${this.capacity}`));
    if (this.tryAcquire(slots)) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        slots,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        },
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(false);
        // Removing a waiter may let the ones behind it through.
        this.release(0);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(slots: number): void {
    this.check(slots);
    if (slots > this.usedSlots) throw new RangeError(`releasing ${slots} slots but only ${this.usedSlots} are in use`);
    this.usedSlots -= slots;
    while (this.waiters.length > 0 && (this.waiters[0] as { slots: number }).slots <= this.free) {
      const next = this.waiters.shift() as { slots: number; resolve: () => void };
      this.take(next.slots);
      next.resolve();
    }
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves at the next release (or when `signal` aborts). */
  whenReleased(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        this.listeners.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.listeners.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private take(slots: number): void {
    this.usedSlots += slots;
    if (this.usedSlots > this.peakSlots) this.peakSlots = this.usedSlots;
  }

  private check(slots: number): void {
    if (!Number.isInteger(slots) || slots < 0) throw new RangeError(`slots must be a non-negative integer, got ${slots}`);
  }
}

/** SQS returns at most 10 messages per receive. */
export const MAX_RECEIVE_BATCH = 10;

/**
 * How many messages to ask for: as many as the free slots can hold if every one were the class's
 * largest job, so no message ever has to be handed back for lack of room.
 */
export function receiveBatchSize(freeSlots: number, largestJobSlots: number, max = MAX_RECEIVE_BATCH): number {
  if (largestJobSlots < 1) throw new RangeError('the largest job needs at least one slot');
  return Math.max(0, Math.min(max, Math.floor(freeSlots / largestJobSlots)));
}
