import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../../core/store/table-definition';
import { TasksTable } from '../../../infra/constructs/tasks-table';
import { actionsOf, statementsOf, testStack } from './support';

describe('TasksTable', () => {
  const stack = testStack();
  const tasks = new TasksTable(stack, 'Tasks');
  const client = new iam.Role(stack, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
  tasks.grantEnqueue(client);
  const template = Template.fromStack(stack);

  test('on demand, point-in-time recovery, encrypted, TTL, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    });
  });

  test('indexes are exactly TABLE_INDEXES (names, keys, projections)', () => {
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0]!;
    const expected = TABLE_INDEXES.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' },
        { AttributeName: i.sortKey, KeyType: 'RANGE' },
      ],
      Projection: i.include.length ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...i.include] } : { ProjectionType: 'KEYS_ONLY' },
    }));
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(expected);
  });

  test('grantEnqueue: keyed reads and writes on the table, only in the task, idempotency and schedule partitions, nothing on its indexes', () => {
    const statements = statementsOf(template, 'Client');
    expect(statements).toHaveLength(2);
    expect(actionsOf(statements[0]!).sort()).toEqual(['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect((statements[0] as { Condition?: unknown }).Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['tasks#*', 'idem#*', 'schedule'] } });
    expect(JSON.stringify(statements[0]!.Resource)).not.toContain('/index/');
  });

  test('grantEnqueue: only UpdateItem on the concurrency counters, which a cancel of a queued task gives back', () => {
    const release = statementsOf(template, 'Client')[1]!;
    expect(actionsOf(release)).toEqual(['dynamodb:UpdateItem']);
    expect((release as { Condition?: unknown }).Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['conc#*'] } });
    expect(JSON.stringify(release.Resource)).not.toContain('/index/');
  });
});
