/**
 * Jest globalTeardown of the `integration` project: stops the local AWS only if a jest run's
 * global setup started it and no other jest run still uses it (see global-setup.ts).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { checkCalls, readRecordedCalls } from './iam/check';
import { LEASE_ENV, LOCAL_AWS_SCRIPT, clearStartedMarker, dropLease, scriptPid, startedByJest } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  try {
    await stopLocalAws();
  } finally {
    await checkIam();
  }
}

/** A call a deployed role would deny fails the run; granted actions no test called are listed. */
async function checkIam(): Promise<void> {
  const dir = process.env.JOBFLEET_IAM_CALLS_DIR;
  if (!dir) return;
  delete process.env.JOBFLEET_IAM_CALLS_DIR;
  const calls = readRecordedCalls(dir);
  rmSync(dir, { recursive: true, force: true });
  const report = await checkCalls(calls);
  const byCaller = calls.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.caller]: (acc[c.caller] ?? 0) + 1 }), {});
  process.stdout.write(`[iam check] ${report.checked} distinct requests of ${JSON.stringify(byCaller)} distinct calls evaluated against the synthesized roles\n`);
  if (report.unused.length > 0) process.stdout.write(`[iam check] granted, never called by a test:\n  ${report.unused.join('\n  ')}\n`);
  if (report.denied.length > 0) throw new Error(`[iam check] the deployed roles would deny ${report.denied.length} call(s) the tests made:\n  ${report.denied.join('\n  ')}`);
}

async function stopLocalAws(): Promise<void> {
  const port = process.env[LEASE_ENV];
  if (!port) return; // this run used AWS_ENDPOINT_URL (or LOCAL_AWS=off), not the project's local AWS
  delete process.env[LEASE_ENV];
  dropLease(port);
  if (!startedByJest(port)) return; // started by hand (or by someone else): leave it running
  process.stdout.write(`[integration teardown] stopping the local AWS a jest run started (port ${port}), unless other runs use it\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_AWS_PORT: port, LOCAL_AWS_STOP_UNLESS_LEASED: '1' };
  delete env.AWS_ENDPOINT_URL;
  const run = spawnSync('bash', [LOCAL_AWS_SCRIPT, 'stop'], { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`scripts/local-aws.sh stop failed (exit ${run.status ?? run.signal})`);
  if (!scriptPid(port)) clearStartedMarker(port);
}
