import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  UpdateStackCommand,
  type Stack as CfnStack,
} from '@aws-sdk/client-cloudformation';
import { App } from 'aws-cdk-lib';
import type { JobfleetSettings } from './config';
import { CoreStack, RUNTIME_ENV_OUTPUT } from './core-stack';

/**
 * Deploys the CoreStack (table, queues, bucket, bus: the same constructs as the AWS deployment)
 * to the local AWS with plain CloudFormation calls, and returns the JOBFLEET_* environment that
 * points processes at it. Idempotent: a second run with nothing changed is a no-op.
 *
 *   npx tsx infra/local-deploy.ts [--stack-name NAME] [--delete]
 *
 * Progress goes to stderr, the environment as JSON to stdout.
 */
export interface LocalDeployOptions {
  /** @default "jobfleet-local" */
  readonly stackName?: string;
  /** @default AWS_ENDPOINT_URL, else http://127.0.0.1:4566 */
  readonly endpoint?: string;
  /** @default AWS_REGION, else us-east-1 */
  readonly region?: string;
  /** Settings for the stack (e.g. another fleet). @default the defaults */
  readonly settings?: Partial<JobfleetSettings>;
  /** Progress lines. @default written to stderr */
  readonly log?: (line: string) => void;
  /** Give up waiting after this long. @default 300000 */
  readonly timeoutMs?: number;
}

export const DEFAULT_LOCAL_STACK = 'jobfleet-local';

/** Synthesizes the CoreStack in memory and returns its CloudFormation template. */
export function synthesizeCoreTemplate(stackName: string, settings: Partial<JobfleetSettings> = {}): Record<string, unknown> {
  const app = new App();
  const stack = new CoreStack(app, stackName, { stackName, settings });
  return app.synth().getStackArtifact(stack.artifactId).template as Record<string, unknown>;
}

function resolveOptions(options: LocalDeployOptions) {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  // LocalStack accepts any credentials; do not make the user export fake ones.
  const credentials = process.env.AWS_ACCESS_KEY_ID ? undefined : { accessKeyId: 'test', secretAccessKey: 'test' };
  return {
    stackName: options.stackName ?? DEFAULT_LOCAL_STACK,
    endpoint,
    region,
    log: options.log ?? ((line: string) => process.stderr.write(`${line}\n`)),
    timeoutMs: options.timeoutMs ?? 300_000,
    cfn: new CloudFormationClient({ endpoint, region, ...(credentials ? { credentials } : {}) }),
  };
}
type Resolved = ReturnType<typeof resolveOptions>;

