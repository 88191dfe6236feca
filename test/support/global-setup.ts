/**
 * Jest globalSetup of the `integration` project.
 *
 * - LOCAL_AWS=off: real AWS with the SDK's defaults and your credentials; start nothing.
 * - AWS_ENDPOINT_URL set and answering (a LocalStack of your own, or AWS): use it, start nothing.
 * - Otherwise: `bash scripts/local-aws.sh start` (installs on first use, output streamed), which
 *   reuses a LocalStack already answering on LOCAL_AWS_PORT (default 4566) or starts one. Global
 *   teardown stops it only if a jest run started it, once no other jest run is using it.
 *
 * Workers inherit AWS_ENDPOINT_URL, AWS_REGION and (unless a profile or keys are set) test keys.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// ---- shared with global-teardown.ts: where the local AWS is, and who uses it.
//
// Several jest runs may share one local AWS (same checkout, same port). Each run holds a lease
// (a file named after its pid in run/<port>/leases) while it runs; the run whose setup started
// LocalStack leaves a marker naming LocalStack's pid. A teardown asks the script to stop
// LocalStack only if that marker names the pid the script recorded; the script then stops it
// only if no other live process holds a lease (checked under the port's start/stop lock, so a
// run that takes its lease and starts meanwhile either keeps it alive or gets a fresh one).

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const LOCAL_AWS_SCRIPT = path.join(REPO_ROOT, 'scripts', 'local-aws.sh');

export const localPort = (): string => process.env.LOCAL_AWS_PORT || '4566';
/** Set by global setup when this run uses (holds a lease on) the project's local AWS. */
export const LEASE_ENV = 'JOBFLEET_LOCAL_AWS_LEASE_PORT';

export function runDir(port: string): string {
  const home = process.env.LOCAL_AWS_HOME || path.join(REPO_ROOT, '.cache', 'local-aws');
  return path.join(home, 'run', port);
}
const leaseDir = (port: string) => path.join(runDir(port), 'leases');
const startedMarker = (port: string) => path.join(runDir(port), 'started-by-jest');

/** LocalStack's pid as recorded by scripts/local-aws.sh, if it started one on this port. */
export function scriptPid(port: string): string | undefined {
  try {
    return /^pid=(\d+)$/m.exec(readFileSync(path.join(runDir(port), 'localstack.pid'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

export function takeLease(port: string): void {
  mkdirSync(leaseDir(port), { recursive: true });
  writeFileSync(path.join(leaseDir(port), String(process.pid)), new Date().toISOString());
}

/** Drops this run's lease (the script prunes those of dead runs). */
export function dropLease(port: string): void {
  rmSync(path.join(leaseDir(port), String(process.pid)), { force: true });
}

export function markStartedByJest(port: string): void {
  const pid = scriptPid(port);
  if (pid) writeFileSync(startedMarker(port), pid);
}

/** True if a jest run started the LocalStack that now runs on this port. */
export function startedByJest(port: string): boolean {
  try {
    const marked = readFileSync(startedMarker(port), 'utf8').trim();
    return marked !== '' && marked === scriptPid(port);
  } catch {
    return false;
  }
}

export function clearStartedMarker(port: string): void {
  rmSync(startedMarker(port), { force: true });
}

/** Any HTTP answer counts: real AWS endpoints answer 4xx to a bare GET. */
export async function answers(url: string, timeoutMs = 5000): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}

// ---- global setup

function log(message: string): void {
  process.stdout.write(`[integration setup] ${message}\n`);
}

export default async function globalSetup(): Promise<void> {
  // Every AWS call the workers make is recorded here (test/support/iam/record-setup.ts) and
  // checked against the deployed roles by the global teardown.
  process.env.JOBFLEET_IAM_CALLS_DIR = mkdtempSync(path.join(os.tmpdir(), 'jobfleet-iam-calls-'));
  process.env.AWS_REGION ||= process.env.AWS_DEFAULT_REGION || 'us-east-1';
  // The SDK's Node 20 end-of-support notice, otherwise printed once per test file.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ||= 'true';
  if (!process.env.AWS_PROFILE && process.env.LOCAL_AWS !== 'off') {
    process.env.AWS_ACCESS_KEY_ID ||= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ||= 'test';
  }

  if (process.env.LOCAL_AWS === 'off') {
    log('LOCAL_AWS=off: using the AWS SDK defaults (real AWS, your credentials), starting nothing');
    return;
  }
  const given = process.env.AWS_ENDPOINT_URL;
  if (given) {
    if (await answers(given)) {
      log(`AWS_ENDPOINT_URL=${given} answers: using it, starting nothing`);
      return;
    }
    log(`AWS_ENDPOINT_URL=${given} does not answer: starting the project's local AWS instead`);
  }

  const port = localPort();
  takeLease(port);
  process.env[LEASE_ENV] = port; // read by global teardown (same process)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jobfleet-local-aws-'));
  const resultFile = path.join(dir, 'result');
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_AWS_PORT: port, LOCAL_AWS_RESULT_FILE: resultFile };
    delete env.AWS_ENDPOINT_URL;
    log(`bash scripts/local-aws.sh start (port ${port})`);
    const run = spawnSync('bash', [LOCAL_AWS_SCRIPT, 'start'], { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (run.error) throw run.error;
    if (run.status !== 0) {
      throw new Error(
        `scripts/local-aws.sh start failed (exit ${run.status ?? run.signal}); see its output above. ` +
          'To use another LocalStack or AWS, set AWS_ENDPOINT_URL; for another port, LOCAL_AWS_PORT.',
      );
    }
    const result = readFileSync(resultFile, 'utf8').trim();
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
    if (result === 'started') {
      markStartedByJest(port);
      log(`started the local AWS at ${process.env.AWS_ENDPOINT_URL}; global teardown stops it`);
    } else if (startedByJest(port)) {
      log(`sharing the local AWS another jest run started at ${process.env.AWS_ENDPOINT_URL}; the last run to finish stops it`);
    } else {
      log(`reusing the local AWS already running at ${process.env.AWS_ENDPOINT_URL}; it is left running afterwards`);
    }
  } catch (e) {
    dropLease(port);
    delete process.env[LEASE_ENV];
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
