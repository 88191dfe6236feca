import { DeleteMessageBatchCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FleetConfig } from '../config/fleet';
import type { TaskRecord } from '../model/task';
import type { Services } from '../services';

/** What runs where: per slot class, slot demand and what holds slots now, queue and dead-letter depth. */
export interface ClassView {
  readonly name: string;
  readonly slotsPerRunner: number;
  readonly minRunners: number;
  readonly maxRunners: number;
  /** Slots of due (pending) tasks, read up to `maxDue` entries per shard. */
  readonly dueSlots: number;
  readonly queuedSlots: number;
  readonly runningSlots: number;
  /** due + queued + running: what the ticker scales on. */
  readonly demandSlots: number;
  readonly queueDepth?: number;
  readonly deadLetter?: { readonly url: string; readonly depth: number };
  /** Where ECS answers (a deployed stack). */
  readonly runners?: { readonly desired: number; readonly running: number };
}

/** Runner counts from ECS, by slot class; absent locally (runners are plain processes there). */
export type RunnerCounts = (slotClass: string) => Promise<{ desired: number; running: number } | undefined>;

/**
 * Reads the sched index the way the ticker does (due entries up to now, and every in-flight
 * entry), so the cost follows what is due and in flight, never the future backlog; in-flight
 * tasks are read by key (at most `maxInFlight`) to tell queued from running.
 */
export async function fleetView(services: Services, fleet: FleetConfig, options: { now: number; maxDue?: number; maxInFlight?: number; runners?: RunnerCounts }): Promise<ClassView[]> {
  const { store, config } = services;
  return Promise.all(
    fleet.classes.map(async (c) => {
      const shards = await Promise.all(Array.from({ length: config.shards }, (_, shard) => store.querySched(c.name, shard, options.now, options.maxDue ?? 500)));
      const pending = shards.flatMap((s) => s.pending);
      const inFlight = shards.flatMap((s) => s.inFlight).slice(0, options.maxInFlight ?? 500);
      const tasks = await store.getMany(inFlight.map((e) => e.id));
      const slotsOf = (status: TaskRecord['status']) => tasks.filter((t) => t.status === status).reduce((n, t) => n + (t.slots ?? 1), 0);
      const dueSlots = pending.reduce((n, e) => n + e.slots, 0);
      const queuedSlots = slotsOf('queued');
      const runningSlots = slotsOf('running');
      const queueUrl = config.queueUrls[c.name];
      const [queueDepth, deadLetter, runners] = await Promise.all([
        queueUrl ? depth(services.clients.sqs, queueUrl).catch(() => undefined) : undefined,
        queueUrl ? deadLetterOf(services.clients.sqs, queueUrl).catch(() => undefined) : undefined,
        options.runners ? options.runners(c.name).catch(() => undefined) : undefined,
      ]);
      return {
        name: c.name,
        slotsPerRunner: c.slotsPerRunner,
        minRunners: c.minRunners,
        maxRunners: c.maxRunners,
        dueSlots,
        queuedSlots,
        runningSlots,
        demandSlots: dueSlots + queuedSlots + runningSlots,
        ...(queueDepth !== undefined ? { queueDepth } : {}),
        ...(deadLetter ? { deadLetter } : {}),
        ...(runners ? { runners } : {}),
      };
    }),
  );
}

async function depth(sqs: SQSClient, url: string): Promise<number> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(res.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** A class queue's dead-letter queue, from its redrive policy (no configuration needed). */
export async function deadLetterOf(sqs: SQSClient, queueUrl: string): Promise<{ url: string; depth: number } | undefined> {
  const res = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  const policy = res.Attributes?.RedrivePolicy ? (JSON.parse(res.Attributes.RedrivePolicy) as { deadLetterTargetArn?: string }) : undefined;
  const arn = policy?.deadLetterTargetArn;
  if (!arn) return undefined;
  const [, , , , account, name] = arn.split(':');
  const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }))).QueueUrl as string;
  return { url, depth: await depth(sqs, url) };
}

export interface DeadLetterMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount?: number;
}

/** Looks at up to `max` dead letters without taking them (they become visible again at once). */
export async function peekDeadLetters(sqs: SQSClient, dlqUrl: string, max = 10): Promise<DeadLetterMessage[]> {
  const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: Math.min(10, max), VisibilityTimeout: 0, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
  return (res.Messages ?? []).map((m) => ({ messageId: m.MessageId as string, body: m.Body ?? '', receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0) || undefined }));
}

/**
 * Moves up to `max` dead letters back to their class queue: send first, then delete, so a crash
 * in between leaves a duplicate (which the runner's token check drops), never a loss.
 */
export async function redriveDeadLetters(sqs: SQSClient, dlqUrl: string, queueUrl: string, max = 100, onProgress?: (moved: number) => void): Promise<number> {
  let moved = 0;
  while (moved < max) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: Math.min(10, max - moved), VisibilityTimeout: 30, WaitTimeSeconds: 0 }));
    const messages = res.Messages ?? [];
    if (messages.length === 0) break;
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '' })) }));
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })) }));
    moved += messages.length;
    onProgress?.(moved);
  }
  return moved;
}
