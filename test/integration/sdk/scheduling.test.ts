import { InvalidScheduleError, UnknownJobError, ValidationError } from '../../../core/errors';
import { occurrenceId } from '../../../core/model/keys';
import { sdkHarness, type SdkHarness } from './sdk-fixtures';

describe('scheduling one-off tasks', () => {
  let h: SdkHarness;
  beforeAll(async () => (h = await sdkHarness('sdk-sched')));
  afterAll(() => h.env.cleanup());

  it('schedules now, at a time, and after a delay', async () => {
    const now = await h.client.schedule('email', { to: 'x' });
    const at = await h.client.schedule('email', undefined, { at: '2026-12-24T18:00:00Z' });
    const later = await h.client.schedule('email', undefined, { delay: '5 minutes', priority: 500 });
    expect(now).toMatchObject({ status: 'pending', dueAt: h.clock.now, attempt: 1, slotClass: 'small' });
    expect(at.dueAt).toBe(Date.parse('2026-12-24T18:00:00Z'));
    expect(later).toMatchObject({ dueAt: h.clock.now + 300_000, priority: 500 });
  });

  it('runs a one-off dated in the past now, but rejects an expiry in the past', async () => {
    const past = await h.client.schedule('email', undefined, { at: new Date(h.clock.now - 60_000) });
    expect(past.dueAt).toBe(h.clock.now);
    await expect(h.client.schedule('email', undefined, { expiresAt: h.clock.now - 1 })).rejects.toThrow(/options\.expiresAt: is in the past/);
  });

  it('rejects bad input with errors that name the field', async () => {
    await expect(h.client.schedule('nope')).rejects.toThrow(UnknownJobError);
    await expect(h.client.schedule('email', { to: 5 })).rejects.toThrow(/^args\.to: /);
    await expect(h.client.schedule('email', undefined, { at: 'next tuesday' })).rejects.toThrow(/options\.at/);
    await expect(h.client.schedule('email', undefined, { delay: -5 })).rejects.toThrow(ValidationError);
    await expect(h.client.schedule('report', { blob: 'x'.repeat(40_000) })).rejects.toThrow(/pass its key or id instead/);
    await expect(h.client.schedule('email', undefined, { startAfter: 'missing-task' })).rejects.toThrow(/options\.startAfter: "missing-task" is not a task id/);
    await expect(h.client.schedule('email', undefined, { startAfter: '01KB8ZJ2V9Q4X6W3M5N7P8R0ST.email' })).rejects.toThrow(/options\.startAfter: task 01KB8ZJ2V9Q4X6W3M5N7P8R0ST\.email does not exist/);
    await expect(h.client.schedules.create('report', null, { cron: '0 0 32 * *' })).rejects.toThrow(InvalidScheduleError);
    await expect(h.client.schedules.create('report', null, { cron: '0 9 * * *', timezone: 'Europe/Atlantis' })).rejects.toThrow(/IANA time zone/);
    await expect(h.client.waitFor('x', { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
  });

  it('holds a task until it is released', async () => {
    const held = await h.client.schedule('email', undefined, { hold: true });
    expect(held.held).toBe(true);
    const due = async () => (await Promise.all([0, 1, 2, 3].map((s) => h.env.services.store.queryDue('small', s, h.clock.now + 1)))).flat().map((e) => e.id);
    expect(await due()).not.toContain(held.id);
    await h.client.release(held.id);
    expect(await due()).toContain(held.id);
  });

  it('releases a startAfter task when its predecessor already completed, and fails it if the predecessor failed', async () => {
    const { store } = h.env.services;
    const { finishTask } = await import('../../../core/lifecycle/finish');
    // Runs a task to its end the way the ticker and a runner would: claim, start, finish.
    const finish = async (id: string, status: 'completed' | 'failed') => {
      const pending = await store.mustGet(id);
      const entries = (await Promise.all([0, 1, 2, 3].map((s) => store.queryDue(pending.slotClass, s, h.clock.now + 1)))).flat();
      const claimed = await store.claim(entries.find((e) => e.id === id)!, h.clock.now, 60_000);
      const task = await store.start(id, claimed!.token, 'runner-1', h.clock.now, 30_000);
      await finishTask(h.env.services, { task, outcome: status === 'completed' ? { status } : { status, error: { reason: 'error', message: 'boom' } } }, h.clock.now);
    };
    const a = await h.client.schedule('render');
    await finish(a.id, 'completed');
    const b = await h.client.schedule('email', undefined, { startAfter: a.id });
    expect(b.startAfter).toBe(a.id);
    expect((await store.mustGet(b.id)).held).toBeUndefined();

    const c = await h.client.schedule('render'); // maxAttempts 1: its failure is final
    const d = await h.client.schedule('email', undefined, { startAfter: c.id });
    expect(d.status).toBe('pending');
    expect(await store.mustGet(c.id)).toMatchObject({ hasDependents: true });
    await finish(c.id, 'failed');
    expect(await store.mustGet(d.id)).toMatchObject({ status: 'failed', error: { reason: 'dependency-failed' } });

    // Scheduled after its predecessor failed for good: written failed at once, follow-up done.
    const e = await h.client.schedule('email', undefined, { startAfter: c.id });
    expect(e).toMatchObject({ status: 'failed', error: { reason: 'dependency-failed', message: expect.stringContaining(`task ${c.id} ended failed`) } });
    expect(await store.mustGet(e.id)).toMatchObject({ status: 'failed', effectsDone: true });
  });
});

describe('recurring schedules', () => {
  let h: SdkHarness;
  beforeAll(async () => (h = await sdkHarness('sdk-recur', [{ id: 'nightly-report', cron: '0 0 3 * * *', timezone: 'Europe/Berlin' }])));
  afterAll(() => h.env.cleanup());

  it('creates a schedule and its first occurrence with a derived id, once', async () => {
    const s = await h.client.schedules.create('email', { to: 'team' }, { id: 'digest', cron: '0 9 * * 1', timezone: 'America/New_York' });
    expect(s).toMatchObject({ active: true, spec: { kind: 'cron', timezone: 'America/New_York' }, nextDueAt: Date.parse('2026-11-23T14:00:00Z') /* Monday 09:00 EST */ });
    const occurrence = await h.client.get(occurrenceId('digest', s.nextDueAt, 'email'));
    expect(occurrence).toMatchObject({ scheduleId: 'digest', job: 'email', args: { to: 'team' }, status: 'pending' });
    const again = await h.client.schedules.create('email', { to: 'team' }, { id: 'digest', cron: '0 9 * * 1', timezone: 'America/New_York' });
    expect(again.createdAt).toBe(s.createdAt);
  });

  it('pauses (cancelling the upcoming occurrence), resumes from now, and stops', async () => {
    const s = await h.client.schedules.create('email', null, { id: 'pulse', every: 'every 10 minutes' });
    const first = occurrenceId('pulse', s.nextDueAt, 'email');
    expect((await h.client.schedules.pause('pulse')).active).toBe(false);
    expect((await h.client.get(first)).status).toBe('cancelled');
    h.clock.now += 60_000;
    const resumed = await h.client.schedules.resume('pulse');
    expect(resumed).toMatchObject({ active: true, nextDueAt: h.clock.now });
    expect((await h.client.get(occurrenceId('pulse', resumed.nextDueAt, 'email'))).status).toBe('pending');
    const stopped = await h.client.schedules.stop('pulse');
    expect(stopped).toMatchObject({ active: false, stopped: true });
    await expect(h.client.schedules.resume('pulse')).rejects.toThrow(/stopped for good/);
  });

  it('syncs declared schedules idempotently and stops the ones no longer declared', async () => {
    expect(await h.client.schedules.sync()).toEqual({ created: ['nightly-report'], updated: [], stopped: [] });
    expect(await h.client.schedules.sync()).toEqual({ created: [], updated: [], stopped: [] });
    const { JobfleetClient } = await import('../../../core/sdk/client');
    const { sdkCatalogue } = await import('./sdk-fixtures');
    const without = new JobfleetClient({ catalogue: sdkCatalogue([]), services: h.env.services, clock: () => h.clock.now });
    expect(await without.schedules.sync()).toEqual({ created: [], updated: [], stopped: ['nightly-report'] });
  });
});
