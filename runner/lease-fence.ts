import { systemClock, type Clock, type Timer } from '../core/clock';
import { fenceTimes } from './lease';

export interface LeaseFenceOptions {
  /** The lease end the start write set. */
  readonly leaseUntil: number;
  /** How long before the lease ends the runner stops the script. */
  readonly marginMs: number;
  /** No renewal proved the lease by `stopAt`: stop the script as lost. Called once. */
  onExpired(leaseUntil: number): void;
  readonly clock?: Clock;
}

/**
 * Self-fencing (DESIGN invariant 6): a timer at (proven lease end - margin). Every proven renewal
 * moves it; if it fires, the runner stops the script at once without waiting for any AWS call, so
 * a partitioned runner never overlaps the retry the reaper starts after lease + grace.
 */
export class LeaseFence {
  private until: number;
  private timer?: Timer;
  private expired = false;
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly options: LeaseFenceOptions) {
    this.clock = options.clock ?? systemClock;
    this.until = options.leaseUntil;
  }

  start(): void {
    this.arm();
  }

  /** The lease as last proven (epoch ms). */
  get leaseUntil(): number {
    return this.until;
  }

  get hasExpired(): boolean {
    return this.expired;
  }

  /** When the script's sandbox must end itself, as a duration from now (never negative). */
  sandboxDeadlineMs(): number {
    return Math.max(0, fenceTimes(this.until, this.options.marginMs).sandboxDeadlineAt - this.clock.now());
  }

  /** A renewal proved the lease until `leaseUntil`; returns false if it came too late (already fenced) or proves nothing new. */
  extend(leaseUntil: number): boolean {
    if (this.expired || this.stopped || leaseUntil <= this.until) return false;
    this.until = leaseUntil;
    this.arm();
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped || this.expired) return;
    this.timer?.cancel();
    const { stopAt } = fenceTimes(this.until, this.options.marginMs);
    this.timer = this.clock.setTimer(stopAt - this.clock.now(), () => {
      this.timer = undefined;
      if (this.stopped || this.expired) return;
      this.expired = true;
      this.options.onExpired(this.until);
    });
  }
}
