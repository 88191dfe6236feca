import { sleepOn, type Clock, type Timer } from '../../core/clock';
import type { Rng } from './rng';

/**
 * The simulated world: one virtual time line, a queue of events, and the processes that live on
 * it. Nothing waits on the wall clock: an event runs, every promise continuation it made ready
 * runs (the microtask queue is drained before the next event), and time jumps to the next event.
 * With one seed for every random choice, a run is a pure function of its seed.
 */
interface Event {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  /** The process whose code this event runs, if any: held while it is frozen, dropped once it crashed. */
  readonly owner?: SimProcess;
  readonly epoch: number;
  cancelled: boolean;
}

export interface TraceLine {
  readonly at: number;
  readonly who: string;
  readonly what: string;
}

const TRACE_KEEP = 4000;

export class World {
  now: number;
  private heap: Event[] = [];
  private seq = 0;
  readonly processes: SimProcess[] = [];
  private readonly traceRing: TraceLine[] = [];
  private traceAt = 0;
  eventsRun = 0;

  constructor(
    start: number,
    readonly rng: Rng,
    /** Print every trace line as it happens (replays of a failing seed). */
    readonly echo = false,
  ) {
    this.now = start;
  }

  /** Runs `fn` at `at` (not before now). Owned events follow their process's fate. */
  at(at: number, fn: () => void, owner?: SimProcess): Timer {
    const event: Event = { at: Math.max(at, this.now), seq: this.seq++, fn, ...(owner ? { owner } : {}), epoch: owner?.epoch ?? 0, cancelled: false };
    this.push(event);
    return { cancel: () => void (event.cancelled = true) };
  }

  trace(who: string, what: string): void {
    const line = { at: this.now, who, what };
    if (this.echo) process.stdout.write(`${formatLine(line)}\n`);
    if (this.traceRing.length < TRACE_KEEP) this.traceRing.push(line);
    else {
      this.traceRing[this.traceAt] = line;
      this.traceAt = (this.traceAt + 1) % TRACE_KEEP;
    }
  }

  /** The last trace lines, oldest first. */
  traceLines(): TraceLine[] {
    return [...this.traceRing.slice(this.traceAt), ...this.traceRing.slice(0, this.traceAt)];
  }

  /** Runs events until `done()` or virtual time passes `until`. Returns whether `done()` held. */
  async runUntil(done: () => boolean, until: number): Promise<boolean> {
    for (;;) {
      if (done()) return true;
      const event = this.pop();
      if (!event) return done();
      if (event.at > until) {
        this.push(event);
        this.now = until;
        return done();
      }
      if (event.cancelled) continue;
      const owner = event.owner;
      if (owner) {
        if (owner.epoch !== event.epoch) continue;
        if (owner.state === 'frozen') {
          owner.held.push(event);
          continue;
        }
      }
      this.now = event.at;
      this.eventsRun++;
      event.fn();
      // Every continuation this event made ready runs before time moves on.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Puts events a frozen process could not run back on the time line, at now. */
  release(events: readonly Event[]): void {
    for (const e of events) this.push({ ...e, at: this.now, seq: this.seq++ });
  }

  private push(e: Event): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p] as Event, e)) break;
      h[i] = h[p] as Event;
      i = p;
    }
    h[i] = e;
  }

  private pop(): Event | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0] as Event;
    const last = h.pop() as Event;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        const cur = () => (m === i ? last : (h[m] as Event));
        if (l < h.length && before(h[l] as Event, cur())) m = l;
        if (r < h.length && before(h[r] as Event, cur())) m = r;
        if (m === i) break;
        h[i] = h[m] as Event;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

const before = (a: Event, b: Event): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export const formatLine = (l: TraceLine, start = 0): string => `${String(l.at - start).padStart(9)} ms  ${l.who.padEnd(12)} ${l.what}`;

export type ProcessState = 'up' | 'frozen' | 'down';

