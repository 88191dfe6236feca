import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_FLEET } from '../../../core/config/fleet';
import { catalogueFleet } from '../../../infra/config';
import { CoreStack, RUNTIME_ENV_OUTPUT } from '../../../infra/core-stack';
import type { JobfleetStack } from '../../../infra/jobfleet-stack';
import { synthWholeApp } from './support';


/** cdk-nag 3 reports through CDK's Validations: every finding not acknowledged fails the synth. */
const nagViolations = (scope: App) => new AwsSolutionsChecks().validateScope(scope).violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

test('the nag check is not vacuous: a bucket without SSL-only policy or access logs is reported', () => {
  const app = new App();
  new s3.Bucket(new Stack(app, 'Bad'), 'Bucket');
  expect(nagViolations(app)).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-S10 /), expect.stringMatching(/^AwsSolutions-S1 /)]));
});

test('CoreStack: the same core constructs, no compute, disposable, nag-clean', () => {
  const app = new App();
  const stack = new CoreStack(app, 'Local');
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::DynamoDB::Table', 1);
  // The fleet is the job catalogue's (DEFAULT_FLEET until jobs/catalogue.ts declares one).
  expect([...stack.core.queues.queues.keys()]).toEqual((catalogueFleet() ?? DEFAULT_FLEET).classes.map((c) => c.name));
  template.resourceCountIs('AWS::SQS::Queue', stack.core.queues.queues.size * 2);
  template.resourceCountIs('AWS::S3::Bucket', 1);
  template.resourceCountIs('AWS::Events::EventBus', 1);
  for (const type of ['AWS::Lambda::Function', 'AWS::ECS::Service', 'AWS::IAM::Role']) template.resourceCountIs(type, 0);
  template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  template.hasOutput(RUNTIME_ENV_OUTPUT, {});
  // Deployable with plain CloudFormation: no bootstrap version parameter or rule.
  expect(template.toJSON().Parameters).toBeUndefined();
  expect(nagViolations(app)).toEqual([]);
});

describe('the whole app (offline, ticker bundled with esbuild, cdk-nag)', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobfleet-synth-'));
  let app: App;
  let stack: JobfleetStack;
  let template: Template;
  let tickerBundle: string;
  let statusEventsBundle: string | undefined;
  beforeAll(() => {
    ({ app, stack, template, tickerBundle, statusEventsBundle } = synthWholeApp(outdir));
  });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('synthesizes with no unacknowledged cdk-nag AwsSolutions finding', () => {
    expect(nagViolations(app)).toEqual([]);
  });

  test('composes every part', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Handler: 'index.handler', Timeout: 70 });
    template.resourceCountIs('AWS::ECS::Service', stack.settings.fleet.classes.length);
    template.resourceCountIs('AWS::ECS::TaskDefinition', stack.settings.fleet.classes.length);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // Status events (terminal, the default): the stream consumer and its mapping.
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    expect(template.findResources('AWS::Lambda::Function')[stack.getLogicalId(stack.statusEvents!.function.node.defaultChild as never)]).toBeDefined();
    template.hasOutput('RuntimeEnvironment', {});
  });

  test('the runner image context is the allowlisted repository (package files, core, runner, jobs)', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, `${stack.artifactId}.assets.json`), 'utf8'));
    const images = Object.values(manifest.dockerImages) as { source: { directory: string; dockerFile: string } }[];
    expect(images).toHaveLength(1);
    expect(images[0]!.source.dockerFile).toBe('runner/Dockerfile');
    const context = path.join(outdir, images[0]!.source.directory);
    const entries = fs.readdirSync(context).filter((e) => e !== '.dockerignore').sort();
    expect(entries.filter((e) => !['core', 'jobs', 'package-lock.json', 'package.json', 'runner', 'tsconfig.json'].includes(e))).toEqual([]);
    expect(fs.existsSync(path.join(context, 'runner/Dockerfile'))).toBe(true);
  });

  test('the ticker bundle cdk synth produced loads and exports handler', () => {
    const bundle = tickerBundle;
    expect(fs.existsSync(bundle)).toBe(true);
    const env = { JOBFLEET_TABLE: 'tasks', JOBFLEET_BUCKET: 'logs', JOBFLEET_QUEUES: '{"small":"https://sqs.eu-west-1.amazonaws.com/123456789012/small"}', AWS_REGION: 'eu-west-1' };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(bundle) as { handler?: unknown };
      expect(typeof mod.handler).toBe('function');
    } finally {
      process.env = saved;
    }
  });

  test('the status-events bundle cdk synth produced maps a stream batch with the handler (publishing nothing for a non-task item)', async () => {
    expect(statusEventsBundle && fs.existsSync(statusEventsBundle)).toBe(true);
    const saved = { ...process.env };
    Object.assign(process.env, { JOBFLEET_EVENT_BUS: 'bus', JOBFLEET_STATUS_EVENTS: 'terminal', AWS_REGION: 'eu-west-1' });
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(statusEventsBundle as string) as { handler: (e: unknown) => Promise<unknown> };
      const schedule = { eventName: 'MODIFY', dynamodb: { SequenceNumber: '1', NewImage: { type: { S: 'schedule' }, status: { S: 'completed' } } } };
      await expect(mod.handler({ Records: [schedule] })).resolves.toEqual({ batchItemFailures: [] });
    } finally {
      process.env = saved;
    }
  });
});
