import { TABLE_INDEXES } from '../../../core/store/table-definition';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_FLEET } from '../../../core/config/fleet';
import { Ticker } from '../../../infra/constructs/ticker';
import { actionsOf, coreFixture, FIXTURE_TICKER, statementsOf } from './support';

describe('Ticker', () => {
  const { stack, core } = coreFixture();
  new Ticker(stack, 'Ticker', { core, entry: FIXTURE_TICKER, tickIntervalMs: 750, timeout: Duration.seconds(60), reservedConcurrency: 2 });
  const template = Template.fromStack(stack);

  test('a Node.js Lambda whose timeout is its loop, with bounded concurrency and no retries', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 60,
      MemorySize: 256,
      ReservedConcurrentExecutions: 2,
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  test('every runtime variable is wired, plus the tick interval', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0]!;
    const vars = fn.Properties.Environment.Variables;
    for (const key of ['JOBFLEET_TABLE', 'JOBFLEET_BUCKET', 'JOBFLEET_QUEUES', 'JOBFLEET_EVENT_BUS', 'JOBFLEET_STATUS_EVENTS', 'JOBFLEET_SHARDS', 'JOBFLEET_DISPATCH_WINDOW_MS', 'JOBFLEET_LEASE_MS', 'JOBFLEET_GRACE_MS']) {
      expect(vars[key]).toBeDefined();
    }
    expect(vars.JOBFLEET_TICK_INTERVAL_MS).toBe('750');
    expect(JSON.parse(vars.JOBFLEET_FLEET)).toEqual({ classes: DEFAULT_FLEET.classes });
  });

  test('an EventBridge rule starts it every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TickerFunction'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
  });

  test('least privilege: own log group, table + indexes, send to the queues and read their depth; no bus (status events come from the stream), no metrics API, no S3', () => {
    const statements = statementsOf(template, 'TickerRole');
    const actions = statements.flatMap(actionsOf).sort();
    expect(actions).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:GetQueueAttributes',
        'sqs:SendMessage',
      ].sort(),
    );
    const table = statements.find((s) => actionsOf(s).includes('dynamodb:Query'))!;
    // The table and each index by name, no index wildcard.
    expect(JSON.stringify(table.Resource)).not.toContain('/index/*');
    expect((table.Resource as unknown[]).length).toBe(1 + TABLE_INDEXES.length);
    const sqs = statements.find((s) => actionsOf(s).includes('sqs:SendMessage'))!;
    expect(sqs.Resource).toHaveLength(core.queues.queues.size);
    // No managed policy (AWSLambdaBasicExecutionRole would grant every log group).
    template.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: Match.objectLike({}), ManagedPolicyArns: Match.absent() });
  });
});
