import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../core/clock';
import type { FleetConfig } from '../../core/config/fleet';
import type { RuntimeConfig } from '../../core/config/runtime';
import type { LifecycleDeps } from '../../core/lifecycle/finish';
import type { SchedEntry } from '../../core/store/task-store';
import { DEFAULT_TICKER_OPTIONS, type TickerOptions } from './config';
import { addSends, Dispatcher, emptyDispatchReport, type DispatchReport, type HeldMessage } from './dispatch';
import { HeldMessages } from './held-messages';
import { DispatchBudget, holdersByScope, oldestDueLag, slotDemand, slotLimits, slotsByClass } from './headroom';
import { emfDocuments, type MetricsSink } from './metrics';
import { Reaper, emptyReapReport, type ReapReport } from './reaper';
import type { DispatchSender } from './sqs-dispatcher';
import type { Route } from './validate';

export interface TickerDeps {
  /** Core's services: the stores and the shared finish path's dependencies. */
  readonly lifecycle: LifecycleDeps;
  readonly config: Pick<RuntimeConfig, 'queueUrls' | 'shards' | 'dispatchWindowMs' | 'graceMs'>;
  readonly fleet: FleetConfig;
  readonly sender: DispatchSender;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  readonly options?: Partial<TickerOptions>;
  /** Sends held messages at their due time. @default the wall clock */
  readonly clock?: Clock;
}

export interface TickReport {
  readonly at: number;
  readonly durationMs: number;
  /** Due entries found (at or before `at`). */
  readonly due: number;
  /** In-flight entries found (queued, running, or ended with follow-up pending). */
  readonly inFlight: number;
  readonly dispatch: DispatchReport;
  readonly reap: ReapReport;
  /** Due time of the earliest task falling due within the look-ahead (claimed and held, or still pending), if any. */
  readonly nextDueAt?: number;
  /** Messages of tasks claimed ahead of time, held until their due time. */
  readonly held: number;
  /** Slots of queued + running + due tasks, per class. */
  readonly demand: Readonly<Record<string, number>>;
  /** Wait of the oldest due task, per class, in ms. */
  readonly lagMs: Readonly<Record<string, number>>;
  /** Partition queries that failed (their tasks wait for a later tick). */
  readonly queryErrors: number;
}

/**
 * One tick: read the sched partitions, dispatch what is due in priority order up to each class's
 * headroom, reap the in-flight entries whose look-again time has passed, publish slot demand and
 * lag, and log one line. Time is an argument: `tick(now)`.
 *
 * Look-ahead: tasks falling due before `now + lookaheadMs` are claimed in this tick (after every
 * due one, as of their due time) and their messages held in memory, each sent on a timer at its
 * due time, even while a tick is still claiming: a task leaves at its due time, or as soon as its
 * claim completes if that is later. `releaseRemaining` sends what is still held before the process ends; if it dies instead,
 * the reaper puts those tasks back after the dispatch window.
 */
export class Ticker {
  readonly options: TickerOptions;
  private readonly held: HeldMessages;
  /** What the held messages' sends did since the last tick reported them. */
  private released = emptyDispatchReport();
  private readonly routes: Map<string, Route>;
  private readonly classes: string[];
  private readonly limits: Map<string, number>;
  private readonly dispatcher: Dispatcher;
  private readonly reaper: Reaper;

  constructor(private readonly deps: TickerDeps) {
    const clock = deps.clock ?? systemClock;
    const options = { ...DEFAULT_TICKER_OPTIONS, ...deps.options };
    // A held task must be sent long before the reaper would take it for lost.
    this.options = { ...options, lookaheadMs: Math.min(options.lookaheadMs, Math.floor(deps.config.dispatchWindowMs / 2)) };
    this.routes = new Map<string, Route>();
    for (const c of deps.fleet.classes) this.routes.set(c.name, { queueUrl: deps.config.queueUrls[c.name], slotsPerRunner: c.slotsPerRunner });
    for (const [name, queueUrl] of Object.entries(deps.config.queueUrls)) if (!this.routes.has(name)) this.routes.set(name, { queueUrl });
    // Partitions of classes with a queue but no fleet entry (or the reverse) are read too: their tasks are failed with a clear reason.
    this.classes = [...this.routes.keys()];
    this.limits = slotLimits(deps.fleet, this.options.headroomMargin);
    this.dispatcher = new Dispatcher({
      lifecycle: deps.lifecycle,
      sender: deps.sender,
      routes: this.routes,
      dispatchWindowMs: deps.config.dispatchWindowMs,
      claimConcurrency: this.options.claimConcurrency,
      logger: deps.logger,
      clock,
      hold: (message) => this.held.hold(message),
    });
    this.held = new HeldMessages(clock, (ready) => this.send(ready));
    this.reaper = new Reaper({
      lifecycle: deps.lifecycle,
      dispatchWindowMs: deps.config.dispatchWindowMs,
      graceMs: deps.config.graceMs,
      concurrency: this.options.claimConcurrency,
      logger: deps.logger,
      ...(deps.sender.waiting ? { waiting: deps.sender.waiting.bind(deps.sender) } : {}),
      coldStartMs: this.options.coldStartMs,
    });
  }

