import { ClaimConflictError } from '../core/errors';
import type { TaskRecord } from '../core/model/task';

type Progress = NonNullable<TaskRecord['progress']>;

export interface HeartbeatOptions {
  /** Regular beat: leaseMs / 3 by default. */
  readonly intervalMs: number;
  /** New progress is persisted with an early beat, at most this often. */
  readonly progressIntervalMs: number;
  /** One conditional write extending the lease (and carrying progress); answers whether a cancel was requested. */
  beat(progress: Progress | undefined): Promise<{ cancelRequested: boolean }>;
  /** Called once, the first time a beat says a cancel was requested. */
  onCancelRequested(): void;
  /** The conditional write lost: the task is not ours any more. Beats stop. */
  onLost(err: ClaimConflictError): void;
  /** Any other failure (network, throttling): the next beat tries again. */
  onError(err: unknown): void;
  readonly now?: () => number;
}

/**
 * Keeps one running task's lease alive, and is the channel for progress and cancel requests.
 * Beats never overlap; the loop is built from injected functions so tests drive it directly.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private nextAt = Infinity;
  private inFlight?: Promise<void>;
  private stopped = false;
  private lastBeatAt: number;
  private progress?: Progress;
  private progressDirty = false;
  private cancelSeen = false;
  private retrySoon = false;
  private readonly now: () => number;

  constructor(private readonly options: HeartbeatOptions) {
    this.now = options.now ?? Date.now;
    this.lastBeatAt = this.now();
  }

  /** Starts beating; the lease was just set by the start write, so the first beat is one interval away. */
  start(): void {
    this.lastBeatAt = this.now();
    this.scheduleAt(this.lastBeatAt + this.options.intervalMs);
  }

  /** Records the latest progress; it is written by an early beat at most once per progress interval. */
  reportProgress(percent: number, message?: string): void {
    this.progress = { percent, ...(message !== undefined ? { message } : {}), at: this.now() };
    this.progressDirty = true;
    if (!this.inFlight) this.scheduleAt(this.lastBeatAt + this.options.progressIntervalMs);
  }

  get latestProgress(): Progress | undefined {
    return this.progress;
  }

  /** Stops beating; resolves when a beat in flight has settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private scheduleAt(at: number): void {
    if (this.stopped || at >= this.nextAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextAt = at;
    this.timer = setTimeout(() => this.tick(), Math.max(0, at - this.now()));
  }

  private tick(): void {
    this.timer = undefined;
    this.nextAt = Infinity;
    if (this.stopped) return;
    const progress = this.progressDirty ? this.progress : undefined;
    this.progressDirty = false;
    this.lastBeatAt = this.now();
    this.inFlight = this.options
      .beat(progress)
      .then(
        ({ cancelRequested }) => {
          if (cancelRequested && !this.cancelSeen && !this.stopped) {
            this.cancelSeen = true;
            this.options.onCancelRequested();
          }
        },
        (err) => {
          if (err instanceof ClaimConflictError) {
            this.stopped = true;
            this.options.onLost(err);
            return;
          }
          // Progress not written yet: try it with the next beat.
          if (progress) this.progressDirty = true;
          this.retrySoon = true;
          this.options.onError(err);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.stopped) return;
        this.scheduleAt(this.lastBeatAt + this.options.intervalMs);
        // A failed beat is retried early, while the lease still holds.
        if (this.retrySoon) this.scheduleAt(this.lastBeatAt + Math.min(this.options.intervalMs / 2, 1000));
        this.retrySoon = false;
        if (this.progressDirty) this.scheduleAt(this.lastBeatAt + this.options.progressIntervalMs);
      });
  }
}
