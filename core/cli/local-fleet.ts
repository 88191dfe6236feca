import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RUNNER_NODE_FLAGS } from '../config/runner-node-flags';
import { LOCAL_ENV_FILE, LOCAL_STATE_DIR } from './environment';

/**
 * The local fleet as background processes: a ticker, a runner per slot class and the
 * status-event consumer (which also keeps the console's aggregates), on the local AWS, from the
 * repository's own sources. Their pids and the environment that reaches them are recorded in
 * .cache/local/, so `jobfleet local status|down` and every other command find them.
 */
const ROOT = path.join(__dirname, '..', '..');
const PIDS_FILE = path.join(LOCAL_STATE_DIR, 'processes.json');
export const LOCAL_STACK = 'jobfleet-demo';

export interface LocalProcess {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
}

const PROCESSES: readonly { name: string; entry: string; env?: Record<string, string>; nodeFlags?: readonly string[] }[] = [
  { name: 'ticker', entry: 'functions/ticker/local.ts' },
  { name: 'runner-small', entry: 'runner/main.ts', env: { RUNNER_CLASS: 'small', RUNNER_ID: 'local-small' }, nodeFlags: RUNNER_NODE_FLAGS },
  { name: 'runner-large', entry: 'runner/main.ts', env: { RUNNER_CLASS: 'large', RUNNER_ID: 'local-large' }, nodeFlags: RUNNER_NODE_FLAGS },
  { name: 'status-events', entry: 'functions/status-events/local.ts' },
];

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export function localProcesses(): LocalProcess[] {
  return existsSync(PIDS_FILE) ? (JSON.parse(readFileSync(PIDS_FILE, 'utf8')) as LocalProcess[]) : [];
}

/** Starts the local AWS if needed, provisions the stack, and starts the processes not already running. */
export async function localUp(log: (line: string) => void, options: { detached?: boolean } = {}): Promise<{ env: Record<string, string>; processes: LocalProcess[]; started: LocalProcess[]; endpoint: string; localAwsStartedHere: boolean; releaseLocalAws: () => Promise<void> }> {
  const { ensureLocalAws } = await import('../../scripts/ensure-local-aws');
  const { deployCoreStack } = await import('../../infra/local-deploy');
  const local = await ensureLocalAws();
  log(`local AWS at ${local.endpoint}`);
  const stackEnv = await deployCoreStack({ stackName: LOCAL_STACK, log: (m) => log(`  ${m}`) });
  const env: Record<string, string> = {
    ...stackEnv,
    AWS_ENDPOINT_URL: local.endpoint,
    AWS_REGION: stackEnv.AWS_REGION ?? 'us-east-1',
    JOBFLEET_TICK_INTERVAL_MS: '250',
    JOBFLEET_METRICS: 'off',
    RUNNER_WAIT_TIME_SECONDS: '1',
  };
  mkdirSync(LOCAL_STATE_DIR, { recursive: true });
  writeFileSync(LOCAL_ENV_FILE, `${JSON.stringify(env, null, 2)}\n`);
  const running = localProcesses().filter((p) => alive(p.pid));
  const started: LocalProcess[] = [];
  for (const p of PROCESSES) {
    const already = running.find((r) => r.name === p.name);
    if (already) {
      log(`${p.name}: already running (pid ${already.pid})`);
      continue;
    }
    const logFile = path.join(LOCAL_STATE_DIR, `${p.name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [...(p.nodeFlags ?? []), '--import', 'tsx', p.entry], {
      cwd: ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID || 'test', AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY || 'test', ...env, ...p.env },
      stdio: ['ignore', fd, fd],
      detached: options.detached ?? true,
    });
    closeSync(fd);
    if (options.detached ?? true) child.unref();
    started.push({ name: p.name, pid: child.pid as number, log: path.relative(ROOT, logFile) });
    log(`${p.name}: started (pid ${child.pid}), log ${path.relative(ROOT, logFile)}`);
  }
  const processes = [...running, ...started];
  writeFileSync(PIDS_FILE, `${JSON.stringify(processes, null, 2)}\n`);
  return { env, processes, started, endpoint: local.endpoint, localAwsStartedHere: local.startedHere, releaseLocalAws: () => local.release() };
}

/** Stops the recorded processes (by pid), waiting for each to exit; the local AWS keeps running. */
export async function localDown(log: (line: string) => void, only?: readonly number[]): Promise<LocalProcess[]> {
  const procs = localProcesses().filter((p) => !only || only.includes(p.pid));
  for (const p of procs) if (alive(p.pid)) process.kill(p.pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (procs.some((p) => alive(p.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const p of procs) {
    if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
    log(`${p.name}: stopped (pid ${p.pid})`);
  }
  const rest = localProcesses().filter((p) => !procs.some((q) => q.pid === p.pid));
  if (rest.length) writeFileSync(PIDS_FILE, `${JSON.stringify(rest, null, 2)}\n`);
  else rmSync(PIDS_FILE, { force: true });
  return procs;
}
