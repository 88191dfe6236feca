import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNNER_NODE_FLAGS } from '../../../core/config/runner-node-flags';

describe('the runner process\'s Node flags', () => {
  it('are the ones the image starts it with (the benches and `jobfleet local` use the same list)', () => {
    const dockerfile = readFileSync(join(__dirname, '../../../runner/Dockerfile'), 'utf8');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(cmd).not.toBeNull();
    const argv = JSON.parse((cmd as RegExpExecArray)[1] as string) as string[];
    expect(argv[0]).toBe('node');
    expect(argv[argv.length - 1]).toBe('dist/runner/main.js');
    const flags = argv.slice(1, -1);
    for (const flag of RUNNER_NODE_FLAGS) expect(flags).toContain(flag);
  });

  it('are flags Node accepts', () => {
    // A flag Node does not know would stop the runner at start.
    for (const flag of RUNNER_NODE_FLAGS) expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0] as string)).toBe(true);
  });
});
