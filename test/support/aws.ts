/**
 * AWS clients and resource names for integration tests. The endpoint and region come from the
 * environment that test/support/global-setup.ts prepares (AWS_ENDPOINT_URL, AWS_REGION), so the
 * same tests run against the project's LocalStack, one of your own, or AWS. The clients are the
 * ones jobfleet itself builds (core/store/aws-clients.ts): S3 path-style whenever an endpoint is set.
 */
import { randomBytes } from 'node:crypto';
import { createAwsClients, type AwsClients } from '../../core/store/aws-clients';

export interface TestAwsClients extends AwsClients {
  /** Closes the clients' sockets. */
  destroy(): void;
}

export function awsClients(): TestAwsClients {
  const clients = createAwsClients({ region: process.env.AWS_REGION || 'us-east-1', endpoint: process.env.AWS_ENDPOINT_URL, maxAttempts: 8 });
  return {
    ...clients,
    destroy() {
      for (const client of [clients.doc, clients.dynamodb, clients.sqs, clients.s3, clients.events]) client.destroy();
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
