import { CreateTableCommand, DeleteTableCommand, UpdateTimeToLiveCommand, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { loadRuntimeConfig, type RuntimeConfig } from '../../core/config/runtime';
import type { AwsClients } from '../../core/store/aws-clients';
import { awsClients, uniqueName } from './aws';
import { STREAM_VIEW_TYPE, TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../core/store/table-definition';
import { createServices, type Services } from '../../core/services';
import type { FleetConfig } from '../../core/config/fleet';
import { DEFAULT_FLEET } from '../../core/config/fleet';

/**
 * Per-test AWS resources on the local emulator, named uniquely so test files run in parallel
 * against one LocalStack. The table is built from the same definition the CDK construct uses.
 */
export interface TestEnvironment {
  readonly services: Services;
  readonly config: RuntimeConfig;
  readonly clients: AwsClients;
  cleanup(): Promise<void>;
}


/** The table of TABLE_INDEXES; with `stream`, its stream on (as the CDK table has it while status events are on). */
export async function createTable(clients: AwsClients, tableName: string, options: { stream?: boolean } = {}): Promise<void> {
  const attrs = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, ...TABLE_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])]);
  const key = (pk: string, sk: string): KeySchemaElement[] => [
    { AttributeName: pk, KeyType: 'HASH' },
    { AttributeName: sk, KeyType: 'RANGE' },
  ];
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attrs].map((a) => ({ AttributeName: a, AttributeType: 'S' })),
      KeySchema: key(TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey),
      GlobalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
        IndexName: i.name,
        KeySchema: key(i.partitionKey, i.sortKey),
        Projection: i.include.length ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...i.include] } : { ProjectionType: 'KEYS_ONLY' },
      })),
      ...(options.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: STREAM_VIEW_TYPE } } : {}),
    }),
  );
  await clients.dynamodb.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }));
}

export interface TestEnvironmentOptions {
  readonly fleet?: FleetConfig;
  readonly shards?: number;
  readonly env?: Record<string, string>;
  /** Extra SQS attributes for every class queue (e.g. a short VisibilityTimeout). */
  readonly queueAttributes?: Record<string, string>;
  /** Turn the table's stream on (NEW_AND_OLD_IMAGES), for the status-event consumer. */
  readonly stream?: boolean;
}

export async function createTestEnvironment(prefix: string, options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const clients = awsClients();
  const name = uniqueName(prefix);
  const fleet = options.fleet ?? DEFAULT_FLEET;
  await createTable(clients, name, { stream: options.stream });
  const queueUrls: Record<string, string> = {};
  for (const c of fleet.classes) {
    const res = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-${c.name}`, Attributes: options.queueAttributes }));
    queueUrls[c.name] = res.QueueUrl as string;
  }
  await clients.s3.send(new CreateBucketCommand({ Bucket: name }));
  const config = loadRuntimeConfig({
    ...process.env,
    JOBFLEET_TABLE: name,
    JOBFLEET_BUCKET: name,
    JOBFLEET_QUEUES: JSON.stringify(queueUrls),
    JOBFLEET_SHARDS: String(options.shards ?? 4),
    JOBFLEET_DISPATCH_WINDOW_MS: '2000',
    JOBFLEET_LEASE_MS: '1500',
    JOBFLEET_GRACE_MS: '500',
    JOBFLEET_EVENT_BUS: '',
    ...options.env,
  });
  const services = createServices(config, clients);
  return {
    services,
    config,
    clients,
    async cleanup() {
      await clients.dynamodb.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
      for (const url of Object.values(queueUrls)) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
      const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: name })).catch(() => undefined);
      const keys = (listed?.Contents ?? []).map((o) => ({ Key: o.Key as string }));
      if (keys.length) await clients.s3.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys } })).catch(() => undefined);
      await clients.s3.send(new DeleteBucketCommand({ Bucket: name })).catch(() => undefined);
    },
  };
}
