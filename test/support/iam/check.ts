/**
 * What we deploy is what we test: the AWS calls recorded during the integration tests, each
 * evaluated with @cloud-copilot/iam-simulate against the identity policies of its process's role
 * in the synthesized JobfleetStack. A call the deployed role would deny is an error; granted
 * actions that no test called are listed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { catalogueJobRoles } from '../../../infra/config';
import { createJobfleetApp } from '../../../infra/jobfleet-app';
import { ACCOUNT, REGION, type Caller, type IamRequest, type RecordedCall } from './calls';

type Json = unknown;
type Statement = { Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: Record<string, unknown> };

/** The deployed roles of the processes, each as resolved policy statements with the stack's placeholders. */
export function synthesizedRoles(): Record<Exclude<Caller, 'test'>, Record<string, Statement[]>> {
  // The app `cdk deploy` deploys (with its example jobs' grants), minus asset bundling.
  const { app, stack } = createJobfleetApp({ context: { 'aws:cdk:bundling-stacks': [] } }, {
    env: { account: ACCOUNT, region: REGION },
    runnerImage: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24-bookworm-slim'),
    settings: { statusEvents: 'all' },
    // The repository's jobs with roles, and the fixture jobs' (the tests run those).
    jobRoles: [...catalogueJobRoles(), ...catalogueJobRoles(join(__dirname, '..', '..', 'fixtures', 'jobs', 'catalogue'))],
  });
  // The SDK runs in the users' own services and the operators' CLI: a role granted what
  // grantEnqueue and grantLogReads grant (the tests read logs through the SDK too).
  const sdk = new iam.Role(stack, 'SdkClient', { assumedBy: new iam.AccountRootPrincipal() });
  stack.grantEnqueue(sdk);
  stack.grantLogReads(sdk);
  const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string; Properties: Record<string, Json> }> };
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);

  const arns = new Map<string, Record<string, string>>();
  arns.set(id(stack.core.tasks.table), { Arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/TABLE`, StreamArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/TABLE/stream/STREAM`, Ref: 'TABLE' });
  arns.set(id(stack.core.logs.bucket), { Arn: 'arn:aws:s3:::BUCKET', Ref: 'BUCKET' });
  for (const [c, q] of stack.core.queues.queues) arns.set(id(q), { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:QUEUE-${c}` });
  for (const [c, q] of stack.core.queues.deadLetterQueues) arns.set(id(q), { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:DLQ-${c}` });
  arns.set(id(stack.core.statusBus.bus), { Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/BUS`, Ref: 'BUS', Name: 'BUS' });
  arns.set(id(stack.fleet.cluster), { Ref: 'CLUSTER' });
  for (const [job, role] of stack.fleet.jobRoles) arns.set(id(role), { Arn: `arn:aws:iam::${ACCOUNT}:role/JOBROLE-${job}` });
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com' };

  const resolve = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === 'object') {
      const o = v as Record<string, Json>;
      if ('Ref' in o) return pseudo[o.Ref as string] ?? arns.get(o.Ref as string)?.Ref ?? `UNRESOLVED(${String(o.Ref)})`;
      if ('Fn::GetAtt' in o) {
        const [lid, att] = o['Fn::GetAtt'] as [string, string];
        return arns.get(lid)?.[att] ?? `UNRESOLVED(${lid}.${att})`;
      }
      if ('Fn::Join' in o) {
        const [sep, parts] = o['Fn::Join'] as [string, Json[]];
        return parts.map((p) => String(resolve(p))).join(sep);
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
    }
    return v;
  };
  const statementsOfRole = (role: iam.IRole): Statement[] => {
    const roleId = id(role as iam.Role);
    return Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleId))
      .flatMap((r) => (resolve(r.Properties.PolicyDocument) as { Statement: Statement[] }).Statement);
  };
  const runners = Object.fromEntries([...stack.fleet.services].map(([c, s]) => [c, statementsOfRole(s.taskRole)]));
  return {
    runner: runners,
    ticker: { ticker: statementsOfRole(stack.ticker.function.role as iam.IRole) },
    'status-events': { 'status-events': statementsOfRole(stack.statusEvents!.function.role as iam.IRole) },
    sdk: { sdk: statementsOfRole(sdk) },
  };
}

export function readRecordedCalls(dir: string): RecordedCall[] {
  const calls = new Map<string, RecordedCall>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line) calls.set(line, JSON.parse(line) as RecordedCall);
  }
  return [...calls.values()];
}

export interface IamCheckReport {
  readonly denied: string[];
  readonly unused: string[];
  readonly checked: number;
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

export async function checkCalls(calls: readonly RecordedCall[]): Promise<IamCheckReport> {
  const roles = synthesizedRoles();
  const denied = new Set<string>();
  const used = new Set<string>();
  const cache = new Map<string, boolean>();
  let checked = 0;
  for (const call of calls) {
    if (call.caller === 'test') continue;
    const byRole = roles[call.caller];
    for (const recorded of call.requests) {
      const req = call.caller === 'runner' ? asDeployedClass(recorded, Object.keys(byRole)[0]!) : recorded;
      // A runner's queue names its class; everything else a runner does, the default class's role shows.
      const cls = /QUEUE-([a-z0-9-]+)$/.exec(req.resource)?.[1];
      const roleName = call.caller === 'runner' ? (cls && byRole[cls] ? cls : Object.keys(byRole)[0]!) : Object.keys(byRole)[0]!;
      const statements = byRole[roleName]!;
      const key = JSON.stringify([roleName, req]);
      let allowed = cache.get(key);
      if (allowed === undefined) {
        const result = await runSimulation(
          {
            request: {
              principal: `arn:aws:iam::${ACCOUNT}:role/${call.caller}-${roleName}`,
              action: req.action,
              resource: { resource: req.resource, accountId: ACCOUNT },
              contextVariables: { ...(req.context ?? {}), 'aws:SecureTransport': 'true' },
            },
            identityPolicies: [{ name: 'role', policy: { Version: '2012-10-17', Statement: statements } }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
          } as never,
          {},
        );
        allowed = result.resultType !== 'error' && result.overallResult === 'Allowed';
        if (result.resultType === 'error') denied.add(`${call.caller}: ${req.action} on ${req.resource}: simulation error ${JSON.stringify(result.errors).slice(0, 300)}`);
        cache.set(key, allowed);
        checked++;
      }
      if (!allowed) denied.add(`${call.caller} (${roleName} role) ${req.action} on ${req.resource}${req.context ? ` ${JSON.stringify(req.context)}` : ''} from ${call.site ?? '?'} (${call.command})`);
      for (const s of statements) if (s.Effect === 'Allow' && actionsOf(s).some((a) => matches(a, req.action))) used.add(`${call.caller}:${roleName}:${req.action}`);
    }
  }
  const unused: string[] = [];
  for (const [caller, byRole] of Object.entries(roles)) {
    for (const [roleName, statements] of Object.entries(byRole)) {
      for (const s of statements) for (const a of actionsOf(s)) if (s.Effect === 'Allow' && !used.has(`${caller}:${roleName}:${a}`)) unused.push(`${caller} (${roleName}): ${a}`);
    }
  }
  return { denied: [...denied].sort(), unused: [...new Set(unused)].sort(), checked };
}

/**
 * A runner of a slot class only a test defines (e.g. 'huge', 1,024 slots) polls a queue the stack
 * has no counterpart of: it is checked as the default class's runner on that class's own queue,
 * which is what the same runner would do deployed. A deployed class's queue is never rewritten,
 * so a runner polling another class's queue is still caught.
 */
function asDeployedClass(req: IamRequest, defaultClass: string): IamRequest {
  const queue = /^arn:aws:sqs:[^:]+:[^:]+:(.+)$/.exec(req.resource)?.[1];
  if (!queue || /^(QUEUE|DLQ)-/.test(queue)) return req;
  return { ...req, resource: req.resource.replace(/[^:]+$/, `QUEUE-${defaultClass}`) };
}

const matches = (pattern: string, action: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action);

