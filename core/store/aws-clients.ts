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

export interface AwsClientOptions {
  readonly region: string;
  readonly endpoint?: string;
  /** Attempts per call, the first included (the SDK's retries). @default 5 */
  readonly maxAttempts?: number;
  /** Establishing a connection. @default 3000 */
  readonly awsConnectTimeoutMs?: number;
  /** One HTTP request, from sending to the full answer. @default 10000 */
  readonly awsRequestTimeoutMs?: number;
}

export const DEFAULT_AWS_CONNECT_TIMEOUT_MS = 3_000;
export const DEFAULT_AWS_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Every client has a connection and a request timeout: without them a black-holed endpoint hangs
 * every call for ever, without a log line, and a runner could not know that it cannot prove its
 * lease (DESIGN invariant 6). A request that times out fails with a TimeoutError, which the SDK
 * retries (up to maxAttempts) and the caller then logs and retries like any other failure.
 * `throwOnRequestTimeout`: the SDK's default is only to warn when the request timeout passes.
 */
export function createAwsClients(options: AwsClientOptions): AwsClients {
  const requestHandler = {
    connectionTimeout: options.awsConnectTimeoutMs ?? DEFAULT_AWS_CONNECT_TIMEOUT_MS,
    requestTimeout: options.awsRequestTimeoutMs ?? DEFAULT_AWS_REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  };
  const base = { region: options.region, maxAttempts: options.maxAttempts ?? 5, requestHandler, ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
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

/** The request timeout for one SQS long poll: its wait, plus the ordinary request timeout. */
export function longPollRequestTimeoutMs(waitTimeSeconds: number, requestTimeoutMs: number): number {
  return waitTimeSeconds * 1000 + requestTimeoutMs;
}
