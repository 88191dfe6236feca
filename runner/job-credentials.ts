import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { JobfleetError } from '../core/errors';
import type { TaskCredentials } from './sandbox/environment';

/**
 * Short-lived credentials for a job's own role (the catalogue's `role`, the CDK app's job role;
 * AWS Batch's jobRoleArn), assumed by the runner for each task and handed to that task's sandbox
 * alone. Jobs without a role get no credentials at all: the runner's never reach job code.
 */
export interface JobCredentialSource {
  /** Credentials for this task, or undefined when its job has no role. */
  forTask(task: TaskIdentity): Promise<TaskCredentials | undefined>;
}

export interface TaskIdentity {
  readonly id: string;
  readonly job: string;
  readonly attempt: number;
  readonly maxExecutionMs: number;
}

export class JobRoleError extends JobfleetError {}

/** STS allows 900 s at least; a chained role session (the runner's task role assuming another) lasts 1 hour at most. */
export const MIN_SESSION_SECONDS = 900;
export const MAX_SESSION_SECONDS = 3600;

/** The AssumeRole request for one task: a session named after the task, tagged with it. Pure. */
export function assumeRoleRequest(roleArn: string, task: TaskIdentity, marginMs = 60_000) {
  const seconds = Math.min(MAX_SESSION_SECONDS, Math.max(MIN_SESSION_SECONDS, Math.ceil((task.maxExecutionMs + marginMs) / 1000)));
  // Session names: [\w+=,.@-]{2,64}. Task ids are ULIDs, job names [a-z0-9-]: both fit.
  const sessionName = `${task.id}-${task.attempt}`.replace(/[^\w+=,.@-]/g, '_').slice(0, 64);
  return {
    RoleArn: roleArn,
    RoleSessionName: sessionName,
    DurationSeconds: seconds,
    // A job role's policy can scope resources to its task: ${aws:PrincipalTag/taskId}.
    Tags: [
      { Key: 'taskId', Value: task.id },
      { Key: 'job', Value: task.job },
      { Key: 'attempt', Value: String(task.attempt) },
    ],
  };
}

export class StsJobCredentials implements JobCredentialSource {
  constructor(
    private readonly sts: STSClient,
    /** Job name -> role ARN (JOBFLEET_JOB_ROLES). */
    private readonly roles: Readonly<Record<string, string>>,
    private readonly timeoutMs = 10_000,
  ) {}

  roleOf(job: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.roles, job) ? this.roles[job] : undefined;
  }

  async forTask(task: TaskIdentity): Promise<TaskCredentials | undefined> {
    const roleArn = this.roleOf(task.job);
    if (!roleArn) return undefined;
    let out;
    try {
      out = await this.sts.send(new AssumeRoleCommand(assumeRoleRequest(roleArn, task)), { abortSignal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new JobRoleError(`could not assume the job role ${roleArn} for job "${task.job}": ${(err as Error).message}; check that the runner's task role may sts:AssumeRole and sts:TagSession on it and that its trust policy names the runner role`, { cause: err });
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new JobRoleError(`STS returned no credentials for the job role ${roleArn}`);
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration?.getTime() ?? Date.now() + MIN_SESSION_SECONDS * 1000 };
  }
}
