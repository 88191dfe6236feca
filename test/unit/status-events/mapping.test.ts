import { marshall } from '@aws-sdk/util-dynamodb';
import type { StatusEventMode } from '../../../core/lifecycle/events';
import { newTask } from '../../../core/model/new-task';
import type { JobSnapshot, TaskRecord } from '../../../core/model/task';
import { newTaskItem } from '../../../core/store/task-item';
import { statusEventOf, taskOf } from '../../../functions/status-events/mapping';
import type { StreamRecord } from '../../../functions/status-events/stream-record';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const NOW = T0 + 999_999;
const JOB: JobSnapshot = {
  job: 'report',
  slots: 1,
  slotClass: 'small',
  maxExecutionMs: 60_000,
  maxAttempts: 3,
  backoff: { initialMs: 1000, factor: 2, maxMs: 60_000 },
  retentionMs: 86_400_000,
  maxConcurrency: 0,
};

const pending = newTask(JOB, { args: { a: 1 }, dueAt: T0 }, T0 - 1000);
const queued: TaskRecord = { ...pending, status: 'queued', queuedAt: T0 + 10 };
const running: TaskRecord = { ...queued, status: 'running', startedAt: T0 + 20, runnerId: 'r1', leaseUntil: T0 + 30_000 };
const completed: TaskRecord = { ...running, status: 'completed', endedAt: T0 + 30, result: { ok: true } };
const failedRetry: TaskRecord = { ...running, status: 'failed', endedAt: T0 + 40, error: { reason: 'error', message: 'boom' } };
const failedFinal: TaskRecord = { ...failedRetry, attempt: 3 };
const cancelledQueued: TaskRecord = { ...queued, status: 'cancelled', endedAt: T0 + 50, error: { reason: 'cancelled', message: 'cancelled' } };

/** A stream record as Lambda delivers it: the items (with keys and `type`) as DynamoDB JSON. */
const image = (task: TaskRecord) => marshall(newTaskItem(task, 4), { removeUndefinedValues: true });
function modify(before: TaskRecord, after: TaskRecord, seq = '100'): StreamRecord {
  return { eventName: 'MODIFY', dynamodb: { OldImage: image(before), NewImage: image(after), SequenceNumber: seq, ApproximateCreationDateTime: 1_800_000_000 } };
}
const insert = (task: TaskRecord): StreamRecord => ({ eventName: 'INSERT', dynamodb: { NewImage: image(task), SequenceNumber: '1' } });

const change = (record: StreamRecord, mode: StatusEventMode) => {
  const e = statusEventOf(record, mode, NOW);
  return e && `${e.from}->${e.to}`;
};

