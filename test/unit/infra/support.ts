import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DEFAULT_SETTINGS, REPO_ROOT, type JobfleetSettings } from '../../../infra/config';
import { JobfleetCore } from '../../../infra/constructs/jobfleet-core';
import { createJobfleetApp } from '../../../infra/jobfleet-app';

export const FIXTURE_TICKER = path.join(__dirname, 'fixtures/ticker-handler.ts');
/** A registry image, so construct tests do not stage the repository as a Docker context. */
export const TEST_IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24-bookworm-slim');

/** An app that skips asset bundling (esbuild) and pins an environment, for fast construct tests. */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
}

export function testStack(app: App = testApp()): Stack {
  return new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
}

/** A stack holding only the core, with settings overrides. */
export function coreFixture(settings: Partial<JobfleetSettings> = {}) {
  const stack = testStack();
  const core = new JobfleetCore(stack, 'Core', { settings: { ...DEFAULT_SETTINGS, ...settings } });
  return { stack, core };
}

/** Every IAM policy statement attached to the role whose logical id starts with `rolePrefix`. */
export function statementsOf(template: Template, rolePrefix: string): { Action: string | string[]; Resource: unknown; Effect: string }[] {
  const roles = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(rolePrefix));
  if (roles.length !== 1) throw new Error(`expected one role starting with ${rolePrefix}, found ${roles.join(', ') || 'none'}`);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roles[0]),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

export const actionsOf = (s: { Action: string | string[] }): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/**
 * Synthesizes the whole app as `cdk synth` does (cdk.json context) into `outdir`, and returns the
 * stack and the paths of the ticker and status-events bundles esbuild produced for it.
 */
export function synthWholeApp(outdir: string) {
  const { context } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const { app, stack } = createJobfleetApp({ outdir, context });
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  const bundleOf = (fn: { node: { defaultChild?: unknown } }) => {
    const resource = template.findResources('AWS::Lambda::Function')[stack.getLogicalId(fn.node.defaultChild as never)]!;
    return path.join(assembly.directory, `asset.${String(resource.Properties.Code.S3Key).replace(/\.zip$/, '')}`, 'index.js');
  };
  return { app, stack, assembly, template, tickerBundle: bundleOf(stack.ticker.function), statusEventsBundle: stack.statusEvents ? bundleOf(stack.statusEvents.function) : undefined };
}
