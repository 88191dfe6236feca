import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { enqueue, settled, startRunner, waitForTask, type TestRunner } from './runner-harness';

jest.setTimeout(90_000);

/** Uid switching needs root; on these machines the tests run as root, elsewhere the uid checks are reported as skipped. */
const asRoot = process.getuid?.() === 0;
const ROLE = 'arn:aws:iam::000000000000:role/jobfleet-test-whoami';

/**
 * Job code is hostile until proven otherwise: a fixture job tries to reach the runner's
 * credentials, environment and metadata endpoint, a sibling's log and directory, the table, and
 * to signal the runner. Each attempt must fail. A job with a role gets that role's short-lived
 * credentials, and only it.
 */
describe('runner: sandbox isolation', () => {
  let env: TestEnvironment;
  let runner: TestRunner;
  let agent: Server;
  let agentUrl: string;
  const agentHits: string[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment('runner-isolation');
    // A stand-in for the ECS agent: the runner's credentials and task metadata behind secret paths.
    agent = createServer((req, res) => {
      agentHits.push(req.url ?? '');
      res.end(JSON.stringify({ AccessKeyId: 'RUNNER-KEY', SecretAccessKey: 'runner-secret', Token: 'runner-token' }));
    });
    await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
    agentUrl = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
    runner = await startRunner(
      env,
      {
        RUNNER_SPARES: '2',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agentUrl}/creds/secret-guid`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'agent-token',
        ECS_CONTAINER_METADATA_URI_V4: `${agentUrl}/v4/secret-container`,
        RUNNER_JOB_ROLES: JSON.stringify({ whoami: ROLE }),
      },
      // The metadata URI above is only bait: scale-in protection is not under test here.
      { protection: { setProtected: async () => undefined } as never },
    );
  });

  afterAll(async () => {
    await runner?.stop();
    agent?.close();
    await env?.cleanup();
  });

  it('a hostile job fails at every attempt to reach what is not its own', async () => {
    const sibling = await enqueue(env, 'slow', { ms: 20_000, onAbort: 'resolve' });
    await waitForTask(env, sibling.id, (t) => t.status === 'running' && t.progress !== undefined);
    const name = `${sibling.id}-${sibling.attempt}`;
    const escape = await enqueue(env, 'escape', {
      table: env.config.tableName,
      workDir: runner.workDir,
      agent: agentUrl,
      siblingPaths: [join(runner.workDir, name, 'task.log'), join(runner.workDir, 'sandboxes', name), join(runner.workDir, 'sandboxes', name, 'tmp')],
    });
    const done = await waitForTask(env, escape.id, settled, 60_000);
    await env.services.store.requestCancel(await env.services.store.mustGet(sibling.id));
    expect(done.status).toBe('completed');
    const results = done.result as Record<string, string>;
    const needRoot = new Set(["runner's environ", "others' environ", "runner's work directory", 'signal the runner', ...Object.keys(results).filter((k) => k.startsWith('sibling '))]);
    const checked = Object.entries(results).filter(([k]) => asRoot || !needRoot.has(k));
    if (!asRoot) console.warn(`not root: sandboxes share the runner's uid here, so these checks were skipped: ${[...needRoot].join(', ')}`);
    expect(checked.filter(([, v]) => !v.startsWith('denied')).map(([k, v]) => `${k}: ${v}`)).toEqual([]);
    expect(Object.keys(results)).toEqual(expect.arrayContaining(['environment', 'credentials endpoint', 'metadata endpoint', 'the table', 'signal the runner']));
    // The table was refused for want of any credentials, not for a wrong name.
    expect(results['the table']).toMatch(/credential/i);
    // Nobody ever asked the stand-in agent for anything.
    expect(agentHits).toEqual([]);
  });

  it('a job with a role runs with that role, assumed for its task alone', async () => {
    const task = await enqueue(env, 'whoami', {});
    const done = await waitForTask(env, task.id, settled);
    expect(done.status).toBe('completed');
    const result = done.result as { arn: string; keyInEnv: boolean; fromEndpoint: boolean; expiration: string };
    // From the runner's loopback credentials endpoint (renewed before they expire), never in the environment.
    expect([result.keyInEnv, result.fromEndpoint]).toEqual([false, true]);
    // The session is named after the task.
    expect(result.arn).toBe(`arn:aws:sts::000000000000:assumed-role/jobfleet-test-whoami/${task.id}-1`);
    expect(Date.parse(result.expiration)).toBeGreaterThan(Date.now());
  });

  (asRoot ? it : it.skip)('sandboxes run under uids of their own, never the runner\'s', async () => {
    const a = await enqueue(env, 'slow', { ms: 3000 });
    const b = await enqueue(env, 'slow', { ms: 3000 });
    const uidOf = async (id: string) => {
      const t = await waitForTask(env, id, (x) => x.status === 'running' && x.progress !== undefined);
      const pid = Number(/pid (\d+)/.exec(t.progress?.message ?? '')?.[1]);
      const { readFileSync } = await import('node:fs');
      return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    };
    const [ua, ub] = await Promise.all([uidOf(a.id), uidOf(b.id)]);
    expect(ua).toBeGreaterThanOrEqual(61000);
    expect(ub).toBeGreaterThanOrEqual(61000);
    expect(ua).not.toBe(ub);
    await Promise.all([waitForTask(env, a.id, settled), waitForTask(env, b.id, settled)]);
  });
});
