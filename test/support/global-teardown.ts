/**
 * Jest globalTeardown of the `integration` project: stops the local AWS only if a jest run's
 * global setup started it and no other jest run still uses it (see global-setup.ts).
 */
import { spawnSync } from 'node:child_process';
import { LEASE_ENV, LOCAL_AWS_SCRIPT, clearStartedMarker, dropLease, scriptPid, startedByJest } from './global-setup';

export default async function globalTeardown(): Promise<void> {
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