/** A request the network or the service failed: what the AWS SDK would throw after its retries. */
export class SimNetworkError extends Error {
  constructor(
    name: string,
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

export interface NetworkProfile {
  /** One-way latency of a request or response, ms. */
  latency(): number;
  /** Chance that a request fails before reaching the service (throttled, connection reset). */
  readonly transientErrorRate: number;
  /** Chance that the service applied a request but its answer was lost (an ambiguous failure). */
  readonly lostResponseRate: number;
  /** The clients' request timeout: a call with no answer by then fails. */
  readonly requestTimeoutMs: number;
}

/**
 * One process of the deployment (a ticker, a runner, an SDK client). It can crash (everything in
 * memory is gone; its pending calls never answer; its child sandboxes die with it), freeze (it
 * runs nothing until thawed; its sandboxes keep running), or be cut off from AWS (its calls time
 * out; its sandboxes keep running). Its clock may run ahead of or behind true time.
 */
export class SimProcess {
  state: ProcessState = 'up';
  partitioned = false;
  epoch = 0;
  readonly held: Event[] = [];
  /** Called when the process crashes (its children die with it). */
  readonly onCrash: (() => void)[] = [];
  readonly clock: Clock;
  /** Total time spent frozen or cut off, and since when (for the invariant checks). */
  impairedSince?: number;
  readonly impaired: { from: number; to: number }[] = [];

  constructor(
    readonly world: World,
    readonly name: string,
    readonly skewMs: number,
    readonly network: NetworkProfile,
  ) {
    world.processes.push(this);
    const clock: Clock = {
      now: () => world.now + this.skewMs,
      setTimer: (ms, fn) => world.at(world.now + Math.max(0, ms), fn, this),
      sleep: (ms, signal) => sleepOn(clock, ms, signal),
    };
    this.clock = clock;
  }

  get up(): boolean {
    return this.state === 'up';
  }

  /**
   * One call to a service: the request travels, is applied at one instant (or lost), and the
   * answer travels back to this process, unless it crashed, or it is cut off, in which case the
   * call fails at its request timeout.
   */
  call<T>(label: string, apply: () => T | Promise<T>, extraWaitMs = 0): Promise<T> {
    const { world, network } = this;
    const timeoutMs = network.requestTimeoutMs + extraWaitMs;
    const epoch = this.epoch;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        timeout.cancel();
        fn();
      };
      const timeout = this.clock.setTimer(timeoutMs, () => settle(() => reject(new SimNetworkError('TimeoutError', `${label}: no answer within ${timeoutMs} ms`))),
      );
      if (this.partitioned || this.epoch !== epoch) return; // the request never leaves
      if (world.rng.chance(network.transientErrorRate)) {
        world.at(world.now + network.latency(), () => settle(() => reject(new SimNetworkError('ThrottlingException', `${label}: throttled`))), this);
        return;
      }
      world.at(world.now + network.latency(), () => {
        let outcome: Promise<T>;
        try {
          outcome = Promise.resolve(apply());
        } catch (err) {
          outcome = Promise.reject(err);
        }
        const lost = world.rng.chance(network.lostResponseRate);
        void outcome.then(
          (value) => this.answer(epoch, lost, () => settle(() => resolve(value))),
          (err: unknown) => this.answer(epoch, lost, () => settle(() => reject(err))),
        );
      });
    });
  }

  private answer(epoch: number, lost: boolean, deliver: () => void): void {
    // Lost on the way back, or the process that asked has crashed since: nobody hears it.
    if (lost || this.epoch !== epoch) return;
    this.world.at(
      this.world.now + this.network.latency(),
      () => {
        // Cut off now: the answer does not arrive; the call times out.
        if (!this.partitioned) deliver();
      },
      this,
    );
  }

  crash(): void {
    if (this.state === 'down') return;
    this.world.trace(this.name, 'CRASH');
    this.endImpairment();
    this.state = 'down';
    this.epoch++;
    this.held.length = 0;
    for (const f of this.onCrash.splice(0)) f();
  }

  freeze(): void {
    if (this.state !== 'up') return;
    this.world.trace(this.name, 'FREEZE');
    this.state = 'frozen';
    this.impairedSince ??= this.world.now;
  }

  thaw(): void {
    if (this.state !== 'frozen') return;
    this.world.trace(this.name, 'THAW');
    this.state = 'up';
    if (!this.partitioned) this.endImpairment();
    this.world.release(this.held.splice(0));
  }

  partition(): void {
    if (this.partitioned || this.state === 'down') return;
    this.world.trace(this.name, 'PARTITION');
    this.partitioned = true;
    this.impairedSince ??= this.world.now;
  }

  heal(): void {
    if (!this.partitioned) return;
    this.world.trace(this.name, 'HEAL');
    this.partitioned = false;
    if (this.state === 'up') this.endImpairment();
  }

  /** Comes back after a crash, as a new instance with nothing in memory. */
  restart(): void {
    this.world.trace(this.name, 'RESTART');
    this.state = 'up';
    this.partitioned = false;
  }

  private endImpairment(): void {
    if (this.impairedSince !== undefined) this.impaired.push({ from: this.impairedSince, to: this.world.now });
    this.impairedSince = undefined;
  }

  /** Whether the process was frozen or cut off at some time in [from, to]. */
  wasImpaired(from: number, to: number): boolean {
    if (this.impairedSince !== undefined && this.impairedSince <= to) return true;
    return this.impaired.some((i) => i.from <= to && i.to >= from);
  }
}
