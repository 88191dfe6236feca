import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * bench/results.json: the figures of the last bench run, for machines (and the next run) to read.
 * Each section (ticker, runner, cost, pipeline) is replaced whole when it runs, and `runs` says on
 * which commit and when each section last ran, so a file mixing runs says so.
 */
export const RESULTS_FILE = join(__dirname, 'results.json');

export type Section = 'ticker' | 'runner' | 'cost' | 'pipeline' | 'simulation';

export function currentCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: __dirname, encoding: 'utf8' }).trim();
    // The results file itself does not count: a bench of several sections rewrites it after each.
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', ':(top)', ':(top,exclude)bench/results.json'], { cwd: __dirname, encoding: 'utf8' }).trim().length > 0;
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

export function readResults(): Record<string, unknown> {
  if (!existsSync(RESULTS_FILE)) return {};
  try {
    return JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Replaces one section and records the commit it ran on. */
export function writeSection(section: Section, values: Record<string, unknown>): void {
  const results = readResults();
  const commit = currentCommit();
  const runs = { ...((results.runs as Record<string, unknown>) ?? {}), [section]: { commit, at: new Date().toISOString() } };
  const next = { commit, ...results, [section]: values, runs };
  next.commit = commit;
  writeFileSync(RESULTS_FILE, `${JSON.stringify(next, null, 2)}\n`);
}

/** Rounds for the file: figures, not noise. */
export const round = (n: number, digits = 3): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : Number.NaN);
