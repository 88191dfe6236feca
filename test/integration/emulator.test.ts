/**
 * Proves the local AWS is a real emulator of the APIs jobfleet relies on, not a stub: DynamoDB
 * conditions and sparse GSIs, SQS visibility timeouts and batches, S3 with path-style addressing.
 * Each test makes its own uniquely named resources and deletes them.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { awsClients, uniqueName, type TestAwsClients } from '../support/aws';

// The integration project's `testTimeout` in jest.config.js is not applied (Jest reads testTimeout
// from the global config only), so this file sets its own.
jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let aws: TestAwsClients;
beforeAll(() => {
  aws = awsClients();
});
afterAll(() => aws.destroy());

async function withTable<T>(prefix: string, body: (table: string) => Promise<T>): Promise<T> {
  const table = uniqueName(prefix);
  await aws.dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'duePk', AttributeType: 'S' },
        { AttributeName: 'dueAt', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'due',
          KeySchema: [
            { AttributeName: 'duePk', KeyType: 'HASH' },
            { AttributeName: 'dueAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  try {
    await waitUntilTableExists({ client: aws.dynamodb, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: table });
    return await body(table);
  } finally {
    await aws.dynamodb.send(new DeleteTableCommand({ TableName: table }));
  }
}

describe('DynamoDB', () => {
  test('a conditional UpdateItem with a stale condition is rejected with ConditionalCheckFailedException', async () => {
    await withTable('emu-cond', async (table) => {
      await aws.doc.send(new PutCommand({ TableName: table, Item: { pk: 'task#1', version: 1, state: 'queued' } }));

      // A writer that read version 1 claims the item: succeeds and bumps the version.
      await aws.doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: 'task#1' },
          UpdateExpression: 'SET #s = :running, version = version + :one',
          ConditionExpression: 'version = :seen',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':running': 'running', ':one': 1, ':seen': 1 },
        }),
      );

      // A second writer that also read version 1 is now stale and must be rejected.
      const stale = aws.doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: 'task#1' },
          UpdateExpression: 'SET #s = :cancelled, version = version + :one',
          ConditionExpression: 'version = :seen',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':cancelled': 'cancelled', ':one': 1, ':seen': 1 },
        }),
      );
      await expect(stale).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      await expect(stale).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

      // attribute_not_exists guards creation too.
      await expect(
        aws.doc.send(new PutCommand({ TableName: table, Item: { pk: 'task#1', version: 9 }, ConditionExpression: 'attribute_not_exists(pk)' })),
      ).rejects.toBeInstanceOf(ConditionalCheckFailedException);

      const { Item } = await aws.doc.send(new GetCommand({ TableName: table, Key: { pk: 'task#1' }, ConsistentRead: true }));
      expect(Item).toEqual({ pk: 'task#1', version: 2, state: 'running' });
    });
  });

  test('a sparse GSI holds only the items that carry its key', async () => {
    await withTable('emu-gsi', async (table) => {
      const items = [
        { pk: 'a', duePk: 'due', dueAt: '2026-01-01T00:00:02Z' },
        { pk: 'b', note: 'no index key: not in the index' },
        { pk: 'c', duePk: 'due', dueAt: '2026-01-01T00:00:01Z' },
        { pk: 'd', duePk: 'due' }, // half a key: not in the index either
      ];
      for (const Item of items) await aws.doc.send(new PutCommand({ TableName: table, Item }));

      const res = await aws.doc.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'due',
          KeyConditionExpression: 'duePk = :due',
          ExpressionAttributeValues: { ':due': 'due' },
        }),
      );
      expect(res.Items?.map((i) => i.pk)).toEqual(['c', 'a']); // sorted by dueAt

      // Removing the index key takes the item out of the index.
      await aws.doc.send(new UpdateCommand({ TableName: table, Key: { pk: 'c' }, UpdateExpression: 'REMOVE duePk, dueAt' }));
      const after = await aws.doc.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'due',
          KeyConditionExpression: 'duePk = :due',
          ExpressionAttributeValues: { ':due': 'due' },
        }),
      );
      expect(after.Items?.map((i) => i.pk)).toEqual(['a']);
    });
  });
});

describe('SQS', () => {
  async function receiveAll(queueUrl: string, expected: number, timeoutMs: number): Promise<Message[]> {
    const got = new Map<string, Message>();
    const deadline = Date.now() + timeoutMs;
    while (got.size < expected && Date.now() < deadline) {
      const res = await aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      for (const m of res.Messages ?? []) got.set(m.MessageId as string, m);
    }
    return [...got.values()];
  }

  test('send, receive, visibility timeout expiry and redelivery, batch delete', async () => {
    const name = uniqueName('emu-q');
    const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '1' } }));
    const queueUrl = QueueUrl as string;
    try {
      const sent = await aws.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: ['one', 'two', 'three'].map((body, i) => ({ Id: `m${i}`, MessageBody: body })),
        }),
      );
      expect(sent.Successful).toHaveLength(3);
      expect(sent.Failed ?? []).toHaveLength(0);

      const first = await receiveAll(queueUrl, 3, 10_000);
      expect(first.map((m) => m.Body).sort()).toEqual(['one', 'three', 'two']);
      expect(first.every((m) => m.Attributes?.ApproximateReceiveCount === '1')).toBe(true);

      // In flight: invisible until the 1 s visibility timeout runs out.
      const during = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      expect(during.Messages ?? []).toHaveLength(0);

      await sleep(1500);
      const again = await receiveAll(queueUrl, 3, 10_000);
      expect(again.map((m) => m.MessageId).sort()).toEqual(first.map((m) => m.MessageId).sort());
      expect(again.every((m) => Number(m.Attributes?.ApproximateReceiveCount) >= 2)).toBe(true);

      const deleted = await aws.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: again.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle as string })),
        }),
      );
      expect(deleted.Successful).toHaveLength(3);
      expect(deleted.Failed ?? []).toHaveLength(0);

      // Deleted messages never come back, even after the visibility timeout.
      await sleep(1500);
      const afterDelete = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      expect(afterDelete.Messages ?? []).toHaveLength(0);
      const attrs = await aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    } finally {
      await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    }
  });
});

describe('S3', () => {
  test('put and get with path-style addressing', async () => {
    const bucket = uniqueName('emu-bucket');
    const key = 'logs/task-1/output.txt';
    const seen: { hostname: string; path: string }[] = [];
    aws.s3.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { hostname?: string; path?: string };
        seen.push({ hostname: req.hostname ?? '', path: req.path ?? '' });
        return next(args);
      },
      { step: 'finalizeRequest', name: `recordRequests-${bucket}` },
    );
    try {
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      try {
        const body = `hello from ${bucket}\n`.repeat(100);
        await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain' }));
        const got = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(got.ContentType).toBe('text/plain');
        expect(await got.Body?.transformToString()).toBe(body);

        // Path-style: the bucket is in the path, never in the host name.
        const objectRequests = seen.filter((r) => r.path.includes('output.txt'));
        expect(objectRequests.length).toBeGreaterThanOrEqual(2);
        for (const r of objectRequests) {
          expect(r.path.startsWith(`/${bucket}/`)).toBe(true);
          expect(r.hostname.startsWith(`${bucket}.`)).toBe(false);
        }
      } finally {
        await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        await aws.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      }
    } finally {
      aws.s3.middlewareStack.remove(`recordRequests-${bucket}`);
    }
  });
});
