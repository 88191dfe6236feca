import type { Logger } from 'pino';
import type { Clock } from '../../core/clock';
import { ClaimConflictError } from '../../core/errors';
import { finishTask, type LifecycleDeps } from '../../core/lifecycle/finish';
import { concurrencyScopes, type SchedEntry } from '../../core/store/task-store';
import { orderDue, priorityOf, type DispatchBudget } from './headroom';
import { failInvalidTask } from './invalid-task';
import { Pool } from './pool';
import type { DispatchMessage, DispatchSender } from './sqs-dispatcher';
import { entryProblems, recordProblems, type Route } from './validate';

export interface DispatchDeps {
  readonly lifecycle: LifecycleDeps;
  readonly sender: DispatchSender;
  /** Per slot class: its queue and runner size. */
  readonly routes: ReadonlyMap<string, Route>;
  readonly dispatchWindowMs: number;
  readonly claimConcurrency: number;
  readonly logger: Logger;
  /** Tells whether a task claimed ahead of time has fallen due by the time its claim completes. */
  readonly clock: Pick<Clock, 'now'>;
  /** Takes the message of a task claimed ahead of time, to be sent at its due time. */
  hold(message: HeldMessage): void;
}

export interface DispatchReport {
  /** Tasks this tick moved from pending to queued. */
  claimed: number;
  /** Claimed tasks whose message reached SQS. */
  dispatched: number;
  /** Claims lost to another ticker (or to a full concurrency limit, which the transaction enforces). */
  conflicts: number;
  /** Due tasks left pending because their concurrency scope is full. */
  limited: number;
  expired: number;
  invalid: number;
  /** Claimed tasks whose message could not be sent: they stay queued until the reaper puts them back. */
  sendFailed: number;
  errors: number;
}

export const emptyDispatchReport = (): DispatchReport => ({ claimed: 0, dispatched: 0, conflicts: 0, limited: 0, expired: 0, invalid: 0, sendFailed: 0, errors: 0 });

/** Adds what sends of held messages did (`from`) into `into`. */
export function addSends(into: DispatchReport, from: Pick<DispatchReport, 'dispatched' | 'sendFailed' | 'errors'>): void {
  into.dispatched += from.dispatched;
  into.sendFailed += from.sendFailed;
  into.errors += from.errors;
}

/** A task claimed ahead of its due time, whose message is held back until then. */
export interface HeldMessage {
  readonly at: number;
  readonly slotClass: string;
  readonly message: DispatchMessage;
}

/**
 * Claims due tasks in priority order up to each class's headroom and sends the claimed ones to
 * their class's queue in batches of ten, as claims complete. Expired tasks are failed instead of
 * claimed, and malformed ones are failed as `invalid-task`.
 */
export class Dispatcher {
  /** Entries whose claim was lost in the previous tick (id -> sort key); see `checkSuspect`. */
  private suspects = new Map<string, string>();

  constructor(private readonly deps: DispatchDeps) {}

  /**
   * `due` holds entries due at or before `now`; `upcoming` (optional) entries falling due within
   * the look-ahead. Upcoming tasks are claimed after every due one, as of their due time, and
   * their messages handed to `hold`, to be sent at that time; one whose due time has come by the
   * end of its claim (a long tick) is sent with the due ones instead.
   */
  async dispatch(due: readonly SchedEntry[], budget: DispatchBudget, now: number, upcoming: readonly SchedEntry[] = []): Promise<DispatchReport> {
    const { logger, routes } = this.deps;
    const report = emptyDispatchReport();
    const pool = new Pool(this.deps.claimConcurrency, (err) => {
      report.errors++;
      logger.error({ err }, 'dispatch step failed; a later tick retries it');
    });
    const outbox = new Outbox(this.deps.sender, report, logger);
    const invalid: [SchedEntry, string[]][] = [];
    const expired: SchedEntry[] = [];
    const claimable: SchedEntry[] = [];
    for (const entry of due) {
      const problems = entryProblems(entry, routes);
      if (problems.length > 0) invalid.push([entry, problems]);
      else if (entry.expiresAt !== undefined && entry.expiresAt < now) expired.push(entry);
      else claimable.push(entry);
    }
    // Ahead of time only what is sure to be dispatchable then; anything doubtful waits until it is due.
    const early = upcoming.filter((e) => entryProblems(e, routes).length === 0 && (e.expiresAt === undefined || e.expiresAt > e.at));
    const suspects = new Map<string, string>();
    for (const entry of [...orderDue(claimable), ...orderDue(early)]) {
      const ahead = entry.at > now;
      const reservation = budget.tryReserve(entry);
      if (reservation === 'scope-full' && !ahead) report.limited++;
      if (reservation !== 'ok') continue;
      await pool.run(async () => {
        let claim: { token: string } | undefined;
        try {
          claim = await this.deps.lifecycle.store.claim(entry, ahead ? entry.at : now, this.deps.dispatchWindowMs);
        } catch (err) {
          budget.release(entry);
          throw err;
        }
        if (!claim) {
          budget.release(entry);
          report.conflicts++;
          if (concurrencyScopes(entry).length === 0) {
            if (this.suspects.get(entry.id) === entry.sk) await this.checkSuspect(entry, now, report);
            else suspects.set(entry.id, entry.sk);
          }
          return;
        }
        report.claimed++;
        logger.debug({ taskId: entry.id, job: entry.job, slotClass: entry.slotClass, priority: priorityOf(entry), dueAt: entry.at, ahead }, 'claimed');
        if (ahead && entry.at > this.deps.clock.now()) this.deps.hold({ at: entry.at, slotClass: entry.slotClass, message: { taskId: entry.id, token: claim.token } });
        else outbox.add(entry.slotClass, { taskId: entry.id, token: claim.token });
      });
    }
    for (const [entry, problems] of invalid) await pool.run(() => this.failInvalid(entry, problems, now, report));
    for (const entry of expired) await pool.run(() => this.expire(entry, now, report));
    await pool.drain();
    await outbox.flush();
    this.suspects = suspects;
    return report;
  }

