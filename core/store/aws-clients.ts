import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

/** The AWS clients a process needs, built once from config. The endpoint alone picks AWS or LocalStack. */
export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly events: EventBridgeClient;
}

export function createAwsClients(options: { region: string; endpoint?: string; maxAttempts?: number }): AwsClients {
  const base = { region: options.region, maxAttempts: options.maxAttempts ?? 5, ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
  const dynamodb = new DynamoDBClient(base);
  return {
    dynamodb,
    doc: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } }),
    sqs: new SQSClient(base),
    // LocalStack serves S3 on one host, so buckets go in the path there.
    s3: new S3Client({ ...base, forcePathStyle: Boolean(options.endpoint) }),
    events: new EventBridgeClient(base),
  };
}
