import * as path from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { REPO_ROOT } from '../config';

export interface BundledFunctionProps {
  /** A TypeScript file of this repository, relative to its root, exporting `handler`. */
  readonly entry: string;
  readonly logRetention?: logs.RetentionDays;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** Anything else of the function (retries, reserved concurrency). */
  readonly extra?: Omit<lambda.FunctionOptions, 'role' | 'logGroup' | 'memorySize' | 'timeout' | 'environment'>;
}

export interface BundledFunction {
  readonly fn: NodejsFunction;
  /** The function's own role: it may write its log group, nothing else until the caller grants more. */
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * One of jobfleet's Lambda functions: Node 24 on arm64, bundled here by esbuild (no Docker) with
 * the AWS SDK inside, at the versions package-lock.json pins, not whatever the runtime ships. An
 * explicit role instead of AWSLambdaBasicExecutionRole: logs go to its own log group only.
 */
export function bundledFunction(scope: Construct, id: string, props: BundledFunctionProps): BundledFunction {
  const logGroup = new logs.LogGroup(scope, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
  const role = new iam.Role(scope, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  logGroup.grantWrite(role);
  const fn = new NodejsFunction(scope, id, {
    ...props.extra,
    entry: path.isAbsolute(props.entry) ? props.entry : path.join(REPO_ROOT, props.entry),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role,
    logGroup,
    environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    bundling: { forceDockerBundling: false, format: OutputFormat.CJS, target: 'node24', minify: true, sourceMap: true, externalModules: [] },
  });
  return { fn, role, logGroup };
}
