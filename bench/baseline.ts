/**
 * The runner against an earlier commit's, in the same run, on the same emulator:
 * BENCH_RUNNER_BASELINE=<commit> (e.g. e503f6b, the code of the day issue 14 was filed) extracts
 * that commit beside the project (`git archive` into .cache/bench-baseline/<commit>), installs and
 * builds it once, and runs that commit's own runner bench right after this one, with the same
 * number of tasks. Throughputs measured on other days say little on a machine whose speed drifts
 * threefold; two measured minutes apart on the same emulator can be compared.
 *
 * Both sides run without NODE_EXTRA_CA_CERTS: this machine sets it, the runner's image does not,
 * and it makes every Node start about three times dearer (older runners passed it on to their
 * sandboxes).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..');

/** This process's environment as the runner's container would have it. */
export function containerLikeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

function step(what: string, command: string, args: readonly string[], cwd: string): void {
  console.log(`  baseline: ${what}`);
  execFileSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Extracts, installs and builds `commit` once; returns its directory. */
function prepare(commit: string): string {
  const full = execFileSync('git', ['rev-parse', '--verify', `${commit}^{commit}`], { cwd: REPO, encoding: 'utf8' }).trim();
  const dir = join(REPO, '.cache', 'bench-baseline', full.slice(0, 12));
  if (!existsSync(join(dir, 'package.json'))) {
    mkdirSync(dir, { recursive: true });
    console.log(`  baseline: extracting ${full.slice(0, 12)} into ${dir}`);
    execFileSync('sh', ['-c', `git archive ${full} | tar -x -C "${dir}"`], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  if (!existsSync(join(dir, 'node_modules'))) step('npm ci', 'npm', ['ci', '--no-audit', '--no-fund'], dir);
  if (!existsSync(join(dir, 'dist', 'runner', 'main.js'))) step('npm run build', 'npm', ['run', 'build'], dir);
  return dir;
}

/** Runs `commit`'s runner bench with `tasks` tasks; returns its throughput from its first task's end. */
export async function baselineThroughput(commit: string, tasks: number): Promise<{ commit: string; tasksPerSecond: number }> {
  const dir = prepare(commit);
  console.log(`  baseline: ${commit}'s own runner bench, ${tasks} tasks (its output follows, indented)`);
  const child = spawn('npx', ['tsx', 'bench/index.ts', 'runner'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: containerLikeEnv({ BENCH_RUNNER_TASKS: String(tasks) }),
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk.toString().replace(/^(?=.)/gm, '    | '));
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const m = /throughput .*?; ([\d.]+) tasks\/s from the first task's end/.exec(output);
  if (code !== 0 || !m) throw new Error(`the baseline bench of ${commit} failed (exit ${code}) or printed no throughput line`);
  return { commit, tasksPerSecond: Number(m[1]) };
}