/** Creates or updates the stack, waits for it, and returns the JOBFLEET_* environment. */
export async function deployCoreStack(options: LocalDeployOptions = {}): Promise<Record<string, string>> {
  const o = resolveOptions(options);
  const templateBody = JSON.stringify(synthesizeCoreTemplate(o.stackName, options.settings));
  let existing = await describe(o);
  if (existing?.StackStatus?.endsWith('_IN_PROGRESS')) existing = await waitFor(o, existing.StackStatus);
  if (existing && ['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_FAILED', 'DELETE_FAILED'].includes(existing.StackStatus ?? '')) {
    o.log(`${o.stackName}: ${existing.StackStatus}, deleting it before creating it again`);
    await deleteCoreStack(options);
    existing = undefined;
  }
  const since = new Date();
  if (!existing) {
    o.log(`${o.stackName}: creating on ${o.endpoint}`);
    await o.cfn.send(new CreateStackCommand({ StackName: o.stackName, TemplateBody: templateBody }));
  } else {
    try {
      await o.cfn.send(new UpdateStackCommand({ StackName: o.stackName, TemplateBody: templateBody }));
      o.log(`${o.stackName}: updating on ${o.endpoint}`);
    } catch (err) {
      if (!/no updates are to be performed/i.test((err as Error).message)) throw err;
      o.log(`${o.stackName}: up to date (no updates)`);
      return environmentOf(o, existing);
    }
  }
  const done = await waitFor(o, existing ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS', since);
  if (done.StackStatus !== 'CREATE_COMPLETE' && done.StackStatus !== 'UPDATE_COMPLETE') {
    throw new Error(`${o.stackName}: deployment ended in ${done.StackStatus}${done.StackStatusReason ? ` (${done.StackStatusReason})` : ''}; see the events above`);
  }
  return environmentOf(o, done);
}

/** Deletes the stack (and, as the local stack uses RemovalPolicy.DESTROY, its resources) and waits. */
export async function deleteCoreStack(options: LocalDeployOptions = {}): Promise<void> {
  const o = resolveOptions(options);
  const existing = await describe(o);
  if (!existing) return;
  o.log(`${o.stackName}: deleting`);
  const since = new Date();
  await o.cfn.send(new DeleteStackCommand({ StackName: o.stackName }));
  const done = await waitFor(o, 'DELETE_IN_PROGRESS', since);
  if (done.StackStatus !== 'DELETE_COMPLETE') throw new Error(`${o.stackName}: delete ended in ${done.StackStatus} (${done.StackStatusReason ?? 'no reason given'})`);
}

async function describe(o: Resolved): Promise<CfnStack | undefined> {
  try {
    const res = await o.cfn.send(new DescribeStacksCommand({ StackName: o.stackName }));
    const stack = res.Stacks?.[0];
    return stack?.StackStatus === 'DELETE_COMPLETE' ? undefined : stack;
  } catch (err) {
    if (/does not exist/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

/** Polls until the stack leaves `status`, printing each new stack event on the way. */
async function waitFor(o: Resolved, status: string, since = new Date(0)): Promise<CfnStack> {
  const seen = new Set<string>();
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    await printNewEvents(o, seen, since);
    const stack = await describe(o);
    if (!stack) return { StackName: o.stackName, StackStatus: 'DELETE_COMPLETE', CreationTime: undefined };
    if (!stack.StackStatus?.endsWith('_IN_PROGRESS')) {
      await printNewEvents(o, seen, since);
      return stack;
    }
    if (Date.now() > deadline) throw new Error(`${o.stackName}: still ${stack.StackStatus} after ${o.timeoutMs} ms (was waiting on ${status})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function printNewEvents(o: Resolved, seen: Set<string>, since: Date): Promise<void> {
  let events;
  try {
    events = (await o.cfn.send(new DescribeStackEventsCommand({ StackName: o.stackName }))).StackEvents ?? [];
  } catch {
    return; // the stack is gone (deleted) or not visible yet
  }
  for (const e of [...events].reverse()) {
    if (!e.EventId || seen.has(e.EventId) || (e.Timestamp && e.Timestamp < since)) continue;
    seen.add(e.EventId);
    const reason = e.ResourceStatusReason ? ` - ${e.ResourceStatusReason}` : '';
    o.log(`  ${e.ResourceStatus ?? ''} ${e.ResourceType ?? ''} ${e.LogicalResourceId ?? ''}${reason}`);
  }
}

function environmentOf(o: Resolved, stack: CfnStack): Record<string, string> {
  const output = stack.Outputs?.find((x) => x.OutputKey === RUNTIME_ENV_OUTPUT)?.OutputValue;
  if (!output) throw new Error(`${o.stackName}: output ${RUNTIME_ENV_OUTPUT} missing`);
  return { ...(JSON.parse(output) as Record<string, string>), AWS_REGION: o.region, AWS_ENDPOINT_URL: o.endpoint };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const options: LocalDeployOptions = { stackName: arg('--stack-name') };
  if (argv.includes('--delete')) {
    await deleteCoreStack(options);
    return;
  }
  const env = await deployCoreStack(options);
  process.stdout.write(`${JSON.stringify(env, null, 2)}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`local-deploy: ${err.message}\n`);
    process.exitCode = 1;
  });
}
