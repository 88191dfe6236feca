import { finishTask } from '../../../core/lifecycle/finish';
import type { SchedEntry } from '../../../core/store/task-store';
import { sdkHarness, type SdkHarness } from './sdk-fixtures';

describe('concurrency limits', () => {
  let h: SdkHarness;
  beforeAll(async () => (h = await sdkHarness('sdk-conc')));
  afterAll(() => h.env.cleanup());

  const entryOf = async (id: string): Promise<SchedEntry> => {
    const all = (await Promise.all([0, 1, 2, 3].map((s) => h.env.services.store.queryDue('small', s, h.clock.now + 1)))).flat();
    return all.find((e) => e.id === id) as SchedEntry;
  };

  it('admits at most the per-key limit per tenant and the job limit overall, and frees a slot when a task ends', async () => {
    const { store } = h.env.services;
    const a = await Promise.all([1, 2, 3].map(() => h.client.schedule('sync-tenant', null, { concurrencyKey: 'tenant-a' })));
    const b = await Promise.all([1, 2].map(() => h.client.schedule('sync-tenant', null, { concurrencyKey: 'tenant-b' })));

    const claim = async (id: string) => store.claim(await entryOf(id), h.clock.now, 60_000);
    const aClaims = [await claim(a[0]!.id), await claim(a[1]!.id), await claim(a[2]!.id)];
    expect(aClaims.map(Boolean)).toEqual([true, true, false]); // 2 per tenant
    const bClaims = [await claim(b[0]!.id), await claim(b[1]!.id)];
    expect(bClaims.map(Boolean)).toEqual([true, false]); // job-wide limit of 3 reached
    expect((await store.concurrencyHolders('job#sync-tenant')).sort()).toEqual([a[0]!.id, a[1]!.id, b[0]!.id].sort());

    const running = await store.start(a[0]!.id, aClaims[0]!.token, 'r1', h.clock.now, 30_000);
    await finishTask(h.env.services, { task: running, outcome: { status: 'completed' } }, h.clock.now);
    expect(await store.concurrencyHolders('key#sync-tenant#tenant-a')).toEqual([a[1]!.id]);
    expect(Boolean(await claim(a[2]!.id))).toBe(true);
  });

  it('rejects a concurrency key on a job without a per-key limit', async () => {
    await expect(h.client.schedule('email', undefined, { concurrencyKey: 't' })).rejects.toThrow(/options\.concurrencyKey: has no limit/);
  });
});
