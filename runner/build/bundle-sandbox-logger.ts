/**
 * `npm run build`'s last step: pino bundled into one file for the sandboxes,
 * dist/runner/sandbox/pino.bundle.js, which runner/sandbox/child.ts loads on a script's first use of
 * `ctx.logger` (and falls back to `require('pino')` without it, as when running from source).
 *
 * Why: every task runs in a fresh Node process, so pino's load is paid once per task that logs.
 * Resolving, reading and compiling its ~40 files costs a fresh process about 40 ms of CPU; the
 * same code in one file costs about a third of that (some 13 ms). Nothing else changes: it is pino, at the version
 * in package-lock.json. Its transports (worker threads loading files by path) do not survive
 * bundling, and the sandbox never uses them: `ctx.logger` writes to the task's log pipe.
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import { SANDBOX_LOGGER_BUNDLE } from '../sandbox/protocol';

export { SANDBOX_LOGGER_BUNDLE };

export async function bundleSandboxLogger(outfile: string): Promise<void> {
  await build({
    stdin: { contents: "module.exports = require('pino');", resolveDir: __dirname, sourcefile: 'sandbox-logger.js', loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    logLevel: 'warning',
    legalComments: 'inline',
  });
}

if (require.main === module) {
  // Compiled to dist/runner/build/: the sandbox's directory is dist/runner/sandbox/.
  const outfile = join(__dirname, '..', 'sandbox', SANDBOX_LOGGER_BUNDLE);
  bundleSandboxLogger(outfile).then(
    () => console.log(`bundled pino for the sandboxes: ${outfile}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
