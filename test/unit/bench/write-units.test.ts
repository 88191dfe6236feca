import { indexWrites, itemWriteUnits } from '../../../bench/write-units';

// The write-unit rule of docs/data-model.md, checked on the items a task goes through.
const base = { pk: 'task#1', sk: 'task', status: 'pending', token: 'a', job: 'noop', slots: 1, slotClass: 'small', gsi2pk: 'job#noop#0', gsi2sk: '1' };
const due = { gsi1pk: 'due#small#0', gsi1sk: '100#899#1' };
const active = { gsi1pk: 'active#0', gsi1sk: '160#1' };

describe('write units priced from the item before and after', () => {
  it('charges a new task its base write plus one per index entry it enters', () => {
    expect(itemWriteUnits(undefined, { ...base, ...due })).toBe(3);
  });

  it('charges two for an index key that changes (the claim: due -> active, with a new token)', () => {
    expect(indexWrites({ ...base, ...due }, { ...base, ...active, status: 'queued', token: 'b' })).toBe(2);
    expect(itemWriteUnits({ ...base, ...due }, { ...base, ...active, status: 'queued', token: 'b' })).toBe(3);
  });

  it('charges nothing extra for attributes no index holds, one for a projected one, one for leaving an index', () => {
    expect(itemWriteUnits({ ...base, ...active }, { ...base, ...active, status: 'running', leaseUntil: 5 })).toBe(1);
    expect(indexWrites({ ...base, ...active }, { ...base, ...active, token: 'c' })).toBe(1);
    expect(itemWriteUnits({ ...base, ...active }, { ...base, status: 'completed' })).toBe(2);
  });

  it('scales with the larger of the two sizes, per started kilobyte', () => {
    expect(itemWriteUnits({ ...base }, { ...base, result: 'x'.repeat(1500) })).toBe(2);
  });
});
