import type { FleetConfig } from '../../core/config/fleet';
import { MAX_PRIORITY } from '../../core/model/keys';
import { concurrencyScopes, type SchedEntry } from '../../core/store/task-store';

/**
 * Pure dispatch planning: the order in which due tasks are claimed, and how many slots each
 * slot class may still take. Priority cannot be seen inside SQS, so the ticker dispatches only up
 * to each class's headroom and the ordered backlog stays in DynamoDB.
 */

/** Priority encoded in a due sort key `<dueAt>#<999-priority>#<id>`. */
export function priorityOf(entry: Pick<SchedEntry, 'sk'>): number {
  const inverted = Number(entry.sk.split('#')[1]);
  return Number.isFinite(inverted) ? MAX_PRIORITY - inverted : 0;
}

/** Higher priority first, then the longest-waiting, then by id (stable). */
export function compareDue(a: SchedEntry, b: SchedEntry): number {
  return priorityOf(b) - priorityOf(a) || a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function orderDue(entries: readonly SchedEntry[]): SchedEntry[] {
  // Each key's priority is read once, not once per comparison: a big backlog is sorted every tick.
  return entries
    .map((entry) => ({ entry, priority: priorityOf(entry) }))
    .sort((a, b) => b.priority - a.priority || a.entry.at - b.entry.at || (a.entry.id < b.entry.id ? -1 : a.entry.id > b.entry.id ? 1 : 0))
    .map((x) => x.entry);
}

/** Slots a class may hold in flight: capacity (max runners x slots per runner) plus the margin, rounded up. */
export function slotLimits(fleet: FleetConfig, marginFraction: number): Map<string, number> {
  return new Map(
    fleet.classes.map((c) => {
      const capacity = c.maxRunners * c.slotsPerRunner;
      return [c.name, capacity + Math.ceil(capacity * marginFraction)];
    }),
  );
}

/** Slots per class taken by in-flight entries (queued, running, or ended with follow-up pending). */
export function slotsByClass(entries: readonly Pick<SchedEntry, 'slotClass' | 'slots'>[]): Map<string, number> {
  const used = new Map<string, number>();
  for (const e of entries) used.set(e.slotClass, (used.get(e.slotClass) ?? 0) + (Number.isFinite(e.slots) ? e.slots : 1));
  return used;
}

/** Tasks in flight per concurrency scope (a job's limit, a concurrency key's limit). */
export function holdersByScope(entries: readonly SchedEntry[]): Map<string, number> {
  const held = new Map<string, number>();
  for (const e of entries) for (const { scope } of concurrencyScopes(e)) held.set(scope, (held.get(scope) ?? 0) + 1);
  return held;
}

export type Reservation = 'ok' | 'class-full' | 'scope-full' | 'unknown-class';

/**
 * The slots each class may still take in this tick. Strict order: once a task does not fit its
 * class, the class is closed for the rest of the tick, so a smaller, lower-priority task never
 * overtakes a bigger, higher-priority one (which would starve it). A task whose concurrency scope
 * is full is skipped without closing the class: it could not run anyway.
 */
export class DispatchBudget {
  private readonly free = new Map<string, number>();
  private readonly closed = new Set<string>();
  private readonly scopes: Map<string, number>;

  constructor(limits: ReadonlyMap<string, number>, inFlightSlots: ReadonlyMap<string, number>, scopeHolders: ReadonlyMap<string, number> = new Map()) {
    for (const [name, limit] of limits) this.free.set(name, Math.max(0, limit - (inFlightSlots.get(name) ?? 0)));
    this.scopes = new Map(scopeHolders);
  }

  headroom(slotClass: string): number {
    return this.free.get(slotClass) ?? 0;
  }

  tryReserve(entry: SchedEntry): Reservation {
    const free = this.free.get(entry.slotClass);
    if (free === undefined) return 'unknown-class';
    if (this.closed.has(entry.slotClass)) return 'class-full';
    const scopes = concurrencyScopes(entry);
    if (scopes.some(({ scope, limit }) => (this.scopes.get(scope) ?? 0) >= limit)) return 'scope-full';
    if (entry.slots > free) {
      this.closed.add(entry.slotClass);
      return 'class-full';
    }
    this.free.set(entry.slotClass, free - entry.slots);
    for (const { scope } of scopes) this.scopes.set(scope, (this.scopes.get(scope) ?? 0) + 1);
    return 'ok';
  }

  /** Gives back a reservation whose claim was lost. */
  release(entry: SchedEntry): void {
    const free = this.free.get(entry.slotClass);
    if (free === undefined) return;
    this.free.set(entry.slotClass, free + entry.slots);
    for (const { scope } of concurrencyScopes(entry)) this.scopes.set(scope, Math.max(0, (this.scopes.get(scope) ?? 0) - 1));
  }
}

/**
 * Slots demanded per class: in flight (queued + running) plus due now, each times its slots.
 * What the runner fleet scales on.
 */
export function slotDemand(classes: readonly string[], inFlight: ReadonlyMap<string, number>, due: readonly Pick<SchedEntry, 'slotClass' | 'slots'>[]): Map<string, number> {
  const dueSlots = slotsByClass(due);
  return new Map(classes.map((c) => [c, (inFlight.get(c) ?? 0) + (dueSlots.get(c) ?? 0)]));
}

/** How long the oldest due task of each class has waited (0 when none is due). */
export function oldestDueLag(classes: readonly string[], due: readonly Pick<SchedEntry, 'slotClass' | 'at'>[], now: number): Map<string, number> {
  const lag = new Map(classes.map((c) => [c, 0]));
  for (const e of due) if (lag.has(e.slotClass) && Number.isFinite(e.at)) lag.set(e.slotClass, Math.max(lag.get(e.slotClass) ?? 0, now - e.at));
  return lag;
}
