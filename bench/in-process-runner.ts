import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Services } from '../core/services';
import repoCatalogue from '../jobs/catalogue';
import { createRunnerApp } from '../runner/app';
import type { TaskSummary } from '../runner/execute';
import type { TestEnvironment } from '../test/support/resources';

const BUILT = join(__dirname, '..', 'dist');

/**
 * A runner of the 'small' class in this process, on `services` (whose clients a bench may
 * instrument). Its sandboxes run the built JavaScript (`npm run build`), as in the container
 * image: this process may run from source, but a sandbox booting tsx would cost several times a
 * production one.
 */
export async function startInProcessRunner(env: TestEnvironment, services: Services, options: { slots: number; onTaskEnd: (summary: TaskSummary) => void }) {
  const childEntry = join(BUILT, 'runner', 'sandbox', 'child.js');
  const jobsRoot = join(BUILT, 'jobs');
  if (!existsSync(childEntry) || !existsSync(jobsRoot)) throw new Error(`${childEntry} or ${jobsRoot} is missing: run \`npm run build\` first`);
  const workDir = mkdtempSync(join(tmpdir(), 'bench-runner-'));
  const app = await createRunnerApp({
    env: {
      ...process.env,
      JOBFLEET_QUEUES: JSON.stringify(env.config.queueUrls),
      JOBFLEET_TABLE: env.config.tableName,
      JOBFLEET_BUCKET: env.config.bucket,
      RUNNER_CLASS: 'small',
      RUNNER_SLOTS: String(options.slots),
      RUNNER_WAIT_TIME_SECONDS: '1',
      RUNNER_WORK_DIR: workDir,
      RUNNER_HEARTBEAT_FILE: 'none',
      JOBFLEET_JOBS_ROOT: jobsRoot,
    },
    childEntry,
    services,
    catalogue: repoCatalogue,
    logger: pino({ level: 'silent' }),
    onTaskEnd: options.onTaskEnd,
  });
  app.runner.start();
  return {
    app,
    async stop(): Promise<void> {
      await app.runner.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
