/**
 * AWS clients and resource names for integration tests. The endpoint and region come from the
 * environment that test/support/global-setup.ts prepares (AWS_ENDPOINT_URL, AWS_REGION), so the
 * same tests run against the project's LocalStack, one of your own, or AWS.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';

export interface TestAwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** Path-style addressing (http://host:port/bucket/key): no per-bucket DNS names locally. */
  readonly s3: S3Client;
  /** Closes the clients' sockets. */
  destroy(): void;
}

export function awsClients(): TestAwsClients {
  const common = {
    region: process.env.AWS_REGION || 'us-east-1',
    ...(process.env.AWS_ENDPOINT_URL ? { endpoint: process.env.AWS_ENDPOINT_URL } : {}),
    maxAttempts: 5,
  };
  const dynamodb = new DynamoDBClient(common);
  const doc = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const sqs = new SQSClient(common);
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  return {
    dynamodb,
    doc,
    sqs,
    s3,
    destroy() {
      doc.destroy();
      dynamodb.destroy();
      sqs.destroy();
      s3.destroy();
    },
  };
}

/**
 * A short name unique to this call, valid for a DynamoDB table, an SQS queue and an S3 bucket alike
 * (lowercase letters, digits and '-', at most 63 characters), so tests run in parallel on one emulator.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 't';
  const suffix = Date.now().toString(36).slice(-5) + BigInt('0x' + randomBytes(5).toString('hex')).toString(36).padStart(8, '0');
  return `${clean.slice(0, 40)}-${suffix}`;
}
