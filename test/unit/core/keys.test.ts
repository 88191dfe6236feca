import { TASK_SHARDS, idOfSk, newTaskId, occurrenceId, parseTaskId, schedSk, shardOf, taskKey, timeOfSk, timeUpperBound } from '../../../core/model/keys';
import { backoffDelay } from '../../../core/model/backoff';

describe('occurrence ids', () => {
  it('are derived from (schedule, due time) alone, so a retried write targets the same item', () => {
    expect(occurrenceId('nightly', 1_700_000_000_000, 'report')).toBe(occurrenceId('nightly', 1_700_000_000_000, 'report'));
  });

  it('differ for another due time or another schedule', () => {
    const a = occurrenceId('nightly', 1_700_000_000_000, 'report');
    expect(occurrenceId('nightly', 1_700_000_060_000, 'report')).not.toBe(a);
    expect(occurrenceId('hourly', 1_700_000_000_000, 'report')).not.toBe(a);
  });

  it('sort by due time like task ids sort by creation time', () => {
    expect(occurrenceId('s', 1_000, 'report') < occurrenceId('s', 2_000, 'report')).toBe(true);
  });
});

describe('task ids', () => {
  it('are unique and sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newTaskId('report', 1_700_000_000_000));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });

  it('sort by creation time across jobs, and carry their job', () => {
    const early = newTaskId('zeta', 1_000);
    const late = newTaskId('alpha', 2_000);
    expect(early < late).toBe(true);
    expect(parseTaskId(late)).toEqual({ stem: late.slice(0, 26), job: 'alpha' });
    expect(parseTaskId(occurrenceId('nightly', 1_000, 'send-digest'))?.job).toBe('send-digest');
  });

  it('give the item key: the job over a fixed number of shards, so a job is listed from the table itself', () => {
    const ids = Array.from({ length: 400 }, (_, i) => newTaskId('email', i));
    const partitions = new Set(ids.map((id) => taskKey(id).pk));
    expect(partitions.size).toBe(TASK_SHARDS);
    for (const pk of partitions) expect(pk).toMatch(/^tasks#email#\d+$/);
    expect(taskKey(ids[0] as string).sk).toBe(ids[0]);
  });

  it('name no stored task when they are not task ids', () => {
    for (const bad of ['', 'no-dot', '.email', '01ABC.Email', '01ABC.email#1', '01ABC.']) {
      expect(parseTaskId(bad)).toBeUndefined();
      expect(taskKey(bad).pk).toBe('tasks#');
    }
  });
});

describe('due sort keys', () => {
  it('order by due time first, then higher priority first', () => {
    const keys = [schedSk(2000, 100, 'a'), schedSk(1000, 1, 'b'), schedSk(1000, 900, 'c')].sort();
    expect(keys.map(idOfSk)).toEqual(['c', 'b', 'a']);
  });

  it('round-trip the time and id, and bound a range inclusively', () => {
    const sk = schedSk(1_700_000_000_123, 5, '01ABC');
    expect(timeOfSk(sk)).toBe(1_700_000_000_123);
    expect(idOfSk(sk)).toBe('01ABC');
    expect(sk <= timeUpperBound(1_700_000_000_123)).toBe(true);
    expect(sk <= timeUpperBound(1_700_000_000_122)).toBe(false);
  });
});

describe('shards', () => {
  it('are stable per id and spread ids evenly', () => {
    expect(shardOf('task-1', 8)).toBe(shardOf('task-1', 8));
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardOf(newTaskId('report', i), 8)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});

describe('backoff', () => {
  const backoff = { initialMs: 1000, factor: 2, maxMs: 5000 };
  it('grows exponentially from the first retry and stops at the cap', () => {
    expect([2, 3, 4, 5, 6].map((a) => backoffDelay(backoff, a))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});
