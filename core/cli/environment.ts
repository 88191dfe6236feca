import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';

/** The repository's local state: what `npm start` and `jobfleet local up` leave for the CLI to find. */
export const LOCAL_STATE_DIR = path.join(__dirname, '..', '..', '.cache', 'local');
export const LOCAL_ENV_FILE = path.join(LOCAL_STATE_DIR, 'env.json');

const STACK_OUTPUT = 'RuntimeEnvironment';
/** Optional: where each class's runners run in ECS (the console's runner counts). */
const FLEET_OUTPUT = 'FleetServices';

/**
 * The environment a command runs with, in this order: `--stack NAME` (the stack's
 * CloudFormation outputs, through the usual credential chain); the process environment when it
 * names a table or an endpoint; the local fleet that `npm start` / `local up` recorded; else the
 * process environment as it is (AWS with the defaults).
 */
export async function resolveEnvironment(options: { stack?: string; env?: NodeJS.ProcessEnv }): Promise<{ env: Record<string, string | undefined>; source: string }> {
  const base = options.env ?? process.env;
  if (options.stack) return { env: { ...base, ...(await stackEnvironment(options.stack, base)) }, source: `stack ${options.stack}` };
  if (base.JOBFLEET_TABLE || base.AWS_ENDPOINT_URL) return { env: base, source: 'environment' };
  const local = readLocalEnvironment();
  if (local) return { env: { ...local, ...definedOnly(base) }, source: `local fleet (${path.relative(process.cwd(), LOCAL_ENV_FILE) || LOCAL_ENV_FILE})` };
  return { env: base, source: 'environment (AWS defaults)' };
}

const definedOnly = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && v !== '' && !k.startsWith('JOBFLEET_') && k !== 'AWS_ENDPOINT_URL'));

export function readLocalEnvironment(): Record<string, string> | undefined {
  if (!existsSync(LOCAL_ENV_FILE)) return undefined;
  const env = JSON.parse(readFileSync(LOCAL_ENV_FILE, 'utf8')) as Record<string, string>;
  // LocalStack takes any credentials; nobody should have to export fake ones.
  return { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', ...env };
}

/** Table, queues, bucket and bus from a deployed stack's RuntimeEnvironment output. */
export async function stackEnvironment(stackName: string, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const cfn = new CloudFormationClient({ ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}), ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}) });
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = res.Stacks?.[0]?.Outputs ?? [];
    const output = outputs.find((o) => o.OutputKey === STACK_OUTPUT)?.OutputValue;
    if (!output) throw new ConfigError(`stack ${stackName} has no ${STACK_OUTPUT} output; is it a jobfleet stack (JobfleetStack or CoreStack)?`);
    const fleet = outputs.find((o) => o.OutputKey === FLEET_OUTPUT)?.OutputValue;
    return { ...(JSON.parse(output) as Record<string, string>), ...(fleet ? { JOBFLEET_FLEET_SERVICES: fleet } : {}) };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`could not read stack ${stackName}: ${(err as Error).message}`);
  } finally {
    cfn.destroy();
  }
}
