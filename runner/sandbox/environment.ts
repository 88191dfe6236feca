/**
 * The environment a sandbox starts with: an allowlist, never the runner's own environment.
 *
 * The runner's environment holds what job code must not see: its AWS credentials (or, on ECS,
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, which fetches them), the task metadata endpoint, the
 * table, bucket and queue names and every runner setting. A job gets only what a process needs to
 * run (PATH, locale, time zone), where AWS is (region, endpoint: configuration, not secrets), and
 * the jobs' own configuration: variables named `JOB_*`. Per-task values (HOME, TMPDIR and, for a
 * job with a role, its short-lived credentials) are added when the task is handed over.
 */

/** Passed through as they are, when set. */
export const SANDBOX_ENV_ALLOWLIST = ['PATH', 'LANG', 'LANGUAGE', 'TZ', 'NODE_ENV', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL'] as const;

/** The jobs' own configuration (e.g. JOB_REPORTS_BUCKET), set on the runner for its jobs. */
export const JOB_ENV_PREFIX = 'JOB_';

/** Never handed to a sandbox, whatever its name matches: credentials and the runner's own settings. */
const FORBIDDEN = /^(AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN|PROFILE|CONTAINER_.*|WEB_IDENTITY_TOKEN_FILE|ROLE_ARN|SHARED_CREDENTIALS_FILE|CONFIG_FILE)|ECS_.*|JOBFLEET_.*|RUNNER_.*)$/;

export function sandboxEnvironment(runnerEnv: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(runnerEnv)) {
    if (value === undefined || FORBIDDEN.test(name)) continue;
    if ((SANDBOX_ENV_ALLOWLIST as readonly string[]).includes(name) || name.startsWith(JOB_ENV_PREFIX) || name.startsWith('LC_')) env[name] = value;
  }
  return env;
}

/** Short-lived credentials for one task's job role, as the AWS SDKs read them from the environment. */
export interface TaskCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch ms. */
  readonly expiration: number;
}

/**
 * The per-task additions: a private home and temporary directory, and the job role's credentials
 * if any: where to fetch them (a credentials endpoint's lease, renewed as they near expiry), or
 * the credentials themselves (valid for one session only).
 */
export function taskEnvironment(tmpDir: string, credentials?: TaskCredentials | { readonly env: Readonly<Record<string, string>> }): Record<string, string> {
  if (credentials && 'env' in credentials) return { HOME: tmpDir, TMPDIR: tmpDir, ...credentials.env };
  return {
    HOME: tmpDir,
    TMPDIR: tmpDir,
    ...(credentials
      ? {
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken,
          AWS_CREDENTIAL_EXPIRATION: new Date(credentials.expiration).toISOString(),
        }
      : {}),
  };
}
