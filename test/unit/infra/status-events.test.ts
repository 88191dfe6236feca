import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { StatusEvents } from '../../../infra/constructs/status-events';
import { actionsOf, coreFixture, statementsOf } from './support';

describe('StatusEvents', () => {
  const { stack, core } = coreFixture({ statusEvents: 'all' });
  const events = new StatusEvents(stack, 'StatusEvents', { core, mode: 'all', batchSize: 50, maxBatchingWindow: Duration.seconds(2), retryAttempts: 5 });
  const template = Template.fromStack(stack);
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);

  test('the core table has a stream with both images', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
  });

  test('a Node.js Lambda told the bus, the mode and the table (for the aggregates), and nothing else of the runtime config', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
    const fn = template.findResources('AWS::Lambda::Function')[id(events.function)]!;
    const vars = fn.Properties.Environment.Variables;
    expect(Object.keys(vars).sort()).toEqual(['JOBFLEET_EVENT_BUS', 'JOBFLEET_STATUS_EVENTS', 'JOBFLEET_TABLE', 'NODE_OPTIONS']);
    expect(vars.JOBFLEET_STATUS_EVENTS).toBe('all');
  });

  test('the stream mapping: task inserts and updates only, partial batch responses, bisect, bounded retries into a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [id(core.tasks.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id(events.deadLetterQueue), 'Arn'] } } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { type: { S: ['task'] } } } }) }] },
    });
  });

  test('least privilege: PutEvents on the bus only, its own log group, this table\'s stream, send to its dead-letter queue; on the table only UpdateItem (the console\'s aggregates)', () => {
    const statements = statementsOf(template, 'StatusEventsRole');
    const actions = statements.flatMap(actionsOf);
    const put = statements.filter((s) => actionsOf(s).includes('events:PutEvents'));
    expect(put).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [id(core.statusBus.bus), 'Arn'] } }]);
    expect(actions.filter((a) => a.startsWith('events:'))).toEqual(['events:PutEvents']);
    const stream = statements.find((s) => actionsOf(s).includes('dynamodb:GetRecords'))!;
    expect(stream.Resource).toEqual({ 'Fn::GetAtt': [id(core.tasks.table), 'StreamArn'] });
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams', 'dynamodb:UpdateItem']);
    expect(actions.filter((a) => a.startsWith('sqs:'))).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    template.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: Match.objectLike({}), ManagedPolicyArns: Match.absent() });
  });
});

describe('status events off', () => {
  test('the table has no stream', () => {
    const { stack } = coreFixture({ statusEvents: 'none' });
    const table = Object.values(Template.fromStack(stack).findResources('AWS::DynamoDB::Table'))[0]!;
    expect(table.Properties.StreamSpecification).toBeUndefined();
  });
});
