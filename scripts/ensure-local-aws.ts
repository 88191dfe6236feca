import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * For commands that need an AWS to talk to (the demo, the benchmark): use AWS_ENDPOINT_URL when it
 * answers, otherwise start the project's own local AWS with scripts/local-aws.sh (which reuses one
 * already running). `release()` stops it again only if this call started it.
 */
export interface LocalAws {
  readonly endpoint: string;
  readonly startedHere: boolean;
  release(): Promise<void>;
}

const SCRIPT = path.resolve(__dirname, 'local-aws.sh');

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(3000) });
    return true;
  } catch {
    return false;
  }
}

export async function ensureLocalAws(): Promise<LocalAws> {
  process.env.AWS_REGION ||= 'us-east-1';
  if (!process.env.AWS_PROFILE) {
    process.env.AWS_ACCESS_KEY_ID ||= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ||= 'test';
  }
  const given = process.env.AWS_ENDPOINT_URL;
  if (given && (await answers(given))) return { endpoint: given, startedHere: false, release: async () => undefined };
  if (given) console.error(`AWS_ENDPOINT_URL=${given} does not answer; starting the project's local AWS instead`);

  const resultFile = path.join(os.tmpdir(), `jobfleet-local-aws-${process.pid}`);
  const started = spawnSync('bash', [SCRIPT, 'start'], { stdio: 'inherit', env: { ...process.env, AWS_ENDPOINT_URL: '', LOCAL_AWS_RESULT_FILE: resultFile } });
  if (started.status !== 0) throw new Error(`the local AWS did not start (exit ${started.status}); see the messages above, or run: bash scripts/local-aws.sh logs`);
  const how = readFileSync(resultFile, 'utf8').trim();
  rmSync(resultFile, { force: true });
  const endpoint = `http://127.0.0.1:${process.env.LOCAL_AWS_PORT || '4566'}`;
  process.env.AWS_ENDPOINT_URL = endpoint;
  const startedHere = how === 'started';
  return {
    endpoint,
    startedHere,
    release: async () => {
      if (startedHere) spawnSync('bash', [SCRIPT, 'stop'], { stdio: 'inherit' });
    },
  };
}
