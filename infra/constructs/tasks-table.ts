import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { STREAM_VIEW_TYPE, TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../core/store/table-definition';

/** What the ticker and the runners do to tasks: read, claim, start, heartbeat, finish (+ follow-ups). */
export const TABLE_WORKER_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * What a service that only schedules (and reads back or cancels) tasks needs: keyed reads and
 * conditional writes (transactions are authorised per item action), the schedules' partition
 * query, no index queries.
 */
export const TABLE_ENQUEUE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'] as const;

/**
 * The partitions scheduling touches (core/model/keys.ts): tasks, idempotency items, schedules.
 * Not the per-job concurrency counters (the ticker's and the runners'). IAM can scope DynamoDB
 * by partition key (dynamodb:LeadingKeys), not by an item's other attributes or its status, so an
 * enqueue-only service can still rewrite any task: it is trusted with tasks, not with the fleet.
 */
export const ENQUEUE_LEADING_KEYS = ['tasks#*', 'idem#*', 'schedule'] as const;

/**
 * Ending a task the SDK cancels gives back its concurrency slots (a queued task holds them), in
 * the same step as the ticker and runner would: one UpdateItem that removes the task's id from
 * its scopes' holder sets. Only that action on those partitions; counters are not created here.
 */
export const ENQUEUE_SLOT_RELEASE = { actions: ['dynamodb:UpdateItem'], leadingKeys: ['conc#*'] } as const;

export interface TasksTableProps {
  /** @default RemovalPolicy.RETAIN: deleting the stack keeps the tasks */
  readonly removalPolicy?: RemovalPolicy;
  /** @default true */
  readonly pointInTimeRecovery?: boolean;
  /** @default TableEncryption.AWS_MANAGED (the account's aws/dynamodb key: no monthly fee) */
  readonly encryption?: dynamodb.TableEncryption;
  /** The table's stream (NEW_AND_OLD_IMAGES), which status events are made from. @default false */
  readonly stream?: boolean;
  /** DynamoDB deletion protection: no DeleteTable (by hand, or by a stack update that replaces the table) until it is turned off. @default true */
  readonly deletionProtection?: boolean;
}

/**
 * The single task table: on demand, PITR, TTL, and the indexes of core/store/table-definition.ts,
 * the same definition the code and the test helpers create tables from, so they cannot drift.
 * With status events on, its stream too.
 */
export class TasksTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TasksTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      encryption: props.encryption ?? dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      deletionProtection: props.deletionProtection ?? true,
      ...(props.stream ? { stream: dynamodb.StreamViewType[STREAM_VIEW_TYPE] } : {}),
    });
    for (const index of TABLE_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        ...(index.include.length > 0
          ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }
          : { projectionType: dynamodb.ProjectionType.KEYS_ONLY }),
      });
    }
  }

  /** Ticker and runner access: read and update items, query the indexes. */
  public grantWorker(grantee: iam.IGrantable): iam.Grant {
    // Each index by name: no wildcard, so an index added later is granted deliberately.
    const indexes = TABLE_INDEXES.map((i) => `${this.table.tableArn}/index/${i.name}`);
    return iam.Grant.addToPrincipal({ grantee, actions: [...TABLE_WORKER_ACTIONS], resourceArns: [this.table.tableArn, ...indexes] });
  }

  /**
   * Another service that schedules tasks (the SDK's schedule/cancel/get, schedules): the table
   * only, no indexes, and only the partitions of ENQUEUE_LEADING_KEYS.
   */
  public grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [...TABLE_ENQUEUE_ACTIONS], resourceArns: [this.table.tableArn] });
    grant.principalStatements.forEach((s) => s.addCondition('ForAllValues:StringLike', { 'dynamodb:LeadingKeys': [...ENQUEUE_LEADING_KEYS] }));
    const release = iam.Grant.addToPrincipal({ grantee, actions: [...ENQUEUE_SLOT_RELEASE.actions], resourceArns: [this.table.tableArn] });
    release.principalStatements.forEach((s) => s.addCondition('ForAllValues:StringLike', { 'dynamodb:LeadingKeys': [...ENQUEUE_SLOT_RELEASE.leadingKeys] }));
    return grant.combine(release);
  }
}
