import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { TaskRecord, TaskStatus } from '../model/task';

/** A task's status change, as published to the status bus. */
export interface StatusEvent {
  /** Deterministic, so a consumer can drop the rare duplicate after a crash. */
  readonly eventId: string;
  readonly taskId: string;
  readonly job: string;
  readonly from: TaskStatus;
  readonly to: TaskStatus | 'retrying';
  readonly reason?: string;
  readonly attempt: number;
  readonly at: number;
}

export interface EventPublisher {
  publish(events: readonly StatusEvent[]): Promise<void>;
}

export type StatusEventMode = 'none' | 'terminal' | 'all';

export function statusEvent(task: Pick<TaskRecord, 'id' | 'job' | 'attempt' | 'error'>, from: TaskStatus, to: StatusEvent['to'], at: number): StatusEvent {
  return {
    eventId: `${task.id}:${task.attempt}:${to}`,
    taskId: task.id,
    job: task.job,
    from,
    to,
    reason: task.error?.reason,
    attempt: task.attempt,
    at,
  };
}

export const EVENT_SOURCE = 'jobfleet';
export const EVENT_DETAIL_TYPE = 'Task Status Changed';

/** Publishes to an EventBridge bus, 10 entries per call (the API's limit). */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly StatusEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      const res = await this.client.send(
        new PutEventsCommand({
          Entries: events.slice(i, i + 10).map((e) => ({ EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE, Detail: JSON.stringify(e) })),
        }),
      );
      if (res.FailedEntryCount) throw new Error(`EventBridge rejected ${res.FailedEntryCount} status event(s): ${res.Entries?.find((e) => e.ErrorMessage)?.ErrorMessage}`);
    }
  }
}
