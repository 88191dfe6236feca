import { defineCatalogue } from '../../../core/catalogue';
import { IdempotencyConflictError } from '../../../core/errors';
import { occurrenceId } from '../../../core/model/keys';
import { JobfleetClient } from '../../../core/sdk/client';
import { sdkHarness, type SdkHarness } from './sdk-fixtures';

/** Issue 12's rules where DynamoDB's behaviour matters: idempotency keys, paging, sync, catch-up. */
describe('input rules against DynamoDB', () => {
  let h: SdkHarness;
  beforeAll(async () => (h = await sdkHarness('sdk-input')));
  afterAll(() => h.env.cleanup());

  it('refuses an idempotency key reused with other args, naming both', async () => {
    const first = await h.client.schedule('email', { to: 'a@example.com' }, { idempotencyKey: 'order-1' });
    const err = await h.client.schedule('email', { to: 'b@example.com' }, { idempotencyKey: 'order-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyConflictError);
    expect((err as IdempotencyConflictError).existingTaskId).toBe(first.id);
    expect((err as Error).message).toBe(
      `options.idempotencyKey: "order-1" already names task ${first.id} of job "email" with args {"to":"a@example.com"}; this call asked for job "email" with args {"to":"b@example.com"} (other args). Use a different key for a different request, or the same job and args to get the existing task back`,
    );
  });

  it('refuses an idempotency key reused for another job, naming both (a crunch call never gets back a report task)', async () => {
    const report = await h.client.schedule('report', { title: 'Q3' }, { idempotencyKey: 'shared-key' });
    const err = await h.client.schedule('render', { title: 'Q3' }, { idempotencyKey: 'shared-key' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyConflictError);
    expect((err as Error).message).toMatch(`already names task ${report.id} of job "report" with args {"title":"Q3"}; this call asked for job "render" with args {"title":"Q3"} (job "report")`);
  });

  it('never hands back an empty page with a cursor, however few tasks match the status', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      h.clock.now += 1000;
      ids.push((await h.client.schedule('sync-tenant', { n: i })).id);
    }
    // Only the oldest and the newest but three are cancelled: long runs of non-matching tasks in between.
    for (const id of [ids[0], ids[8]] as string[]) await h.client.cancel(id);
    const pages: { size: number; cursor?: string }[] = [];
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.client.list({ job: 'sync-tenant', status: 'cancelled', limit: 1, cursor });
      pages.push({ size: page.tasks.length, ...(page.cursor ? { cursor: page.cursor } : {}) });
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual([ids[8], ids[0]]);
    expect(pages.every((p) => p.cursor === undefined || p.size > 0)).toBe(true);
    // Unfiltered, a page that holds the last task has no cursor.
    const all = await h.client.list({ job: 'sync-tenant', limit: 12 });
    expect(all.tasks).toHaveLength(12);
    expect(all.cursor).toBeUndefined();
  });

  it("catches up the runs missed since a past startAt under missedRuns 'all', up to maxCatchUp", async () => {
    const startAt = h.clock.now - 3.5 * 3_600_000;
    const schedule = await h.client.schedules.create('report', null, { id: 'hourly-from-past', every: '1 hour', startAt, missedRuns: 'all', maxCatchUp: 3 });
    const due = [0, 1, 2].map((k) => startAt + k * 3_600_000);
    expect(schedule.nextDueAt).toBe(due[2]);
    for (const at of due) expect((await h.client.get(occurrenceId('hourly-from-past', at, 'report'))).status).toBe('pending');
    await expect(h.client.get(occurrenceId('hourly-from-past', startAt + 3 * 3_600_000, 'report'))).rejects.toThrow(/does not exist/);
  });

  it('applies every valid declared schedule and reports each invalid one, instead of stopping at the first', async () => {
    // "huge" is in the catalogue's fleet but the deployment has no queue for it.
    const catalogue = defineCatalogue({
      root: '/nowhere',
      fleet: { classes: [{ name: 'small', slotsPerRunner: 4, cpu: 512, memoryMiB: 1024, minRunners: 0, maxRunners: 1 }, { name: 'huge', slotsPerRunner: 32, cpu: 4096, memoryMiB: 8192, minRunners: 0, maxRunners: 1 }] },
      jobs: [
        { name: 'big', module: 'big.js', slots: 32, schedules: [{ id: 'big-nightly', cron: '0 2 * * *' }] },
        { name: 'tidy', module: 'tidy.js', schedules: [{ id: 'tidy-hourly', every: '1h' }] },
      ],
    });
    const client = new JobfleetClient({ catalogue, services: h.env.services, clock: () => h.clock.now });
    const report = await client.schedules.sync();
    expect(report.created).toEqual(['tidy-hourly']);
    expect(report.invalid).toEqual([
      { id: 'big-nightly', job: 'big', error: expect.stringMatching(/^job: job "big" runs in slot class "huge", which this deployment has no queue for \(it has: small, large\)/) },
    ]);
  });
});
