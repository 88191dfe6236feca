import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { JobfleetStack } from '../../../infra/jobfleet-stack';
import { FIXTURE_TICKER, statementsOf, TEST_IMAGE, testApp } from './support';

const env = { account: '123456789012', region: 'eu-west-1' };

describe('JobfleetStack', () => {
  test('removalPolicy=destroy leaves nothing behind; alarms notify the configured topic', () => {
    const app = testApp({ 'jobfleet:removalPolicy': 'destroy', 'jobfleet:alarmTopicArn': 'arn:aws:sns:eu-west-1:123456789012:pager' });
    const stack = new JobfleetStack(app, 'Jobfleet', { env, tickerEntry: FIXTURE_TICKER, runnerImage: TEST_IMAGE });
    const template = Template.fromStack(stack);
    for (const type of ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup']) {
      for (const [id, resource] of Object.entries(template.findResources(type))) expect([id, resource.DeletionPolicy]).toEqual([id, 'Delete']);
    }
    for (const a of stack.monitoring.alarms) {
      const props = template.findResources('AWS::CloudWatch::Alarm')[stack.getLogicalId(a.node.defaultChild as never)]!.Properties;
      expect(props.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:pager']);
    }
  });

  test('grantEnqueue lets a service in another stack write tasks; runtimeEnvironment wires it', () => {
    const app = testApp();
    const scheduler = new JobfleetStack(app, 'Jobfleet', { env, tickerEntry: FIXTURE_TICKER, runnerImage: TEST_IMAGE });
    const other = new Stack(app, 'Orders', { env });
    const role = new iam.Role(other, 'OrdersService', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    scheduler.grantEnqueue(role);
    const [statement, ...rest] = statementsOf(Template.fromStack(other), 'OrdersService');
    expect(rest).toEqual([]);
    expect(statement!.Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']);
    expect(JSON.stringify(statement!.Resource)).toContain('Fn::ImportValue');
    expect(Object.keys(scheduler.runtimeEnvironment)).toEqual(expect.arrayContaining(['JOBFLEET_TABLE', 'JOBFLEET_QUEUES', 'JOBFLEET_BUCKET', 'JOBFLEET_EVENT_BUS']));
  });
});
