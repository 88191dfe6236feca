import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultChildEntry, findSetpriv, tsxExecArgv } from '../../../runner/sandbox/sandbox';
import { alive, REPO_ROOT, waitUntil } from './runner-harness';

jest.setTimeout(30_000);

/**
 * The sandbox on its own: a stand-in runner process starts one sandbox running a script that
 * blocks its event loop, then dies by SIGKILL. The sandbox must die with it, both ways: through
 * setpriv's parent-death signal, and through the watchdog thread where setpriv is missing.
 */
describe('sandbox: dies with its runner', () => {
  const setprivPath = findSetpriv();
  const modes: [string, string | null][] = [['the watchdog thread (no setpriv)', null]];
  // Only where util-linux's setpriv exists (Linux).
  if (setprivPath) modes.unshift(['the parent-death signal (setpriv)', setprivPath]);

  it.each(modes)('through %s', async (_name, setpriv) => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-test-'));
    const script = `
      const { Sandbox } = require(${JSON.stringify(join(REPO_ROOT, 'runner/sandbox/sandbox.ts'))});
      const sandbox = new Sandbox({ entry: ${JSON.stringify(defaultChildEntry())}, execArgv: ${JSON.stringify(tsxExecArgv())}, setpriv: ${JSON.stringify(setpriv)} });
      sandbox.stdout.pipe(process.stderr);
      sandbox.run({
        type: 'run', modulePath: ${JSON.stringify(join(REPO_ROOT, 'test/fixtures/jobs/busy-loop.ts'))}, args: { ms: 60000 },
        task: { taskId: 't', job: 'busy-loop', attempt: 1, token: 'x', scheduledAt: 0 },
        tmpDir: ${JSON.stringify(dir)}, resultFile: ${JSON.stringify(join(dir, 'r.json'))}, inlineResultBytes: 1000, logLevel: 'info', logCapBytes: 100000,
      }, { onProgress: (_p, m) => console.log(m) });
      setInterval(() => undefined, 1000);`;
    const runner = spawn(process.execPath, [...tsxExecArgv(), '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve, reject) => {
      runner.stdout.on('data', (c: Buffer) => {
        const m = /pid (\d+)/.exec(c.toString());
        if (m) resolve(Number(m[1]));
      });
      runner.on('exit', () => reject(new Error('the stand-in runner exited early')));
    });
    // In the synchronous loop now: 'disconnect' can never be handled.
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(pid)).toBe(true);
    runner.kill('SIGKILL');
    // The watchdog looks every 500 ms; the rest of the allowance is a loaded machine's scheduling.
    await waitUntil(() => !alive(pid), 5000, 'the sandbox to die with its runner');
  });
});