describe('statusEventOf: stream record -> status event', () => {
  it('maps a terminal write to the event published before (deterministic id, the task\'s own end time)', () => {
    expect(statusEventOf(modify(running, completed), 'terminal', NOW)).toEqual({
      eventId: `${pending.id}:1:completed`,
      taskId: pending.id,
      job: 'report',
      from: 'running',
      to: 'completed',
      attempt: 1,
      at: T0 + 30,
    });
  });

  it('a failed attempt that will be retried is "retrying"; the last attempt is "failed"; both carry the reason', () => {
    expect(statusEventOf(modify(running, failedRetry), 'terminal', NOW)).toMatchObject({ eventId: `${pending.id}:1:retrying`, from: 'running', to: 'retrying', reason: 'error', attempt: 1 });
    expect(statusEventOf(modify({ ...running, attempt: 3 }, failedFinal), 'terminal', NOW)).toMatchObject({ eventId: `${pending.id}:3:failed`, to: 'failed', attempt: 3 });
    // A reason retrying cannot fix ends the task at once, whatever attempts remain.
    const timedOut: TaskRecord = { ...failedRetry, error: { reason: 'expired', message: 'expired' } };
    expect(change(modify(running, timedOut), 'terminal')).toBe('running->failed');
  });

  it('"from" is the real previous status, from the old image', () => {
    expect(change(modify(queued, cancelledQueued), 'terminal')).toBe('queued->cancelled');
    const cancelledPending: TaskRecord = { ...pending, status: 'cancelled', endedAt: T0 + 1 };
    expect(change(modify(pending, cancelledPending), 'terminal')).toBe('pending->cancelled');
  });

  it('a task created already ended (dependency failed) comes as an INSERT: pending -> failed', () => {
    const depFailed: TaskRecord = { ...pending, status: 'failed', endedAt: T0, error: { reason: 'dependency-failed', message: 'x' } };
    expect(statusEventOf(insert(depFailed), 'terminal', NOW)).toMatchObject({ from: 'pending', to: 'failed', reason: 'dependency-failed', at: T0 });
  });

  it.each<[string, StreamRecord, string | undefined, string | undefined]>([
    // [what, record, mode terminal, mode all]
    ['creation (INSERT pending)', insert(pending), undefined, undefined],
    ['claim', modify(pending, queued), undefined, 'pending->queued'],
    ['start', modify(queued, running), undefined, 'queued->running'],
    ['put back by the reaper', modify(queued, { ...pending, dueAt: T0 + 5000 }), undefined, 'queued->pending'],
    ['retry: the next attempt (announced as retrying)', modify(failedRetry, { ...pending, attempt: 2 }), undefined, undefined],
    ['heartbeat (no status change)', modify(running, { ...running, leaseUntil: T0 + 60_000, progress: { percent: 50, at: T0 + 25 } }), undefined, undefined],
    ['follow-up done mark (no status change)', modify(completed, { ...completed, effectsDone: true }), undefined, undefined],
    ['release of a held task (no status change)', modify({ ...pending, held: true }, pending), undefined, undefined],
    ['completion', modify(running, completed), 'running->completed', 'running->completed'],
    ['retried failure', modify(running, failedRetry), 'running->retrying', 'running->retrying'],
    ['cancel while queued', modify(queued, cancelledQueued), 'queued->cancelled', 'queued->cancelled'],
  ])('%s: terminal %s, all %s', (_what, record, terminal, all) => {
    expect(change(record, 'terminal')).toBe(terminal);
    expect(change(record, 'all')).toBe(all);
    expect(statusEventOf(record, 'none', NOW)).toBeUndefined();
  });

  it('in mode all, in-flight events carry their own ids and times', () => {
    expect(statusEventOf(modify(pending, queued), 'all', NOW)).toMatchObject({ eventId: `${pending.id}:1:queued`, at: T0 + 10 });
    expect(statusEventOf(modify(queued, running), 'all', NOW)).toMatchObject({ eventId: `${pending.id}:1:running`, at: T0 + 20 });
  });

  it('ignores items that are not tasks, by their type attribute, whatever their key looks like', () => {
    const schedule = { pk: 'schedule', sk: 'nightly', type: 'schedule', status: 'completed', id: 'nightly' };
    expect(statusEventOf({ eventName: 'INSERT', dynamodb: { NewImage: marshall(schedule), SequenceNumber: '1' } }, 'all', NOW)).toBeUndefined();
    // A task under a key format this code has never seen is still a task.
    const rekeyed = { ...newTaskItem(completed, 4), pk: `t#v2#${completed.id}`, sk: 'x' };
    const oldRekeyed = { ...newTaskItem(running, 4), pk: `t#v2#${completed.id}`, sk: 'x' };
    expect(change({ eventName: 'MODIFY', dynamodb: { OldImage: marshall(oldRekeyed), NewImage: marshall(rekeyed), SequenceNumber: '2' } }, 'terminal')).toBe('running->completed');
    // And an item keyed like a task but without type 'task' is not.
    const { type: _type, ...untyped } = newTaskItem(completed, 4);
    expect(statusEventOf({ eventName: 'MODIFY', dynamodb: { OldImage: image(running), NewImage: marshall(untyped), SequenceNumber: '3' } }, 'all', NOW)).toBeUndefined();
    expect(taskOf(undefined)).toBeUndefined();
  });

  it('ignores REMOVE (TTL expiry), and falls back to the record\'s time, then now, when the item has none', () => {
    expect(statusEventOf({ eventName: 'REMOVE', dynamodb: { OldImage: image(completed), SequenceNumber: '9' } }, 'all', NOW)).toBeUndefined();
    const { endedAt: _e, ...noEnd } = completed;
    expect(statusEventOf(modify(running, noEnd as TaskRecord), 'terminal', NOW)?.at).toBe(1_800_000_000_000);
    expect(statusEventOf({ eventName: 'MODIFY', dynamodb: { OldImage: image(running), NewImage: image(noEnd as TaskRecord), SequenceNumber: '1' } }, 'terminal', NOW)?.at).toBe(NOW);
  });
});

describe('taskOf', () => {
  it('reads only what an event needs: user data in args and result is never parsed', () => {
    // LocalStack's stream delivers an empty map as a value with no member ({} for {"M":{}}),
    // which a full unmarshall rejects; AWS would not, but args and results are the user's anyway.
    const img = { ...image({ ...completed, args: { big: 'x'.repeat(1000) } }), args: {} as never, result: {} as never };
    expect(taskOf(img)).toEqual({ id: pending.id, job: 'report', status: 'completed', attempt: 1, maxAttempts: 3, ...(completed.createdAt !== undefined ? { createdAt: completed.createdAt } : {}), dueAt: T0, queuedAt: T0 + 10, startedAt: T0 + 20, endedAt: T0 + 30 });
  });

  it('rejects a task item without the fields an event needs', () => {
    const { status: _s, ...noStatus } = image(completed);
    expect(taskOf(noStatus)).toBeUndefined();
    expect(taskOf({ ...image(completed), status: { S: 'exploded' } })).toBeUndefined();
  });
});
