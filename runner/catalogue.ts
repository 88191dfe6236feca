import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Catalogue } from '../core/catalogue';
import { ConfigError } from '../core/errors';
import type { JobSnapshot } from '../core/model/task';

/** The repo's own catalogue, beside the runner in the source tree and in dist/ alike. */
export const DEFAULT_CATALOGUE_PATH = resolve(__dirname, '../jobs/catalogue');

/**
 * Where the catalogue module is: JOBFLEET_CATALOGUE, else `catalogue` in JOBFLEET_JOBS_ROOT, else
 * the repo's own (`jobs/catalogue` beside the runner, in the source tree and in dist/ alike).
 */
export function cataloguePath(env: { JOBFLEET_CATALOGUE?: string; JOBFLEET_JOBS_ROOT?: string }): string {
  if (env.JOBFLEET_CATALOGUE) return env.JOBFLEET_CATALOGUE;
  if (env.JOBFLEET_JOBS_ROOT) return join(env.JOBFLEET_JOBS_ROOT, 'catalogue');
  return DEFAULT_CATALOGUE_PATH;
}

/** Loads a catalogue module (its default export is `defineCatalogue(...)`). */
export function loadCatalogueModule(path: string): Catalogue {
  const absolute = resolve(path);
  let mod: unknown;
  try {
    // A path chosen at run time, loaded the CommonJS way (tsx hooks it for .ts from source).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(absolute);
  } catch (err) {
    const hint = /\.ts$/.test(absolute) ? ' (a .ts catalogue needs the runner started through tsx; or point at the built .js)' : '';
    throw new ConfigError(`JOBFLEET_CATALOGUE: cannot load the job catalogue ${absolute}${hint}: ${(err as Error).message}`, { cause: err });
  }
  const candidate = ((mod as { default?: unknown })?.default ?? mod) as Partial<Catalogue>;
  if (!candidate || typeof candidate.root !== 'string' || !(candidate.jobs instanceof Map) || typeof candidate.get !== 'function') {
    throw new ConfigError(`JOBFLEET_CATALOGUE: ${absolute} does not export a catalogue: use \`export default defineCatalogue({ root: __dirname, jobs: [...] })\``);
  }
  return candidate as Catalogue;
}

const isInside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' ? false : !rel.startsWith('..') && !isAbsolute(rel);
};

const EXTENSIONS_JS_FIRST = ['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts'];
const EXTENSIONS_TS_FIRST = ['.ts', '.cts', '.mts', '.js', '.cjs', '.mjs'];

const isCodeFile = (path: string): boolean => {
  if (!/\.[cm]?[jt]s$/.test(path)) return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

export type ModuleResolution = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly error: string };

/**
 * Resolves a job's module path inside the catalogue root: extension optional (a `.ts` name also
 * finds its built `.js`), and nothing outside the root, not through `..` nor through a symlink.
 */
export function resolveJobModule(root: string, module: string, preferTypeScript: boolean): ModuleResolution {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return { ok: false, error: `the catalogue root ${root} does not exist` };
  }
  const wanted = resolve(realRoot, module);
  if (!isInside(realRoot, wanted)) return { ok: false, error: `module "${module}" resolves outside the catalogue root ${realRoot}` };
  const base = wanted.replace(/\.[cm]?[jt]s$/, '');
  const extensions = preferTypeScript ? EXTENSIONS_TS_FIRST : EXTENSIONS_JS_FIRST;
  const candidates = [wanted, ...extensions.map((e) => base + e), ...extensions.map((e) => join(base, `index${e}`))];
  for (const candidate of candidates) {
    if (!isCodeFile(candidate)) continue;
    const real = realpathSync(candidate);
    if (!isInside(realRoot, real)) return { ok: false, error: `module "${module}" leads outside the catalogue root ${realRoot} (through a symlink)` };
    return { ok: true, path: real };
  }
  return { ok: false, error: `module "${module}" not found in ${realRoot} (tried ${extensions.join(', ')})` };
}

export interface RunnableJob {
  readonly name: string;
  readonly snapshot: JobSnapshot;
  readonly module: ModuleResolution;
}

/**
 * The jobs this runner can run, looked up by name only: a task names a catalogued job, never a
 * path, so no task can make the runner load a file of its choosing.
 */
export class JobIndex {
  private readonly jobs = new Map<string, RunnableJob>();

  constructor(
    readonly catalogue: Catalogue,
    options: { readonly root?: string; readonly preferTypeScript: boolean },
  ) {
    const root = options.root ?? catalogue.root;
    for (const [name, job] of catalogue.jobs) {
      this.jobs.set(name, { name, snapshot: job.snapshot, module: resolveJobModule(root, job.modulePath, options.preferTypeScript) });
    }
  }

  get(name: string): RunnableJob | undefined {
    return this.jobs.get(name);
  }

  all(): RunnableJob[] {
    return [...this.jobs.values()];
  }

  inClass(slotClass: string): RunnableJob[] {
    return this.all().filter((j) => j.snapshot.slotClass === slotClass);
  }

  /** The most slots any job of the class needs (what every receive must leave room for). */
  largestSlots(slotClass: string): number {
    return Math.max(1, ...this.inClass(slotClass).map((j) => j.snapshot.slots));
  }

  /** True when some job module is TypeScript source, so sandboxes need tsx. */
  get hasTypeScript(): boolean {
    return this.all().some((j) => j.module.ok && /\.[cm]?ts$/.test(j.module.path));
  }
}
