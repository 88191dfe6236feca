import { INDEX } from '../../../core/model/keys';
import { MemoryTable, MemoryTableValidationError } from '../../../core/store/memory-table';
import { describeTableContract } from '../../support/table-contract';

describeTableContract('the in-memory adapter', async () => ({
  table: new MemoryTable({ now: () => 1_800_000_000_000 }),
  eventually: (check) => check(),
  cleanup: async () => undefined,
}));

describe('the in-memory table, beyond the shared contract', () => {
  it('shows a write in its indexes only after the configured lag, in write order per item', async () => {
    let now = 1000;
    const table = new MemoryTable({ now: () => now, indexLagMs: () => 50 });
    const k = { pk: 'a', sk: 'a' };
    await table.put({ ...k, [INDEX.sched.pk]: 'p', [INDEX.sched.sk]: '1' });
    expect((await table.query({ index: INDEX.sched.name, pk: 'p' })).items).toHaveLength(0);
    now += 50;
    expect((await table.query({ index: INDEX.sched.name, pk: 'p' })).items).toHaveLength(1);
    await table.update(k, { remove: [INDEX.sched.pk, INDEX.sched.sk] }, {});
    expect((await table.query({ index: INDEX.sched.name, pk: 'p' })).items).toHaveLength(1);
    now += 50;
    expect((await table.query({ index: INDEX.sched.name, pk: 'p' })).items).toHaveLength(0);
  });

  it('deletes items some time after their ttl, from the table and its indexes', async () => {
    let now = 10_000;
    const table = new MemoryTable({ now: () => now, ttlDelayMs: 5000 });
    await table.put({ pk: 'a', sk: 'a', ttl: 10, [INDEX.sched.pk]: 'p', [INDEX.sched.sk]: '1' });
    expect(table.sweepExpired()).toBe(0);
    now = 15_000;
    expect(table.sweepExpired()).toBe(1);
    expect(await table.get({ pk: 'a', sk: 'a' })).toBeUndefined();
    expect((await table.query({ index: INDEX.sched.name, pk: 'p' })).items).toHaveLength(0);
  });

  it('refuses what DynamoDB refuses: NaN, empty sets, two writes to one item in a transaction, nesting past 32 levels', async () => {
    const table = new MemoryTable({ now: () => 0 });
    await expect(table.put({ pk: 'a', sk: 'a', n: Number.NaN })).rejects.toBeInstanceOf(MemoryTableValidationError);
    await expect(table.put({ pk: 'a', sk: 'a', s: new Set() })).rejects.toBeInstanceOf(MemoryTableValidationError);
    await expect(table.transact([{ put: { pk: 'a', sk: 'a' } }, { put: { pk: 'a', sk: 'a' } }])).rejects.toBeInstanceOf(MemoryTableValidationError);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    await expect(table.put({ pk: 'a', sk: 'a', deep })).rejects.toBeInstanceOf(MemoryTableValidationError);
  });

  it('hands out copies, so a caller changing what it read or wrote changes nothing stored', async () => {
    const table = new MemoryTable({ now: () => 0 });
    const item = { pk: 'a', sk: 'a', args: { n: 1 } };
    await table.put(item);
    item.args.n = 2;
    const read = await table.get({ pk: 'a', sk: 'a' });
    (read?.args as { n: number }).n = 3;
    expect(await table.get({ pk: 'a', sk: 'a' })).toMatchObject({ args: { n: 1 } });
  });
});
