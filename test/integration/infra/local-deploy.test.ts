import { randomBytes } from 'node:crypto';
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_FLEET } from '../../../core/config/fleet';
import { TABLE_INDEXES, TTL_ATTRIBUTE } from '../../../core/store/table-definition';
import { catalogueFleet } from '../../../infra/config';
import { deleteCoreStack, deployCoreStack } from '../../../infra/local-deploy';

/** Deploys a uniquely named CoreStack to the local AWS with CloudFormation, checks it, deletes it. */
describe('local deploy of the CoreStack', () => {
  const stackName = `jobfleet-it-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const lines: string[] = [];
  const options = { stackName, log: (line: string) => lines.push(line) };
  let env: Record<string, string>;
  const client = <T>(Ctor: new (c: object) => T): T =>
    new Ctor({
      region: env.AWS_REGION,
      endpoint: env.AWS_ENDPOINT_URL,
      forcePathStyle: true,
      ...(process.env.AWS_ACCESS_KEY_ID ? {} : { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    });

  // CloudFormation on the emulator takes seconds, more on a busy machine.
  beforeAll(async () => {
    env = await deployCoreStack(options);
  }, 180_000);
  afterAll(async () => {
    await deleteCoreStack(options);
  }, 120_000);

  test('returns the JOBFLEET_* environment, with progress on the way', () => {
    expect(Object.keys(env).sort()).toEqual(
      [
        'AWS_ENDPOINT_URL',
        'AWS_REGION',
        'JOBFLEET_BUCKET',
        'JOBFLEET_DISPATCH_WINDOW_MS',
        'JOBFLEET_EVENT_BUS',
        'JOBFLEET_GRACE_MS',
        'JOBFLEET_LEASE_MS',
        'JOBFLEET_QUEUES',
        'JOBFLEET_SHARDS',
        'JOBFLEET_STATUS_EVENTS',
        'JOBFLEET_TABLE',
      ].sort(),
    );
    expect(lines.some((l) => l.includes('CREATE_COMPLETE AWS::DynamoDB::Table'))).toBe(true);
  });

  test('the table has the indexes of TABLE_INDEXES, TTL and its stream', async () => {
    const ddb = client(DynamoDBClient);
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: env.JOBFLEET_TABLE }));
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((g) => ({ name: g.IndexName, keys: g.KeySchema?.map((k) => k.AttributeName), projection: g.Projection }));
    expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
      TABLE_INDEXES.map((i) => ({
        name: i.name,
        keys: [i.partitionKey, i.sortKey],
        projection: i.include.length ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...i.include] } : { ProjectionType: 'KEYS_ONLY' },
      })).sort((a, b) => a.name.localeCompare(b.name)),
    );
    // Status events are on (terminal, the default): they are made from the table's stream.
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(Table?.LatestStreamArn).toBeDefined();
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: env.JOBFLEET_TABLE }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: TTL_ATTRIBUTE, TimeToLiveStatus: 'ENABLED' });
  });

  test('a queue with a dead-letter queue per slot class', async () => {
    const urls = JSON.parse(env.JOBFLEET_QUEUES!) as Record<string, string>;
    expect(Object.keys(urls).sort()).toEqual((catalogueFleet() ?? DEFAULT_FLEET).classes.map((c) => c.name).sort());
    const sqs = client(SQSClient);
    for (const url of Object.values(urls)) {
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toMatchObject({ maxReceiveCount: 5 });
    }
  });

  test('the logs bucket and the status bus', async () => {
    // Existence only: LocalStack's CloudFormation does not apply the bucket's lifecycle rules
    // (the unit tests check them in the template).
    await client(S3Client).send(new HeadBucketCommand({ Bucket: env.JOBFLEET_BUCKET }));
    const bus = await client(EventBridgeClient).send(new DescribeEventBusCommand({ Name: env.JOBFLEET_EVENT_BUS }));
    expect(bus.Name).toBe(env.JOBFLEET_EVENT_BUS);
  });

  test('deploying again changes nothing and returns the same environment', async () => {
    lines.length = 0;
    expect(await deployCoreStack(options)).toEqual(env);
    expect(lines).toContain(`${stackName}: up to date (no updates)`);
  }, 60_000);
});
