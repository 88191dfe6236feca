import type { Clock, Timer } from '../../core/clock';
import type { HeldMessage } from './dispatch';

/**
 * Messages of tasks claimed ahead of their due time, each sent on a timer when that time comes.
 * Not at the next tick: the tick that claims a big burst ahead may still be claiming when the
 * first of them fall due, and they must not wait for it to end.
 */
export class HeldMessages {
  private held: HeldMessage[] = [];
  private timer?: { readonly at: number; readonly handle: Timer };
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly clock: Clock,
    /** Sends messages whose due time has come; never rejects (a failed send leaves its tasks to the reaper). */
    private readonly send: (ready: readonly HeldMessage[]) => Promise<void>,
  ) {}

  get size(): number {
    return this.held.length;
  }

  hold(message: HeldMessage): void {
    this.held.push(message);
    // Called once per claim of a burst: only a message earlier than the timer moves it.
    if (!this.timer || message.at < this.timer.at) this.arm(message.at);
  }

  /** Sends every message due by `now`; resolves when that send has settled. */
  releaseDue(now = this.clock.now()): Promise<void> {
    const ready = this.held.filter((h) => h.at <= now);
    if (ready.length > 0) this.held = this.held.filter((h) => h.at > now);
    this.arm(this.held.length > 0 ? Math.min(...this.held.map((h) => h.at)) : undefined);
    if (ready.length === 0) return Promise.resolve();
    const sent = this.send(ready).finally(() => this.sending.delete(sent));
    this.sending.add(sent);
    return sent;
  }

  /** Before the process stops: waits for each message's due time, sends it, and for every send to settle. */
  async drain(): Promise<void> {
    while (this.held.length > 0) {
      const next = Math.min(...this.held.map((h) => h.at));
      await this.clock.sleep(next - this.clock.now());
      await this.releaseDue(Math.max(next, this.clock.now()));
    }
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }

  /** One timer, for the earliest due time held (`next`; none when nothing is held). */
  private arm(next: number | undefined): void {
    if (this.timer && next !== undefined && this.timer.at === next) return;
    this.timer?.handle.cancel();
    this.timer = undefined;
    if (next === undefined) return;
    const handle = this.clock.setTimer(next - this.clock.now(), () => {
      this.timer = undefined;
      void this.releaseDue(Math.max(next, this.clock.now()));
    });
    this.timer = { at: next, handle };
  }
}
