import type { TaskRecord } from '../../../core/model/task';
import { entryProblems, recordProblems, type Route } from '../../../functions/ticker/validate';
import { dueEntry } from './entries';

const routes = new Map<string, Route>([
  ['small', { queueUrl: 'http://q/small', slotsPerRunner: 4 }],
  ['orphan', { queueUrl: 'http://q/orphan' }],
  ['noqueue', { slotsPerRunner: 4 }],
]);

describe('index entry checks', () => {
  it('accepts a well-formed entry', () => {
    expect(entryProblems(dueEntry('a', 1000), routes)).toEqual([]);
  });

  it('names each problem of a malformed entry', () => {
    expect(entryProblems(dueEntry('a', 1000, 100, { slotClass: 'gpu' }), routes)).toEqual(['slotClass: "gpu" has no queue (classes with a queue: small, orphan)']);
    expect(entryProblems(dueEntry('a', 1000, 100, { slotClass: 'noqueue' }), routes)[0]).toMatch(/"noqueue" has no queue/);
    expect(entryProblems(dueEntry('a', 1000, 100, { slotClass: 'orphan' }), routes)).toEqual(['slotClass: "orphan" is not in the fleet configuration']);
    expect(entryProblems(dueEntry('a', 1000, 100, { slots: 8 }), routes)).toEqual(['slots: 8 exceed the 4 slots a "small" runner offers, so no runner could take it']);
    const broken = entryProblems({ ...dueEntry('a', 1000), job: 'undefined', token: 'undefined', slots: Number.NaN, slotClass: 'undefined', at: Number.NaN, sk: 'garbage' }, routes);
    expect(broken).toEqual(expect.arrayContaining(['job: missing', 'token: missing', 'slots: null is not a positive integer', 'slotClass: missing']));
    expect(broken.some((p) => p.startsWith('due time'))).toBe(true);
  });
});

describe('task record checks', () => {
  const good: TaskRecord = {
    id: 't1', job: 'email', slots: 1, slotClass: 'small', maxExecutionMs: 1000, maxAttempts: 3, backoff: { initialMs: 1000, factor: 2, maxMs: 10_000 },
    retentionMs: 1000, maxConcurrency: 0, args: null, status: 'pending', dueAt: 1, priority: 100, attempt: 1, token: 'x', createdAt: 1,
  };

  it('accepts a complete record and names the fields of a broken one', () => {
    expect(recordProblems(good)).toEqual([]);
    const broken = { ...good, status: 'banana', token: undefined, maxAttempts: 'three' } as unknown as TaskRecord;
    const problems = recordProblems(broken);
    expect(problems.map((p) => p.split(':')[0])).toEqual(['status', 'token', 'maxAttempts']);
  });
});
