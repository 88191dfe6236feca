import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { JobfleetSettings } from '../config';
import { LogsBucket } from './logs-bucket';
import { SlotQueues } from './slot-queues';
import { StatusBus } from './status-bus';
import { TasksTable } from './tasks-table';

export interface JobfleetCoreProps {
  readonly settings: JobfleetSettings;
  /** @default from settings.removalPolicy (table and bucket) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The stateful core every process talks to: table, queues, logs bucket, status bus. Built the
 * same way by the full JobfleetStack and by the LocalStack CoreStack.
 */
export class JobfleetCore extends Construct {
  public readonly tasks: TasksTable;
  public readonly queues: SlotQueues;
  public readonly logs: LogsBucket;
  public readonly statusBus: StatusBus;
  /** The JOBFLEET_* variables every process reads (core/config/runtime.ts), as deploy-time values. */
  public readonly runtimeEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: JobfleetCoreProps) {
    super(scope, id);
    const s = props.settings;
    const removalPolicy = props.removalPolicy ?? (s.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN);
    // Status events are made from the table's stream (functions/status-events); without them, no stream.
    this.tasks = new TasksTable(this, 'Tasks', {
      removalPolicy,
      stream: s.statusEvents !== 'none',
      // On by default: a disposable ('destroy') stack could not be deleted with it.
      deletionProtection: s.tableDeletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY,
    });
    this.queues = new SlotQueues(this, 'Queues', { classes: s.fleet.classes, maxReceiveCount: s.maxReceiveCount });
    this.logs = new LogsBucket(this, 'Logs', {
      infrequentAccessAfterDays: s.logsInfrequentAccessAfterDays,
      expireAfterDays: s.logsExpireAfterDays,
      removalPolicy,
    });
    this.statusBus = new StatusBus(this, 'Status');
    this.runtimeEnvironment = {
      JOBFLEET_TABLE: this.tasks.table.tableName,
      JOBFLEET_BUCKET: this.logs.bucket.bucketName,
      JOBFLEET_QUEUES: this.queues.queueUrlsJson,
      JOBFLEET_EVENT_BUS: this.statusBus.bus.eventBusName,
      JOBFLEET_STATUS_EVENTS: s.statusEvents,
      JOBFLEET_SHARDS: String(s.shards),
      JOBFLEET_DISPATCH_WINDOW_MS: String(s.dispatchWindowMs),
      JOBFLEET_LEASE_MS: String(s.leaseMs),
      JOBFLEET_GRACE_MS: String(s.graceMs),
    };
  }

  /** Let another service schedule tasks with the SDK: table writes (no queue or bucket access). */
  public grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return this.tasks.grantEnqueue(grantee);
  }

  /** Let a service or operator read task logs (the SDK's readLog/waitForLog, `jobfleet logs`). */
  public grantLogReads(grantee: iam.IGrantable): iam.Grant {
    return this.logs.grantLogReads(grantee);
  }
}
