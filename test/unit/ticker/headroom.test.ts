import type { FleetConfig } from '../../../core/config/fleet';
import { DispatchBudget, compareDue, holdersByScope, oldestDueLag, orderDue, priorityOf, slotDemand, slotLimits, slotsByClass } from '../../../functions/ticker/headroom';
import { dueEntry } from './entries';

const fleet: FleetConfig = {
  classes: [
    { name: 'small', slotsPerRunner: 4, cpu: 512, memoryMiB: 1024, minRunners: 0, maxRunners: 2 },
    { name: 'large', slotsPerRunner: 16, cpu: 2048, memoryMiB: 4096, minRunners: 0, maxRunners: 1 },
  ],
};

describe('ordering of due tasks', () => {
  it('reads the priority back from the sort key', () => {
    expect(priorityOf(dueEntry('a', 1000, 0))).toBe(0);
    expect(priorityOf(dueEntry('a', 1000, 999))).toBe(999);
    expect(priorityOf(dueEntry('a', 1000, 250))).toBe(250);
  });

  it('orders by priority first, then the longest wait, then id', () => {
    const entries = [dueEntry('c', 3000, 100), dueEntry('b', 1000, 100), dueEntry('z', 5000, 900), dueEntry('a', 1000, 100), dueEntry('y', 9000, 10)];
    expect(orderDue(entries).map((e) => e.id)).toEqual(['z', 'a', 'b', 'c', 'y']);
    expect(entries.map((e) => e.id)).toEqual(['c', 'b', 'z', 'a', 'y']);
    expect(compareDue(dueEntry('a', 1, 5), dueEntry('b', 1, 5))).toBeLessThan(0);
  });
});

describe('headroom', () => {
  it('is capacity (max runners x slots per runner) plus the margin, minus slots in flight', () => {
    expect(slotLimits(fleet, 0)).toEqual(new Map([['small', 8], ['large', 16]]));
    expect(slotLimits(fleet, 0.1)).toEqual(new Map([['small', 9], ['large', 18]]));
    const inFlight = slotsByClass([dueEntry('q1', 0, 100, { slots: 3 }), dueEntry('q2', 0, 100, { slots: 2 }), dueEntry('l1', 0, 100, { slotClass: 'large', slots: 16 })]);
    const budget = new DispatchBudget(slotLimits(fleet, 0), inFlight);
    expect(budget.headroom('small')).toBe(3);
    expect(budget.headroom('large')).toBe(0);
    expect(budget.headroom('gpu')).toBe(0);
  });

  it('reserves in order and closes a class at the first task that does not fit (no overtaking)', () => {
    const budget = new DispatchBudget(new Map([['small', 4]]), new Map());
    expect(budget.tryReserve(dueEntry('a', 0, 900, { slots: 2 }))).toBe('ok');
    expect(budget.tryReserve(dueEntry('b', 0, 800, { slots: 3 }))).toBe('class-full');
    // Would fit, but a bigger task of higher priority is waiting.
    expect(budget.tryReserve(dueEntry('c', 0, 100, { slots: 1 }))).toBe('class-full');
    expect(budget.headroom('small')).toBe(2);
    expect(budget.tryReserve(dueEntry('d', 0, 100, { slotClass: 'gpu' }))).toBe('unknown-class');
  });

  it('gives back the slots of a lost claim', () => {
    const budget = new DispatchBudget(new Map([['small', 2]]), new Map());
    const a = dueEntry('a', 0);
    expect(budget.tryReserve(a)).toBe('ok');
    expect(budget.tryReserve(dueEntry('b', 0))).toBe('ok');
    budget.release(a);
    expect(budget.headroom('small')).toBe(1);
    expect(budget.tryReserve(dueEntry('c', 0))).toBe('ok');
    expect(budget.tryReserve(dueEntry('d', 0))).toBe('class-full');
  });

  it('skips a task whose concurrency scope is full without closing the class', () => {
    const singleton = (id: string) => dueEntry(id, 0, 500, { job: 'nightly', maxConcurrency: 1 });
    const held = holdersByScope([singleton('running-one')]);
    expect(held).toEqual(new Map([['job#nightly', 1]]));
    const budget = new DispatchBudget(new Map([['small', 8]]), new Map(), held);
    expect(budget.tryReserve(singleton('next'))).toBe('scope-full');
    expect(budget.tryReserve(dueEntry('other', 0))).toBe('ok');

    const perKey = (id: string) => dueEntry(id, 0, 100, { job: 'sync', concurrencyKey: 'tenant-1', concurrencyLimit: 2 });
    const fresh = new DispatchBudget(new Map([['small', 8]]), new Map());
    expect([perKey('1'), perKey('2'), perKey('3')].map((e) => fresh.tryReserve(e))).toEqual(['ok', 'ok', 'scope-full']);
  });

  it('a saturated class with five tasks of different priorities takes the two highest', () => {
    const due = [dueEntry('p10', 0, 10), dueEntry('p500', 5, 500), dueEntry('p100', 1, 100), dueEntry('p999', 9, 999), dueEntry('p50', 2, 50)];
    const budget = new DispatchBudget(new Map([['small', 2]]), new Map());
    const taken = orderDue(due).filter((e) => budget.tryReserve(e) === 'ok');
    expect(taken.map((e) => e.id)).toEqual(['p999', 'p500']);
  });
});

describe('slot demand and lag', () => {
  it('adds the slots of due tasks to those in flight, per fleet class', () => {
    const inFlight = new Map([['small', 3]]);
    const due = [dueEntry('a', 0, 100, { slots: 2 }), dueEntry('b', 0, 100, { slotClass: 'large', slots: 8 })];
    expect(slotDemand(['small', 'large'], inFlight, due)).toEqual(new Map([['small', 5], ['large', 8]]));
  });

  it('is the wait of the oldest due task, 0 when nothing is due', () => {
    const due = [dueEntry('a', 1000), dueEntry('b', 400), dueEntry('c', 700, 100, { slotClass: 'large' })];
    expect(oldestDueLag(['small', 'large', 'empty'], due, 1500)).toEqual(new Map([['small', 1100], ['large', 800], ['empty', 0]]));
  });
});
