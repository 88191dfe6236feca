import { systemClock, type Clock, type Timer } from '../core/clock';
import { ClaimConflictError, JobfleetError } from '../core/errors';
import type { TaskRecord } from '../core/model/task';
import { provenLeaseEnd } from './lease';

type Progress = NonNullable<TaskRecord['progress']>;

/** A beat that did not answer within its time: the next beat goes anyway. */
export class HeartbeatTimeoutError extends JobfleetError {
  constructor(readonly timeoutMs: number) {
    super(`the heartbeat did not answer within ${timeoutMs} ms; the next beat goes as planned, and the script is stopped if none proves the lease in time`);
  }
}

export interface BeatCall {
  /** The beat's `now`: the store writes leaseUntil = sentAt + leaseMs. */
  readonly sentAt: number;
  /** Aborted when the beat runs out of time (or the heartbeat stops). */
  readonly signal: AbortSignal;
}

export interface HeartbeatOptions {
  /** Regular beat: leaseMs / 3 by default. */
  readonly intervalMs: number;
  /** New progress is persisted with an early beat, at most this often. */
  readonly progressIntervalMs: number;
  /** The lease each beat sets. */
  readonly leaseMs: number;
  /** How long one beat may take before it counts as failed and the next may go. @default intervalMs (never more) */
  readonly beatTimeoutMs?: number;
  /** One conditional write extending the lease to `sentAt + leaseMs` (and carrying progress); answers whether a cancel was requested. */
  beat(progress: Progress | undefined, call: BeatCall): Promise<{ cancelRequested: boolean }>;
  /** A beat succeeded and proves the lease until `leaseUntil` (later than before). */
  onRenewed?(leaseUntil: number): void;
  /** Called once, the first time a beat says a cancel was requested. */
  onCancelRequested(): void;
  /** The conditional write lost: the task is not ours any more. Beats stop. */
  onLost(err: ClaimConflictError): void;
  /** Any other failure (network, throttling, a beat out of time): the next beat tries again. */
  onError(err: unknown): void;
  readonly clock?: Clock;
}

interface Beat {
  readonly sentAt: number;
}

/**
 * Keeps one running task's lease alive, and is the channel for progress and cancel requests.
 * Beats do not overlap while they answer in time; a beat that hangs is given up after its
 * timeout (its call aborted) and never holds back the next one. What the beats prove about the
 * lease is reported through `onRenewed` (see lease.ts); fencing on it is the caller's job.
 */
export class Heartbeat {
  private timer?: Timer;
  private nextAt = Infinity;
  private inFlight?: Promise<void>;
  private stopped = false;
  private lastBeatAt: number;
  private progress?: Progress;
  private progressDirty = false;
  private cancelSeen = false;
  private retrySoon = false;
  private proven = -Infinity;
  /** Beats whose calls have not settled, timed out or not: each may still write its lease. */
  private readonly unsettled = new Set<Beat>();
  private readonly aborts = new Set<AbortController>();
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(private readonly options: HeartbeatOptions) {
    this.clock = options.clock ?? systemClock;
    this.lastBeatAt = this.clock.now();
    this.timeoutMs = Math.min(options.beatTimeoutMs ?? options.intervalMs, options.intervalMs);
  }

  /** Starts beating; the lease was just set by the start write, so the first beat is one interval away. */
  start(): void {
    this.lastBeatAt = this.clock.now();
    this.scheduleAt(this.lastBeatAt + this.options.intervalMs);
  }

  /** Records the latest progress; it is written by an early beat at most once per progress interval. */
  reportProgress(percent: number, message?: string): void {
    this.progress = { percent, ...(message !== undefined ? { message } : {}), at: this.clock.now() };
    this.progressDirty = true;
    if (!this.inFlight) this.scheduleAt(this.lastBeatAt + this.options.progressIntervalMs);
  }

  get latestProgress(): Progress | undefined {
    return this.progress;
  }

  /** Stops beating; resolves when a beat in flight has settled or run out of time. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    // Nobody needs an answer any more.
    for (const abort of this.aborts) abort.abort(new Error('the heartbeat stopped'));
    await this.inFlight;
  }

  private scheduleAt(at: number): void {
    if (this.stopped || at >= this.nextAt) return;
    this.timer?.cancel();
    this.nextAt = at;
    this.timer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => this.tick());
  }

  private tick(): void {
    this.timer = undefined;
    this.nextAt = Infinity;
    if (this.stopped) return;
    const progress = this.progressDirty ? this.progress : undefined;
    this.progressDirty = false;
    const sentAt = this.clock.now();
    this.lastBeatAt = sentAt;
    const beat: Beat = { sentAt };
    const abort = new AbortController();
    this.unsettled.add(beat);
    this.aborts.add(abort);
    let timedOut = false;
    const call = this.options.beat(progress, { sentAt, signal: abort.signal }).then(
      (answer) => {
        this.settle(beat, abort);
        this.succeeded(beat, answer);
      },
      (err) => {
        this.settle(beat, abort);
        if (err instanceof ClaimConflictError) {
          // Even after its timeout: the task is someone else's.
          if (!this.stopped) {
            this.stopped = true;
            this.timer?.cancel();
            this.options.onLost(err);
          }
          return;
        }
        // Its timeout was reported already (and the abort is why it failed now).
        if (timedOut) return;
        // Progress not written yet: try it with the next beat.
        if (progress) this.progressDirty = true;
        this.retrySoon = true;
        this.options.onError(err);
      },
    );
    let timeout: Timer | undefined;
    const outOfTime = new Promise<void>((resolve) => {
      timeout = this.clock.setTimer(this.timeoutMs, () => {
        timedOut = true;
        abort.abort(new HeartbeatTimeoutError(this.timeoutMs));
        if (progress) this.progressDirty = true;
        this.retrySoon = true;
        if (!this.stopped) this.options.onError(new HeartbeatTimeoutError(this.timeoutMs));
        resolve();
      });
    });
    this.inFlight = Promise.race([call, outOfTime]).finally(() => {
      timeout?.cancel();
      this.inFlight = undefined;
      if (this.stopped) return;
      this.scheduleAt(this.lastBeatAt + this.options.intervalMs);
      // A failed beat is retried early, while the lease still holds.
      if (this.retrySoon) this.scheduleAt(this.lastBeatAt + Math.min(this.options.intervalMs / 2, 1000));
      this.retrySoon = false;
      if (this.progressDirty) this.scheduleAt(this.lastBeatAt + this.options.progressIntervalMs);
    });
  }

  private settle(beat: Beat, abort: AbortController): void {
    this.unsettled.delete(beat);
    this.aborts.delete(abort);
  }

  private succeeded(beat: Beat, { cancelRequested }: { cancelRequested: boolean }): void {
    if (this.stopped) return;
    const before = [...this.unsettled].filter((b) => b.sentAt < beat.sentAt).map((b) => b.sentAt);
    const proven = provenLeaseEnd(this.proven, beat.sentAt, before, this.options.leaseMs);
    if (proven > this.proven) {
      this.proven = proven;
      this.options.onRenewed?.(proven);
    }
    if (cancelRequested && !this.cancelSeen) {
      this.cancelSeen = true;
      this.options.onCancelRequested();
    }
  }
}
