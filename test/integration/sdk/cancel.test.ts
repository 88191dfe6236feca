import { ClaimConflictError } from '../../../core/errors';
import type { SchedEntry } from '../../../core/store/task-store';
import { sdkHarness, type SdkHarness } from './sdk-fixtures';

describe('cancel', () => {
  let h: SdkHarness;
  beforeAll(async () => (h = await sdkHarness('sdk-cancel')));
  afterAll(() => h.env.cleanup());

  const dueEntry = async (id: string): Promise<SchedEntry> => {
    const all = await Promise.all([0, 1, 2, 3].map((s) => h.env.services.store.queryDue('small', s, h.clock.now + 1)));
    const entry = all.flat().find((e) => e.id === id);
    if (!entry) throw new Error(`task ${id} is not in the due index`);
    return entry;
  };

  it('cancels a pending task at once and takes it out of the due index', async () => {
    const task = await h.client.schedule('email');
    const cancelled = await h.client.cancel(task.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', error: { reason: 'cancelled' } });
    await expect(dueEntry(task.id)).rejects.toThrow(/not in the due index/);
    expect((await h.client.get(task.id)).effectsDone).toBe(true);
  });

  it('racing a claim ends in exactly one state, every time', async () => {
    for (let i = 0; i < 10; i++) {
      const task = await h.client.schedule('email');
      const entry = await dueEntry(task.id);
      const [claim, cancel] = await Promise.allSettled([h.env.services.store.claim(entry, h.clock.now, 60_000), h.client.cancel(task.id)]);
      expect(cancel.status).toBe('fulfilled');
      const final = await h.client.get(task.id);
      expect(final.status).toBe('cancelled');
      const claimedToken = claim.status === 'fulfilled' ? claim.value?.token : undefined;
      // The claim either lost (no token) or won and its token is the one the cancel fenced on.
      if (claimedToken) expect(final.token).toBe(claimedToken);
      // A runner holding the claim's message can no longer start it.
      if (claimedToken) await expect(h.env.services.store.start(task.id, claimedToken, 'r', h.clock.now, 1000)).rejects.toThrow(ClaimConflictError);
    }
  });

  it('asks the runner to stop a running task instead of ending it', async () => {
    const task = await h.client.schedule('email');
    const claimed = await h.env.services.store.claim(await dueEntry(task.id), h.clock.now, 60_000);
    await h.env.services.store.start(task.id, claimed!.token, 'runner-1', h.clock.now, 30_000);
    const asked = await h.client.cancel(task.id);
    expect(asked).toMatchObject({ status: 'running', cancelRequested: true });
    const { cancelRequested } = await h.env.services.store.heartbeat(task.id, claimed!.token, h.clock.now, 30_000);
    expect(cancelRequested).toBe(true);
  });
});