  async tick(now: number): Promise<TickReport> {
    const started = performance.now();
    const { lifecycle, logger } = this.deps;
    const { shards } = this.deps.config;
    let queryErrors = 0;
    const guarded = (what: Record<string, unknown>, query: Promise<{ pending: SchedEntry[]; inFlight: SchedEntry[] }>) =>
      query.catch((err: unknown) => {
        queryErrors++;
        logger.error({ err, ...what }, 'partition query failed; its tasks wait for a later tick');
        return { pending: [] as SchedEntry[], inFlight: [] as SchedEntry[] };
      });
    const shardList = Array.from({ length: shards }, (_, s) => s);
    const upTo = now + this.options.lookaheadMs;
    // Held messages whose timer has not fired yet (a late timer) go out first, alongside the reads.
    const releasing = this.held.releaseDue(now);
    // Every in-flight entry comes with the due ones, not only those due for a look: their slots are the classes' load.
    const partitions = await Promise.all(
      this.classes.flatMap((slotClass) => shardList.map((shard) => guarded({ slotClass, shard }, lifecycle.store.querySched(slotClass, shard, upTo, this.options.maxDuePerPartition)))),
    );

    const due: SchedEntry[] = [];
    const upcoming: SchedEntry[] = [];
    for (const entry of partitions.flatMap((p) => p.pending)) (entry.at > now ? upcoming : due).push(entry);
    const active = partitions.flatMap((p) => p.inFlight);
    const inFlight = slotsByClass(active);
    const budget = new DispatchBudget(this.limits, inFlight, holdersByScope(active));
    const lookAt = (e: SchedEntry) => e.checkAt ?? e.at;
    const reapable = active
      .filter((e) => !(lookAt(e) > now))
      .sort((a, b) => lookAt(a) - lookAt(b))
      .slice(0, this.options.maxReapPerTick);

    const fleetClasses = this.deps.fleet.classes.map((c) => c.name);
    const demand = slotDemand(fleetClasses, inFlight, due);
    const lag = oldestDueLag(fleetClasses, due, now);

    const [dispatch, reap] = await Promise.all([
      due.length + upcoming.length > 0 ? this.dispatcher.dispatch(due, budget, now, upcoming) : emptyDispatchReport(),
      reapable.length > 0 ? this.reaper.reap(reapable, now) : emptyReapReport(),
      releasing,
    ]);
    addSends(dispatch, this.released);
    this.released = emptyDispatchReport();
    // The loop ticks again when the first upcoming task falls due: one left pending (no headroom) gets its turn then.
    let nextDueAt: number | undefined;
    for (const { at } of upcoming) if (nextDueAt === undefined || at < nextDueAt) nextDueAt = at;

    this.deps.metrics(emfDocuments(fleetClasses.map((c) => ({ slotClass: c, slotDemand: demand.get(c) ?? 0, oldestDueLagMs: lag.get(c) ?? 0 })), now));
    const report: TickReport = {
      at: now,
      durationMs: Math.round(performance.now() - started),
      due: due.length,
      inFlight: active.length,
      dispatch,
      reap,
      ...(nextDueAt !== undefined ? { nextDueAt } : {}),
      held: this.held.size,
      demand: Object.fromEntries(demand),
      lagMs: Object.fromEntries(lag),
      queryErrors,
    };
    const errors = queryErrors + dispatch.errors + reap.errors;
    logger[errors > 0 ? 'warn' : 'info'](
      {
        claimed: dispatch.claimed,
        dispatched: dispatch.dispatched,
        conflicts: dispatch.conflicts,
        recovered: reap.putBack + reap.runnerLost + reap.followUps,
        lagMs: Math.max(0, ...lag.values()),
        due: due.length,
        inFlight: active.length,
        ...(dispatch.limited ? { limited: dispatch.limited } : {}),
        ...(dispatch.expired + reap.expired ? { expired: dispatch.expired + reap.expired } : {}),
        ...(dispatch.invalid + reap.invalid ? { invalid: dispatch.invalid + reap.invalid } : {}),
        ...(reap.putBack ? { putBack: reap.putBack } : {}),
        ...(reap.waitingForRunners ? { waitingForRunners: reap.waitingForRunners } : {}),
        ...(reap.runnerLost ? { runnerLost: reap.runnerLost } : {}),
        ...(reap.followUps ? { followUps: reap.followUps } : {}),
        ...(dispatch.sendFailed ? { sendFailed: dispatch.sendFailed } : {}),
        ...(this.held.size ? { held: this.held.size } : {}),
        ...(errors ? { errors } : {}),
        durationMs: report.durationMs,
      },
      'tick',
    );
    return report;
  }

  /** Sends held messages (their due time has come); what it did shows in the next tick's report. */
  private async send(ready: readonly HeldMessage[]): Promise<void> {
    // A report of its own: a tick may swap `released` for a fresh one while this send is under way.
    const report = emptyDispatchReport();
    await this.dispatcher.release(ready, report);
    addSends(this.released, report);
  }

  /** Before the process stops: waits for each held message's due time and sends it; returns how many went out. */
  async releaseRemaining(): Promise<number> {
    // No tick runs any more, so nothing resets `released` meanwhile.
    const before = this.released.dispatched;
    await this.held.drain();
    return this.released.dispatched - before;
  }
}
