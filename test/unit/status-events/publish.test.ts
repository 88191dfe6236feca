import { marshall } from '@aws-sdk/util-dynamodb';
import type { EventPublisher, StatusEvent } from '../../../core/lifecycle/events';
import { newTask } from '../../../core/model/new-task';
import type { JobSnapshot, TaskRecord } from '../../../core/model/task';
import { newTaskItem } from '../../../core/store/task-item';
import { publishRecords } from '../../../functions/status-events/publish';
import type { StreamRecord } from '../../../functions/status-events/stream-record';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const JOB: JobSnapshot = { job: 'noop', slots: 1, slotClass: 'small', maxExecutionMs: 1000, maxAttempts: 1, backoff: { initialMs: 1, factor: 1, maxMs: 1 }, retentionMs: 1000, maxConcurrency: 0 };

/** Record i: task i ends (a terminal event), or, when `quiet`, a heartbeat (no event). */
function record(i: number, quiet = false): StreamRecord {
  const running: TaskRecord = { ...newTask(JOB, { args: null, dueAt: T0 }, T0), status: 'running', startedAt: T0 };
  const after: TaskRecord = quiet ? { ...running, leaseUntil: T0 + 1 } : { ...running, status: 'completed', endedAt: T0 + i };
  const img = (t: TaskRecord) => marshall(newTaskItem(t, 4), { removeUndefinedValues: true });
  return { eventName: 'MODIFY', dynamodb: { OldImage: img(running), NewImage: img(after), SequenceNumber: String(1000 + i) } };
}

/** Records each call's events; fails the calls whose index is in `failCalls`. */
function publisher(failCalls: number[] = []): EventPublisher & { calls: StatusEvent[][] } {
  const calls: StatusEvent[][] = [];
  return {
    calls,
    async publish(events) {
      calls.push([...events]);
      if (failCalls.includes(calls.length - 1)) throw new Error('EventBridge is down');
    },
  };
}

describe('publishRecords', () => {
  it('publishes the events of a batch in order, 10 per call, skipping records without one', async () => {
    const records = Array.from({ length: 25 }, (_, i) => record(i, i % 5 === 4)); // 5 quiet ones: 20 events
    const p = publisher();
    const res = await publishRecords(records, { publisher: p, mode: 'terminal', now: () => T0 });
    expect(res).toEqual({ batchItemFailures: [] });
    expect(p.calls.map((c) => c.length)).toEqual([10, 10]);
    expect(p.calls.flat().map((e) => e.at - T0)).toEqual(Array.from({ length: 25 }, (_, i) => i).filter((i) => i % 5 !== 4));
  });

  it('on a failed call, reports the record of that call\'s first event and stops: earlier calls count as done', async () => {
    const records = Array.from({ length: 25 }, (_, i) => record(i));
    const p = publisher([1]);
    const errors: string[] = [];
    const res = await publishRecords(records, { publisher: p, mode: 'terminal', now: () => T0, onError: (_e, at) => void errors.push(at) });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: '1010' }] });
    expect(errors).toEqual(['1010']);
    expect(p.calls).toHaveLength(2); // the third call is not attempted
  });

  it('a failure in the first call names the first record with an event, not a quiet one before it', async () => {
    const p = publisher([0]);
    const res = await publishRecords([record(0, true), record(1)], { publisher: p, mode: 'terminal', now: () => T0 });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: '1001' }]);
  });

  it('mode none publishes nothing', async () => {
    const p = publisher();
    expect(await publishRecords([record(0), record(1)], { publisher: p, mode: 'none', now: () => T0 })).toEqual({ batchItemFailures: [] });
    expect(p.calls).toEqual([]);
  });
});
