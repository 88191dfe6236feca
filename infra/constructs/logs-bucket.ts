import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcard } from '../nag';

/** Task logs live under this prefix: `logs/batches/<ulid>.log` (small logs, a byte range each) and `logs/<job>/<taskId>/<attempt>.log` (large ones). */
export const LOGS_PREFIX = 'logs/';
/** Results too large for the task item: `results/<job>/<taskId>/<attempt>.json` (runner/log/upload.ts). */
export const RESULTS_PREFIX = 'results/';

export interface LogsBucketProps {
  /** Move task logs to Standard-IA after this many days (S3 minimum 30); 0 = never. @default 30 */
  readonly infrequentAccessAfterDays?: number;
  /** Delete task logs after this many days; 0 = never. @default 90 */
  readonly expireAfterDays?: number;
  /** @default RemovalPolicy.RETAIN (a non-empty bucket cannot be deleted by CloudFormation anyway) */
  readonly removalPolicy?: RemovalPolicy;
}

/** The per-task log bucket: private, SSE-S3, SSL only, with a lifecycle for the logs prefix. */
export class LogsBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LogsBucketProps = {}) {
    super(scope, id);
    const ia = props.infrequentAccessAfterDays ?? 30;
    const expire = props.expireAfterDays ?? 90;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // Versioned, so an overwritten or deleted log or result is still there (docs/deploy.md,
      // "Data protection"). Each task writes its keys once, so versioning costs nothing per task;
      // old versions exist only after an overwrite or delete, and expire after 30 days.
      versioned: true,
      lifecycleRules: [
        {
          id: 'task-logs',
          prefix: LOGS_PREFIX,
          // Large logs are uploaded in parts; a runner that dies mid-upload leaves parts behind.
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          ...(ia > 0 ? { transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(ia) }] } : {}),
          ...(expire > 0 ? { expiration: Duration.days(expire) } : {}),
        },
        { id: 'old-versions', noncurrentVersionExpiration: Duration.days(30), expiredObjectDeleteMarker: true },
      ],
    });
    acknowledge(
      this.bucket,
      'S1',
      'Only the runner roles write here (logs/ prefix) and readers are operators; server access logs would need a second bucket for little audit value. Use CloudTrail S3 data events if object-level audit is required.',
    );
  }

  /** Runners: upload task logs and large results (single PUT or multipart) under logs/ and results/ only. */
  public grantLogWrites(grantee: iam.IGrantable): iam.Grant {
    const logs = this.bucket.arnForObjects(`${LOGS_PREFIX}*`);
    const results = this.bucket.arnForObjects(`${RESULTS_PREFIX}*`);
    acknowledgeWildcard(grantee, logs, 'Task log keys are logs/<job>/<taskId>/<attempt>.log, unknown until run time; the wildcard is limited to the logs/ prefix.');
    acknowledgeWildcard(grantee, results, 'Large results are results/<job>/<taskId>/<attempt>.json, unknown until run time; limited to the results/ prefix.');
    return iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resourceArns: [logs, results] });
  }

  /** Operators and the CLI (`logs`): read task logs. */
  public grantLogReads(grantee: iam.IGrantable): iam.Grant {
    const objects = this.bucket.arnForObjects(`${LOGS_PREFIX}*`);
    acknowledgeWildcard(grantee, objects, 'Reads task logs, whose keys are unknown until run time; limited to the logs/ prefix.');
    return iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [objects] });
  }
}
