import { BootstraplessSynthesizer, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { catalogueFleet, resolveSettings, type JobfleetSettings } from './config';
import { JobfleetCore } from './constructs/jobfleet-core';

export interface CoreStackProps extends StackProps {
  /** @default context, then defaults */
  readonly settings?: Partial<JobfleetSettings>;
  /** @default RemovalPolicy.DESTROY: a local stack is disposable */
  readonly removalPolicy?: RemovalPolicy;
}

/** Output holding the JOBFLEET_* environment as JSON. */
export const RUNTIME_ENV_OUTPUT = 'RuntimeEnvironment';

/**
 * Only the stateful core (table, queues, bucket, bus), built by the same constructs as the full
 * stack: what LocalStack can run. No assets and no bootstrap resources, so the template deploys
 * with plain CloudFormation calls (infra/local-deploy.ts).
 */
export class CoreStack extends Stack {
  public readonly core: JobfleetCore;

  constructor(scope: Construct, id: string, props: CoreStackProps = {}) {
    super(scope, id, { synthesizer: new BootstraplessSynthesizer(), analyticsReporting: false, ...props });
    const settings = resolveSettings(this.node, props.settings, catalogueFleet());
    this.core = new JobfleetCore(this, 'Core', { settings, removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY });
    new CfnOutput(this, RUNTIME_ENV_OUTPUT, { value: this.toJsonString(this.core.runtimeEnvironment) });
  }
}
