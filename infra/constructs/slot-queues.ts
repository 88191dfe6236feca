import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { SlotClass } from '../../core/config/fleet';

export interface SlotQueuesProps {
  /** One queue (and one dead-letter queue) per class. */
  readonly classes: readonly SlotClass[];
  /** Receives before a message moves to the dead-letter queue (poison messages only). @default 5 */
  readonly maxReceiveCount?: number;
  /** A runner deletes the message right after its start write, so this only covers that gap. @default 60 seconds */
  readonly visibilityTimeout?: Duration;
  /** @default 4 days: the reaper re-sends a dispatch that no runner started long before that */
  readonly retentionPeriod?: Duration;
  /** @default RemovalPolicy.DESTROY: a queue holds only task ids, the table holds the tasks */
  readonly removalPolicy?: RemovalPolicy;
}

/** The dispatch queues: one per slot class, each with a dead-letter queue, SSE and an SSL-only policy. */
export class SlotQueues extends Construct {
  /** Slot class name -> dispatch queue. */
  public readonly queues: ReadonlyMap<string, sqs.Queue>;
  /** Slot class name -> dead-letter queue. */
  public readonly deadLetterQueues: ReadonlyMap<string, sqs.Queue>;

  constructor(scope: Construct, id: string, props: SlotQueuesProps) {
    super(scope, id);
    const queues = new Map<string, sqs.Queue>();
    const dlqs = new Map<string, sqs.Queue>();
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    for (const slotClass of props.classes) {
      const dlq = new sqs.Queue(this, `${slotClass.name}-dlq`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy,
      });
      const queue = new sqs.Queue(this, slotClass.name, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(60),
        retentionPeriod: props.retentionPeriod ?? Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount: props.maxReceiveCount ?? 5 },
        removalPolicy,
      });
      queues.set(slotClass.name, queue);
      dlqs.set(slotClass.name, dlq);
    }
    this.queues = queues;
    this.deadLetterQueues = dlqs;
  }

  /** The dispatch queue of a class; throws for an unknown class. */
  public queue(slotClass: string): sqs.Queue {
    const queue = this.queues.get(slotClass);
    if (!queue) throw new Error(`no queue for slot class "${slotClass}" (classes: ${[...this.queues.keys()].join(', ')})`);
    return queue;
  }

  /** JOBFLEET_QUEUES: a JSON object of slot class -> queue URL, resolved at deploy time. */
  public get queueUrlsJson(): string {
    return Stack.of(this).toJsonString(Object.fromEntries([...this.queues].map(([name, q]) => [name, q.queueUrl])));
  }

  /** The ticker: send dispatches to every class queue, and read its depth (the reaper's cold-start hold). */
  public grantDispatch(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
      resourceArns: [...this.queues.values()].map((q) => q.queueArn),
    });
  }

  /** A runner of one class: receive, delete and change visibility on that class's queue only. */
  public grantConsume(grantee: iam.IGrantable, slotClass: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      resourceArns: [this.queue(slotClass).queueArn],
    });
  }
}
