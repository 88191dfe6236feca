import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock';
import type { Catalogue } from '../core/catalogue';
import { loadRuntimeConfig } from '../core/config/runtime';
import { ConfigError } from '../core/errors';
import { createServices, type Services } from '../core/services';
import { cataloguePath, JobIndex, loadCatalogueModule } from './catalogue';
import { parseRunnerEnv, resolveRunnerConfig, type RunnerConfig } from './config';
import type { TaskSummary } from './execute';
import { createRunnerLogger } from './logger';
import { LogBatcher } from './log/batcher';
import { S3FileSink, type FileSink } from './log/upload';
import { createProtectionPort, ScaleInProtection, type ProtectionPort } from './protection';
import { SqsDispatchQueue, type DispatchQueue } from './queue';
import { Runner } from './runner';
import { STSClient } from '@aws-sdk/client-sts';
import { CredentialsEndpoint } from './credentials-endpoint';
import { StsJobCredentials } from './job-credentials';
import { sandboxEnvironment } from './sandbox/environment';
import { IdentityPool, uidBlockSize } from './sandbox/identity';
import { defaultChildEntry, SandboxPool, tsxExecArgv } from './sandbox/sandbox';

export interface RunnerAppOptions {
  readonly env: Record<string, string | undefined>;
  /** Shared services (tests pass their environment's); built from `env` otherwise. */
  readonly services?: Services;
  /** The catalogue object; loaded from JOBFLEET_CATALOGUE (default: the repo's jobs/catalogue) otherwise. */
  readonly catalogue?: Catalogue;
  readonly logger?: Logger;
  readonly queue?: DispatchQueue;
  readonly files?: FileSink;
  /** Scale-in protection port; looked up from the ECS metadata endpoint otherwise. */
  readonly protection?: ProtectionPort;
  readonly onTaskEnd?: (summary: TaskSummary) => void;
  /** The STS client that assumes job roles. @default built from the runtime config */
  readonly sts?: STSClient;
  /** @default systemClock */
  readonly clock?: Clock;
  /** The sandbox's entry (`.ts`: run through tsx). @default the child next to this module (defaultChildEntry) */
  readonly childEntry?: string;
}

export interface RunnerApp {
  readonly runner: Runner;
  readonly config: RunnerConfig;
  readonly jobs: JobIndex;
  readonly services: Services;
  readonly logger: Logger;
  readonly protection: ScaleInProtection;
}

/** Wires a runner from the environment: config validated first, then clients, ports and the loop. */
export async function createRunnerApp(options: RunnerAppOptions): Promise<RunnerApp> {
  const runtime = options.services?.config ?? loadRuntimeConfig(options.env);
  const runnerEnv = parseRunnerEnv(options.env);
  const catalogue = options.catalogue ?? loadCatalogueModule(cataloguePath(runnerEnv));
  const childEntry = options.childEntry ?? defaultChildEntry();
  const fromSource = childEntry.endsWith('.ts');
  const jobs = new JobIndex(catalogue, { ...(runnerEnv.JOBFLEET_JOBS_ROOT ? { root: runnerEnv.JOBFLEET_JOBS_ROOT } : {}), preferTypeScript: fromSource });
  const config = resolveRunnerConfig(runnerEnv, runtime, {
    fleet: catalogue.fleet,
    largestSlots: (c) => jobs.largestSlots(c),
    inClass: (c) => jobs.inClass(c),
  });
  const logger = options.logger ?? createRunnerLogger(config.runnerId, config.logLevel);
  for (const job of jobs.all()) {
    if (!job.module.ok) logger.warn({ job: job.name, error: job.module.error }, 'job module cannot be resolved: its tasks will fail with job-load-failed');
  }
  let execArgv: string[] = [];
  if (fromSource || jobs.hasTypeScript) {
    try {
      execArgv = tsxExecArgv();
    } catch {
      throw new ConfigError('JOBFLEET_CATALOGUE: job modules are TypeScript source but tsx is not installed; build the jobs to JavaScript or install tsx');
    }
  }
  const services = options.services ?? createServices(runtime);
  const protectionPort = options.protection ?? (await createProtectionPort(config.ecsMetadataUri, runtime.region, logger));
  const jobRoles = config.jobRoles ?? {};
  const roles = Object.keys(jobRoles);
  for (const job of roles) if (!jobs.get(job)) logger.warn({ job }, 'RUNNER_JOB_ROLES names a job this runner\'s catalogue does not have');
  const sts = roles.length > 0 ? (options.sts ?? new STSClient({ region: runtime.region, maxAttempts: 3, ...(runtime.endpoint ? { endpoint: runtime.endpoint } : {}) })) : undefined;
  if (!config.sandboxUids) logger.warn('sandboxes run under the runner\'s own uid (RUNNER_SANDBOX_UIDS=none, or the runner is not root): job code can signal the runner and read its environment through /proc');
  // A block of the uid range for this runner alone: others on this host take other blocks.
  const identities = config.sandboxUids ? await IdentityPool.claim(config.sandboxUids, uidBlockSize(config.slots, config.maxSpares)) : undefined;
  if (identities) logger.info({ sandboxUids: `${identities.uids.first}-${identities.uids.last}` }, 'sandbox uid block claimed');
  const protection = new ScaleInProtection(protectionPort, logger, { releaseDelayMs: config.protectionReleaseDelayMs, ...(options.clock ? { clock: options.clock } : {}) });
  const files = options.files ?? new S3FileSink(services.clients.s3, { bucket: runtime.bucket });
  const logs = new LogBatcher(files, {
    ...config.logBatch,
    spoolDir: join(config.workDir, 'log-spool'),
    clock: options.clock ?? systemClock,
    onLost: (err, lost) => logger.error({ err, key: lost.key, tasks: lost.tasks }, 'could not upload task logs to S3; their tasks\' logs are lost'),
  });
  const runner = new Runner(
    {
      lifecycle: services,
      queue: options.queue ?? new SqsDispatchQueue(services.clients.sqs, config.queueUrl, config.waitTimeSeconds, runtime.awsRequestTimeoutMs),
      files,
      logs,
      jobs,
      // Scripts see an allowlist of the runner's environment (no credentials, no runner settings),
      // run under uids of their own, and get their job role's credentials only.
      pool: new SandboxPool(
        {
          entry: childEntry,
          execArgv,
          env: sandboxEnvironment(options.env),
          ...(identities ? { identities } : {}),
          ...(sts ? { credentials: new StsJobCredentials(sts, jobRoles), credentialsEndpoint: new CredentialsEndpoint() } : {}),
        },
        config.spares,
        config.maxSpares,
      ),
      protection,
      logger,
      ...(options.onTaskEnd ? { onTaskEnd: options.onTaskEnd } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    },
    config,
  );
  return { runner, config, jobs, services, logger, protection };
}
