import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../../infra/config';
import { CoreStack } from '../../../infra/core-stack';
import { synthWholeApp, testApp } from './support';

jest.setTimeout(600_000);

/**
 * cfn-lint (PyPI, installed by scripts/cfn-lint.sh into a cached venv) over every template the
 * app synthesizes, the whole stack and the LocalStack core stack: zero errors.
 */
test('cfn-lint finds no errors in the synthesized templates', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobfleet-cfn-lint-'));
  try {
    const { assembly } = synthWholeApp(path.join(outdir, 'app'));
    const core = testApp({});
    new CoreStack(core, 'Local');
    const coreAssembly = core.synth({ force: true });
    const templates = [...assembly.stacks, ...coreAssembly.stacks].map((s) => s.templateFullPath);
    const run = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/cfn-lint.sh'), ...templates], { encoding: 'utf8' });
    expect({ status: run.status, out: `${run.stdout}${run.stderr}`.trim().split('\n').filter((l) => /:E\d/.test(l)) }).toEqual({ status: 0, out: [] });
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
