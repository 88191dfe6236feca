import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as iam from 'aws-cdk-lib/aws-iam';
import { JobfleetStack, type JobfleetStackProps } from './jobfleet-stack';
import { acknowledgeWildcard } from './nag';

/**
 * The CDK app: one JobfleetStack (name from `-c jobfleet:stackName`, default "Jobfleet"), checked
 * by cdk-nag's AwsSolutions pack on every synth; an unacknowledged finding fails the synth.
 */
export function createJobfleetApp(props: AppProps = {}, stackProps: JobfleetStackProps = {}): { app: App; stack: JobfleetStack } {
  const app = new App(props);
  const stack = new JobfleetStack(app, app.node.tryGetContext('jobfleet:stackName') ?? 'Jobfleet', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    ...stackProps,
  });
  grantExampleJobs(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

/** The repository's example job "report" writes reports/* into the logs bucket, with its own role. */
function grantExampleJobs(stack: JobfleetStack): void {
  const report = stack.jobRoles.get('report');
  if (!report) return;
  const reports = stack.core.logs.bucket.arnForObjects('reports/*');
  report.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [reports] }));
  acknowledgeWildcard(report, reports, 'A report key is reports/<title>/<date>/<taskId>.json, known at run time only; limited to the reports/ prefix.');
  stack.fleet.addJobEnvironment('JOB_REPORTS_BUCKET', stack.core.logs.bucket.bucketName);
}
