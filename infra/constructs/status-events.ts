import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ITEM_TYPE_ATTRIBUTE, TASK_ITEM_TYPE } from '../../core/store/table-definition';
import { acknowledge, acknowledgeWildcard } from '../nag';
import { bundledFunction } from './bundled-function';
import type { JobfleetCore } from './jobfleet-core';

export interface StatusEventsProps {
  /** Its table must have a stream (JobfleetCore turns it on unless statusEvents is 'none'). */
  readonly core: JobfleetCore;
  /** JOBFLEET_STATUS_EVENTS: 'terminal' (endings and retries) or 'all' (also claims, starts, put-backs). */
  readonly mode: 'terminal' | 'all';
  /** Records per invocation at most. @default 1000 (large batches keep the aggregates near 0.005 write units per task per job) */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking (latency vs invocations and aggregate writes). @default 2 seconds */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failing batch (halved each time by bisect-on-error) before it goes to the dead-letter queue. @default 10 */
  readonly retryAttempts?: number;
  /** A record older than this goes to the dead-letter queue instead of being retried (the stream keeps 24 h). @default 6 hours */
  readonly maxRecordAge?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default functions/status-events/handler.ts (export `handler`) */
  readonly entry?: string;
}

/**
 * Task status events from the table's stream (change data capture): a Lambda reads the stream's
 * task items only (an event filter on their `type`), maps each status change to an event and
 * puts it on the status bus. Partial batch responses retry a batch from its first unpublished
 * record; bisect-on-error isolates a record that fails the function; after bounded retries a
 * batch's stream coordinates go to a dead-letter queue (an alarm watches it; see Monitoring).
 * Bundled locally with esbuild (no Docker).
 */
export class StatusEvents extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** Where batches that kept failing are recorded (shard and sequence numbers, not the records). */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: StatusEventsProps) {
    super(scope, id);
    const { core } = props;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.deadLetterQueue, 'SQS3', 'This queue is itself the on-failure destination of the stream event source (it records failed batches); it needs no dead-letter queue of its own.');

    const bundled = bundledFunction(this, 'Function', {
      entry: props.entry ?? 'functions/status-events/handler.ts',
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      memorySize: props.memorySize ?? 256,
      timeout: Duration.seconds(30),
      environment: { JOBFLEET_EVENT_BUS: core.statusBus.bus.eventBusName, JOBFLEET_STATUS_EVENTS: props.mode, JOBFLEET_TABLE: core.tasks.table.tableName },
    });
    this.function = bundled.fn;
    this.role = bundled.role;
    this.logGroup = bundled.logGroup;
    core.statusBus.grantPublish(this.role);
    // The console's aggregates: one UpdateItem of ADDs per (job, 5-minute bucket) per batch (core/ops/aggregates.ts).
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [core.tasks.table.tableArn] }));

    this.function.addEventSource(
      new DynamoEventSource(core.tasks.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? 1000,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(2),
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: props.retryAttempts ?? 10,
        maxRecordAge: props.maxRecordAge ?? Duration.hours(6),
        onFailure: new SqsDlq(this.deadLetterQueue),
        // Task items only, selected by their type (not by key format), and only inserts and updates.
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: { NewImage: { [ITEM_TYPE_ATTRIBUTE]: { S: lambda.FilterRule.isEqual(TASK_ITEM_TYPE) } } },
          }),
        ],
      }),
    );
    // The event source mapping reads the stream as this role; ListStreams has no resource to scope to.
    acknowledgeWildcard(this.role, '*', 'dynamodb:ListStreams (added by CDK for the stream event source) cannot be scoped to a resource; the stream reads are on this table\'s stream only.');
  }
}
