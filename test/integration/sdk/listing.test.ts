import { sdkHarness, type SdkHarness } from './sdk-fixtures';

describe('listing tasks', () => {
  let h: SdkHarness;
  const emails: string[] = [];
  beforeAll(async () => {
    h = await sdkHarness('sdk-list');
    for (let i = 0; i < 25; i++) {
      h.clock.now += 1000;
      emails.push((await h.client.schedule('email', { to: `u${i}@example.com` })).id);
    }
    for (let i = 0; i < 3; i++) await h.client.schedule('report');
    await h.client.cancel(emails[3] as string);
    await h.client.cancel(emails[17] as string);
  });
  afterAll(() => h.env.cleanup());

  it('pages through one job newest first, without gaps or repeats', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.client.list({ job: 'email', limit: 10, cursor });
      sizes.push(page.tasks.length);
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual([...emails].reverse());
    expect(sizes.slice(0, 2)).toEqual([10, 10]);
  });

  it('filters by status', async () => {
    const { tasks } = await h.client.list({ job: 'email', status: 'cancelled' });
    expect(tasks.map((t) => t.id)).toEqual([emails[17], emails[3]]);
  });

  it('lists across every job when none is given', async () => {
    const { tasks } = await h.client.list({ limit: 100 });
    expect(tasks).toHaveLength(28);
    expect(tasks.map((t) => t.id)).toEqual([...tasks.map((t) => t.id)].sort().reverse());
  });
});