  /** Sends held messages now (their due time has come), in batches of ten per class. */
  async release(messages: readonly HeldMessage[], report: DispatchReport): Promise<void> {
    const outbox = new Outbox(this.deps.sender, report, this.deps.logger);
    for (const h of messages) outbox.add(h.slotClass, h.message);
    await outbox.flush();
  }

  private async expire(entry: SchedEntry, now: number, report: DispatchReport): Promise<void> {
    const task = await this.deps.lifecycle.store.get(entry.id);
    if (!task || task.status !== 'pending' || task.token !== entry.token) {
      report.conflicts++;
      return;
    }
    try {
      await finishTask(
        this.deps.lifecycle,
        { task, outcome: { status: 'failed', error: { reason: 'expired', message: `expired at ${new Date(Number(task.expiresAt)).toISOString()} before it was dispatched` } } },
        now,
      );
      report.expired++;
      this.deps.logger.debug({ taskId: task.id, job: task.job }, 'expired');
    } catch (err) {
      if (!(err instanceof ClaimConflictError)) throw err;
      report.conflicts++;
    }
  }

  private async failInvalid(entry: SchedEntry, problems: readonly string[], now: number, report: DispatchReport): Promise<void> {
    const outcome = await failInvalidTask(this.deps.lifecycle, entry, problems, now, 'pending');
    if (outcome === 'failed') {
      report.invalid++;
      this.deps.logger.warn({ taskId: entry.id, job: entry.job, problems }, 'failed a malformed task as invalid-task');
    }
  }

  /**
   * A claim lost twice in a row on the same index entry is not a race with another ticker (the
   * winner would have moved the entry): the item may no longer match its index entry, e.g. a
   * hand-edited status or token. One consistent read tells; a malformed item is failed.
   */
  private async checkSuspect(entry: SchedEntry, now: number, report: DispatchReport): Promise<void> {
    const record = await this.deps.lifecycle.store.get(entry.id);
    if (!record) return;
    const problems = recordProblems(record);
    if (problems.length > 0) await this.failInvalid(entry, problems, now, report);
  }
}

/** Collects claimed tasks per class and sends every full batch of ten at once, the rest at the end. */
class Outbox {
  private readonly buffers = new Map<string, DispatchMessage[]>();
  private readonly sends: Promise<void>[] = [];

  constructor(
    private readonly sender: DispatchSender,
    private readonly report: DispatchReport,
    private readonly logger: Logger,
  ) {}

  add(slotClass: string, message: DispatchMessage): void {
    const buffer = this.buffers.get(slotClass) ?? [];
    this.buffers.set(slotClass, buffer);
    buffer.push(message);
    if (buffer.length >= 10) this.sends.push(this.send(slotClass, buffer.splice(0)));
  }

  async flush(): Promise<void> {
    for (const [slotClass, buffer] of this.buffers) if (buffer.length > 0) this.sends.push(this.send(slotClass, buffer.splice(0)));
    await Promise.all(this.sends);
  }

  private async send(slotClass: string, batch: DispatchMessage[]): Promise<void> {
    const { failed, error } = await this.sender.send(slotClass, batch).catch((err: Error) => ({ failed: batch, error: `${err.name}: ${err.message}` }));
    this.report.dispatched += batch.length - failed.length;
    if (failed.length > 0) {
      this.report.sendFailed += failed.length;
      this.report.errors++;
      this.logger.error(
        { slotClass, count: failed.length, error, taskIds: failed.slice(0, 10).map((m) => m.taskId) },
        'could not send dispatch messages; the tasks stay queued and the reaper puts them back after the dispatch window',
      );
    }
  }
}
