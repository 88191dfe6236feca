import { CredentialsEndpoint } from '../../../runner/credentials-endpoint';
import type { TaskCredentials } from '../../../runner/sandbox/environment';

/** Job-role credentials served to one sandbox over loopback, renewed before they expire. */
describe('the credentials endpoint', () => {
  const HOUR = 3_600_000;
  let now = Date.parse('2027-01-04T09:00:00Z');
  let endpoint: CredentialsEndpoint;
  let n = 0;
  const session = (at = now): TaskCredentials => ({ accessKeyId: `AKIA${++n}`, secretAccessKey: 'secret', sessionToken: `token-${n}`, expiration: at + HOUR });
  const ask = async (env: Readonly<Record<string, string>>, token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN) => {
    const res = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI as string, { headers: token ? { authorization: token } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  beforeEach(() => {
    endpoint = new CredentialsEndpoint({ now: () => now });
  });
  afterEach(() => endpoint.close());

  it('answers a task\'s token with its credentials, as the AWS SDKs read a container\'s, on loopback', async () => {
    const first = session();
    const lease = await endpoint.open(first, async () => session());
    expect(lease.env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/credentials$/);
    expect(lease.env.AWS_CONTAINER_AUTHORIZATION_TOKEN).toMatch(/^[0-9a-f]{64}$/);
    expect(await ask(lease.env)).toEqual({ status: 200, body: { AccessKeyId: first.accessKeyId, SecretAccessKey: 'secret', Token: first.sessionToken, Expiration: new Date(first.expiration).toISOString() } });
  });

  it('refuses no token, another task\'s token, and a token whose task has ended', async () => {
    const a = await endpoint.open(session(), async () => session());
    const b = await endpoint.open(session(), async () => session());
    expect((await ask(a.env, '')).status).toBe(403);
    expect((await ask(a.env, 'f'.repeat(64))).status).toBe(403);
    expect((await ask(a.env, b.env.AWS_CONTAINER_AUTHORIZATION_TOKEN)).body.AccessKeyId).not.toBe((await ask(a.env)).body.AccessKeyId);
    a.release();
    expect((await ask(a.env)).status).toBe(403);
    expect(endpoint.openSessions).toBe(1);
  });

  it('keeps a task running past an hour: a session near its end is replaced, once, however many ask at once', async () => {
    let assumed = 0;
    const first = session();
    const lease = await endpoint.open(first, async () => {
      assumed++;
      return session();
    });
    now += HOUR - 11 * 60_000;
    expect((await ask(lease.env)).body.AccessKeyId).toBe(first.accessKeyId);
    now += 2 * 60_000;
    const answers = await Promise.all([ask(lease.env), ask(lease.env), ask(lease.env)]);
    expect(assumed).toBe(1);
    expect(new Set(answers.map((a) => a.body.AccessKeyId)).size).toBe(1);
    expect(answers[0]?.body.AccessKeyId).not.toBe(first.accessKeyId);
    expect(Date.parse(answers[0]?.body.Expiration as string)).toBe(now + HOUR);
  });

  it('serves the old session while it lasts when a renewal fails, then says why', async () => {
    const first = session();
    const lease = await endpoint.open(first, async () => {
      throw new Error('AccessDenied');
    });
    now += HOUR - 60_000;
    expect((await ask(lease.env)).body.AccessKeyId).toBe(first.accessKeyId);
    now += 60_000;
    const after = await ask(lease.env);
    expect(after.status).toBe(500);
    expect(after.body.message).toBe('could not renew the job role session: AccessDenied');
  });
});
