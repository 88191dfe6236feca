import { Match, Template } from 'aws-cdk-lib/assertions';
import { JobfleetStack } from '../../../infra/jobfleet-stack';
import { FIXTURE_TICKER, TEST_IMAGE, testApp } from './support';

const env = { account: '123456789012', region: 'eu-west-1' };
const synth = (context: Record<string, unknown> = {}) => {
  const stack = new JobfleetStack(testApp(context), 'Jobfleet', { env, tickerEntry: FIXTURE_TICKER, runnerImage: TEST_IMAGE });
  return { stack, template: Template.fromStack(stack) };
};

/**
 * The task table must never be swapped for an empty one by a stack update. CloudFormation
 * replaces an AWS::DynamoDB::Table when its logical id, TableName, KeySchema (or a key's
 * attribute type) or LocalSecondaryIndexes change: with RETAIN the old table is then orphaned
 * silently and every process points at the new, empty one. These are pinned here; changing one
 * is a migration (docs/deploy.md, "Data protection"), never a routine deploy.
 */
describe('data protection', () => {
  const { stack, template } = synth();
  const [[tableId, table]] = Object.entries(template.findResources('AWS::DynamoDB::Table')) as [[string, { DeletionPolicy: string; UpdateReplacePolicy: string; Properties: Record<string, unknown> }]];

  test('what would replace the table is pinned: logical id, no fixed name, key schema, no local indexes', () => {
    expect(tableId).toBe('CoreTasksTable94CAC421');
    expect(table.Properties.TableName).toBeUndefined();
    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const types = Object.fromEntries((table.Properties.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map((a) => [a.AttributeName, a.AttributeType]));
    expect([types.pk, types.sk]).toEqual(['S', 'S']);
    expect(table.Properties.LocalSecondaryIndexes).toBeUndefined();
  });

  test('deletion protection on by default, and the table retained on stack deletion and on replacement', () => {
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    expect(stack.settings.removalPolicy).toBe('retain');
  });

  test('a disposable stack (removalPolicy=destroy) turns deletion protection off, unless asked to keep it', () => {
    const dev = synth({ 'jobfleet:removalPolicy': 'destroy' }).template;
    dev.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    const kept = synth({ 'jobfleet:removalPolicy': 'destroy', 'jobfleet:tableDeletionProtection': true }).template;
    kept.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
  });

  test('logs and results are versioned, old versions expire after 30 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'old-versions', NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' })]) },
    });
  });

  test('operations: a health check in the task definition, an alarm topic by default, consumer and throttling alarms', () => {
    for (const td of Object.values(template.findResources('AWS::ECS::TaskDefinition'))) {
      expect(td.Properties.ContainerDefinitions[0].HealthCheck).toMatchObject({ Command: ['CMD', 'node', '-e', expect.stringContaining('jobfleet-runner.heartbeat')], Retries: 3 });
    }
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const topic = stack.getLogicalId(stack.alarmTopic.node.defaultChild as never);
    for (const id of ['TableThrottling', 'StatusEventErrors', 'StatusEventIteratorAge']) {
      const a = stack.monitoring.alarms.find((x) => x.node.id === id);
      expect(a).toBeDefined();
      expect(template.findResources('AWS::CloudWatch::Alarm')[stack.getLogicalId(a!.node.defaultChild as never)]!.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    }
    const withEmail = synth({ 'jobfleet:alarmEmail': 'ops@example.com' }).template;
    withEmail.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});
