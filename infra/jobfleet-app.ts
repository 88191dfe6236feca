import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { JobfleetStack, type JobfleetStackProps } from './jobfleet-stack';

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
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
