import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pinoModule from 'pino';
import { Sandbox, tsxExecArgv } from '../../../runner/sandbox/sandbox';
import { bundleSandboxLogger, SANDBOX_LOGGER_BUNDLE } from '../../../runner/build/bundle-sandbox-logger';
import { fixtureRunRequest, REPO_ROOT } from './runner-harness';

jest.setTimeout(120_000);

/**
 * The build bundles pino into one file for the sandboxes (a fresh process per task pays pino's
 * load once per task that logs; one file loads in about a third of the time). The bundle must be
 * pino itself, and a built sandbox must use it.
 */
describe('the sandboxes\' bundled pino', () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-logger-'));
    await bundleSandboxLogger(join(dir, SANDBOX_LOGGER_BUNDLE));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is the pino of package-lock.json, writing the same lines for the same calls', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(join(dir, SANDBOX_LOGGER_BUNDLE)) as typeof pinoModule;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const real = require('pino') as typeof pinoModule;
    expect(bundled.version).toBe(real.version);
    const linesOf = (pino: typeof pinoModule): string[] => {
      const lines: string[] = [];
      const logger = pino({ level: 'info', timestamp: false, base: { taskId: 't-1', job: 'report', attempt: 2 } }, { write: (line: string) => lines.push(line) });
      logger.debug('below the level: dropped');
      logger.info({ rows: 3 }, 'read %d rows', 3);
      logger.child({ step: 'upload' }).warn('slow');
      const err = new Error('boom');
      err.stack = 'Error: boom\n    at fixed';
      logger.error({ err }, 'failed');
      return lines;
    };
    const expected = linesOf(real);
    expect(expected).toHaveLength(3);
    expect(linesOf(bundled)).toEqual(expected);
  });

  it('is what a built sandbox loads on the script\'s first use of ctx.logger', async () => {
    // The sandbox's entry as the build lays it out: child.js with the bundle beside it.
    await build({ entryPoints: [join(REPO_ROOT, 'runner/sandbox/child.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: join(dir, 'child.js'), external: ['pino'], logLevel: 'warning' });
    // The fixture job is TypeScript: tsx loads it (and nothing else the sandbox loads).
    const sandbox = new Sandbox({ entry: join(dir, 'child.js'), execArgv: tsxExecArgv() });
    const output: Buffer[] = [];
    sandbox.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    const report = await sandbox.run(fixtureRunRequest('logger-source', null, dir));
    expect(report.exitCode).toBe(0);
    const result = report.done?.result;
    expect(result?.kind).toBe('inline');
    expect(JSON.parse((result as { json: string }).json)).toEqual({ bundle: true, pinoPackage: false });
    const line = Buffer.concat(output).toString('utf8').split('\n').find((l) => l.includes('logged through ctx.logger'));
    expect(JSON.parse(line as string)).toMatchObject({ level: 30, taskId: 't-logger-source', job: 'logger-source', attempt: 1, answer: 42 });
  });
});
