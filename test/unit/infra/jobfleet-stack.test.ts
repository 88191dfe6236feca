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

  test('status events on (the default): a stream consumer whose dead-letter queue has an alarm; off: neither, and no stream', () => {
    const on = new JobfleetStack(testApp(), 'Jobfleet', { env, tickerEntry: FIXTURE_TICKER, runnerImage: TEST_IMAGE });
    expect(on.statusEvents).toBeDefined();
    const onTemplate = Template.fromStack(on);
    onTemplate.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    const dlqAlarm = on.monitoring.alarms.find((a) => a.node.id === 'StatusEventDeadLetters');
    expect(dlqAlarm).toBeDefined();
    const alarmProps = onTemplate.findResources('AWS::CloudWatch::Alarm')[on.getLogicalId(dlqAlarm!.node.defaultChild as never)]!.Properties;
    expect(alarmProps.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [on.getLogicalId(on.statusEvents!.deadLetterQueue.node.defaultChild as never), 'QueueName'] } }]);

    const off = new JobfleetStack(testApp({ 'jobfleet:statusEvents': 'none' }), 'Jobfleet', { env, tickerEntry: FIXTURE_TICKER, runnerImage: TEST_IMAGE });
    expect(off.statusEvents).toBeUndefined();
    const offTemplate = Template.fromStack(off);
    offTemplate.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(off.monitoring.alarms.map((a) => a.node.id)).not.toContain('StatusEventDeadLetters');
    expect(Object.values(offTemplate.findResources('AWS::DynamoDB::Table'))[0]!.Properties.StreamSpecification).toBeUndefined();
  });

  test('outputs where each slot class\'s runners run (FleetServices), for the console\'s runner counts', () => {
    const app = testApp();
    const scheduler = new JobfleetStack(app, 'Jobfleet', { env, tickerEntry: FIXTURE_TICKER, runnerImage: TEST_IMAGE });
    const outputs = Template.fromStack(scheduler).findOutputs('FleetServices');
    const value = JSON.stringify(Object.values(outputs)[0]?.Value);
    for (const c of scheduler.fleet.services.keys()) expect(value).toContain(`\\"${c}\\":{\\"cluster\\":\\"`);
    expect(value).toMatch(/Fn::GetAtt.*Service.*Name/);
  });

  test('grantEnqueue lets a service in another stack write tasks; runtimeEnvironment wires it', () => {
    const app = testApp();
    const scheduler = new JobfleetStack(app, 'Jobfleet', { env, tickerEntry: FIXTURE_TICKER, runnerImage: TEST_IMAGE });
    const other = new Stack(app, 'Orders', { env });
    const role = new iam.Role(other, 'OrdersService', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    scheduler.grantEnqueue(role);
    scheduler.grantLogReads(role);
    const [statement, release, logs, ...rest] = statementsOf(Template.fromStack(other), 'OrdersService');
    expect(rest).toEqual([]);
    expect(release!.Action).toEqual('dynamodb:UpdateItem');
    expect(logs!.Action).toEqual('s3:GetObject');
    expect(JSON.stringify(logs!.Resource)).toContain('/logs/*');
    expect(statement!.Action).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']);
    expect(JSON.stringify(statement!.Resource)).toContain('Fn::ImportValue');
    expect(Object.keys(scheduler.runtimeEnvironment)).toEqual(expect.arrayContaining(['JOBFLEET_TABLE', 'JOBFLEET_QUEUES', 'JOBFLEET_BUCKET', 'JOBFLEET_EVENT_BUS']));
  });
});
