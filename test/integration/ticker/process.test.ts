import { spawn } from 'node:child_process';
import path from 'node:path';
import { newTask } from '../../../core/model/new-task';
import { SMALL_JOB, tickerHarness, type TickerHarness } from './harness';

const REPO = path.resolve(__dirname, '..', '..', '..');

/** The environment a deployed ticker gets, pointing at this test's resources. */
function tickerEnv(h: TickerHarness): Record<string, string> {
  const c = h.env.config;
  return {
    JOBFLEET_TABLE: c.tableName,
    JOBFLEET_BUCKET: c.bucket,
    JOBFLEET_QUEUES: JSON.stringify(c.queueUrls),
    JOBFLEET_SHARDS: String(c.shards),
    JOBFLEET_DISPATCH_WINDOW_MS: '60000',
    JOBFLEET_LEASE_MS: String(c.leaseMs),
    JOBFLEET_GRACE_MS: String(c.graceMs),
    JOBFLEET_TICK_INTERVAL_MS: '200',
  };
}

describe('the Lambda handler', () => {
  let h: TickerHarness;
  const saved = { ...process.env };
  beforeAll(async () => (h = await tickerHarness('tick-handler')));
  afterAll(async () => {
    process.env = saved;
    await h.cleanup();
  });

  it('ticks until its time budget runs low, dispatching tasks as they fall due, with EMF metrics on stdout', async () => {
    Object.assign(process.env, tickerEnv(h), { JOBFLEET_LOG_LEVEL: 'warn' });
    const start = Date.now();
    await h.putMany([newTask(SMALL_JOB, { args: null, dueAt: start - 100 }, start), newTask(SMALL_JOB, { args: null, dueAt: start + 1200 }, start)]);
    const emf: Record<string, unknown>[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      if (String(chunk).includes('"_aws"')) emf.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      return true;
    });
    try {
      const { handler } = await import('../../../functions/ticker/handler');
      const deadline = start + 6000;
      const summary = await handler({ source: 'aws.events' }, { getRemainingTimeInMillis: () => deadline - Date.now() });
      const elapsed = Date.now() - start;
      // Default reserve 2000 ms: it stops before the deadline, never after it; that it kept ticking
      // long enough shows in the task due 1.2 s in being dispatched (below).
      expect(elapsed).toBeLessThan(6000);
      expect(summary.ticks).toBeGreaterThan(3);
      expect(summary.failedTicks).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(await h.receive('small')).toHaveLength(2);
    expect(emf.some((d) => d.SlotClass === 'small' && typeof d.SlotDemand === 'number')).toBe(true);
  }, 60_000);
});

describe('the local process', () => {
  let h: TickerHarness;
  beforeAll(async () => (h = await tickerHarness('tick-local')));
  afterAll(() => h.cleanup());

  it('runs the same loop until SIGTERM, then exits cleanly', async () => {
    const now = Date.now();
    const task = newTask(SMALL_JOB, { args: null, dueAt: now }, now);
    await h.putMany([task]);
    // node itself with tsx's loader, as the CLI's local fleet runs it: tsx's CLI wrapper relays a signal
    // by waiting for its child to acknowledge it, and on a loaded machine gives up and SIGKILLs it.
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/ticker/local.ts'], {
      cwd: REPO,
      env: { ...process.env, ...tickerEnv(h) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no dispatch within 30 s; stderr: ${stderr}`)), 30_000);
      let buffer = '';
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 1);
          try {
            lines.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            continue;
          }
          if (lines.at(-1)?.dispatched === 1) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines[0]).toMatchObject({ service: 'jobfleet-ticker', msg: 'ticker started' });
    expect(lines.find((l) => l.msg === 'tick' && l.dispatched === 1)).toMatchObject({ claimed: 1, conflicts: 0, recovered: 0 });
    expect(lines.some((l) => '_aws' in l)).toBe(false);
    expect((await h.receive('small')).map((m) => m.taskId)).toEqual([task.id]);
  }, 60_000);
});
