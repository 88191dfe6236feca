import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultChildEntry, Sandbox, tsxExecArgv } from '../../../runner/sandbox/sandbox';
import { fixtureRunRequest } from './runner-harness';

jest.setTimeout(120_000);

/**
 * A script's output reaches its task log whole, even when the script exits the moment it has
 * printed: the sandbox makes its stdout and stderr blocking (when the script first uses them), so
 * process.exit cannot drop what Node had still queued for a full pipe. The reader here is slow on
 * purpose: the pipe fills, and a non-blocking stdout would lose its queue at the exit.
 */
describe('sandbox output: nothing printed is lost at an exit', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'sandbox-output-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([0, 1, 100])('keeps every line of a script that prints 2 MB and exits with %i at once', async (code) => {
    const sandbox = new Sandbox({ entry: defaultChildEntry(), execArgv: defaultChildEntry().endsWith('.ts') ? tsxExecArgv() : [] });
    const chunks: Buffer[] = [];
    const stdout = sandbox.stdout;
    stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A slow reader: the pipe stays full while the script prints.
      stdout.pause();
      setTimeout(() => stdout.resume(), 2);
    });
    const lines = 10_000;
    const report = await sandbox.run(fixtureRunRequest('print-then-exit', { lines, code }, dir));
    expect(report.exitCode).toBe(code);
    const printed = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
    expect(printed).toHaveLength(lines + 1);
    expect(printed[lines - 1]).toMatch(new RegExp(`^line ${lines - 1} `));
    expect(printed[lines]).toBe('the last line');
  });
});
