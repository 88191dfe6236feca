import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCatalogue } from '../../../core/catalogue';
import { cataloguePath, DEFAULT_CATALOGUE_PATH, JobIndex, resolveJobModule } from '../../../runner/catalogue';

describe('resolveJobModule', () => {
  const outside = mkdtempSync(join(tmpdir(), 'outside-'));
  const root = mkdtempSync(join(tmpdir(), 'jobs-'));
  writeFileSync(join(root, 'a.ts'), 'export default 1');
  writeFileSync(join(root, 'a.js'), 'module.exports = 1');
  writeFileSync(join(root, 'only.js'), 'module.exports = 1');
  mkdirSync(join(root, 'dir'));
  writeFileSync(join(root, 'dir', 'index.ts'), 'export default 1');
  writeFileSync(join(outside, 'evil.js'), 'module.exports = 1');
  symlinkSync(join(outside, 'evil.js'), join(root, 'link.js'));
  writeFileSync(join(root, 'notes.txt'), 'not code');

  it('finds the module with or without its extension, preferring the running flavour', () => {
    expect(resolveJobModule(root, 'a', true)).toMatchObject({ ok: true, path: expect.stringMatching(/a\.ts$/) });
    expect(resolveJobModule(root, 'a', false)).toMatchObject({ ok: true, path: expect.stringMatching(/a\.js$/) });
    // A catalogue naming a .ts module still finds the built .js in dist/.
    expect(resolveJobModule(root, 'only.ts', true)).toMatchObject({ ok: true, path: expect.stringMatching(/only\.js$/) });
    expect(resolveJobModule(root, 'dir', true)).toMatchObject({ ok: true, path: expect.stringMatching(/dir\/index\.ts$/) });
  });

  it('never leaves the root: not by "..", not by an absolute path, not through a symlink', () => {
    expect(resolveJobModule(root, `../${outside.split('/').pop()}/evil`, false)).toMatchObject({ ok: false, error: expect.stringContaining('outside the catalogue root') });
    expect(resolveJobModule(root, join(outside, 'evil.js'), false)).toMatchObject({ ok: false, error: expect.stringContaining('outside the catalogue root') });
    expect(resolveJobModule(root, 'link', false)).toMatchObject({ ok: false, error: expect.stringContaining('symlink') });
  });

  it('says what it tried when the module is missing or not code', () => {
    expect(resolveJobModule(root, 'nope', false)).toMatchObject({ ok: false, error: expect.stringContaining('not found') });
    expect(resolveJobModule(root, 'notes.txt', false)).toMatchObject({ ok: false });
    expect(resolveJobModule(join(root, 'missing-root'), 'a', false)).toMatchObject({ ok: false, error: expect.stringContaining('does not exist') });
  });

  it('indexes jobs by name only, with the largest job per class', () => {
    const catalogue = defineCatalogue({ root, jobs: [{ name: 'a', module: 'a', slots: 3 }, { name: 'b', module: 'only' }, { name: 'c', module: 'a', slots: 16 }] });
    const index = new JobIndex(catalogue, { preferTypeScript: false });
    expect(index.get('a')?.module).toMatchObject({ ok: true });
    expect(index.get('../a')).toBeUndefined();
    expect(index.largestSlots('small')).toBe(3);
    expect(index.largestSlots('large')).toBe(16);
    expect(index.largestSlots('none')).toBe(1);
    expect(index.hasTypeScript).toBe(false);
    expect(new JobIndex(catalogue, { preferTypeScript: true }).hasTypeScript).toBe(true);
  });

  it('finds the catalogue from JOBFLEET_CATALOGUE, else JOBFLEET_JOBS_ROOT, else the repo', () => {
    expect(cataloguePath({ JOBFLEET_CATALOGUE: '/x/c.js', JOBFLEET_JOBS_ROOT: '/y' })).toBe('/x/c.js');
    expect(cataloguePath({ JOBFLEET_JOBS_ROOT: '/app/dist/jobs' })).toBe('/app/dist/jobs/catalogue');
    expect(cataloguePath({})).toBe(DEFAULT_CATALOGUE_PATH);
  });
});
