import { indexWrites, itemWriteUnits } from '../../../bench/write-units';

// The write-unit rule of docs/data-model.md, checked on the items a task goes through.
const base = { pk: 'tasks#noop#3', sk: '01J.noop', status: 'pending', token: 'a', job: 'noop', slots: 1, slotClass: 'small' };
const sched = { gsi1pk: 'sched#small#0', gsi1sk: '100#899#01J.noop' };
const waiting = { gsi3pk: 'after#01I.noop', gsi3sk: '01J.noop' };

describe('write units priced from the item before and after', () => {
  it('charges a new task its base write plus one per index entry it enters', () => {
    expect(itemWriteUnits(undefined, { ...base, ...sched })).toBe(2);
    expect(itemWriteUnits(undefined, { ...base, ...waiting })).toBe(2);
    expect(itemWriteUnits(undefined, base)).toBe(1);
  });

  it('charges one for a changed projected attribute (the claim: a new token and checkAt on the same key)', () => {
    expect(indexWrites({ ...base, ...sched }, { ...base, ...sched, status: 'queued', token: 'b', checkAt: 160 })).toBe(1);
    expect(itemWriteUnits({ ...base, ...sched }, { ...base, ...sched, status: 'queued', token: 'b', checkAt: 160 })).toBe(2);
  });

  it('charges two for an index key that changes (a retry: due again later)', () => {
    expect(indexWrites({ ...base, ...sched, checkAt: 160 }, { ...base, gsi1pk: 'sched#small#0', gsi1sk: '900#899#01J.noop' })).toBe(2);
  });

  it('charges nothing extra for attributes no index holds, one for leaving an index', () => {
    const inFlight = { ...base, ...sched, status: 'queued', checkAt: 160 };
    expect(itemWriteUnits(inFlight, { ...inFlight, status: 'running', leaseUntil: 5 })).toBe(1);
    expect(itemWriteUnits(inFlight, { ...base, status: 'completed' })).toBe(2);
  });

  it('scales with the larger of the two sizes, per started kilobyte', () => {
    expect(itemWriteUnits({ ...base }, { ...base, result: 'x'.repeat(1500) })).toBe(2);
  });
});
