import { IllegalTransitionError } from '../../../core/errors';
import { assertTransition, canTransition, outcomeOfExit, sourcesOf } from '../../../core/model/state-machine';
import { TASK_STATUSES, type TaskStatus } from '../../../core/model/task';

const LEGAL: Array<[TaskStatus, TaskStatus]> = [
  ['pending', 'queued'],
  ['pending', 'cancelled'],
  ['pending', 'failed'],
  ['queued', 'running'],
  ['queued', 'pending'],
  ['queued', 'cancelled'],
  ['queued', 'failed'],
  ['running', 'completed'],
  ['running', 'failed'],
  ['running', 'cancelled'],
  ['failed', 'pending'],
];

describe('task state machine', () => {
  const all = TASK_STATUSES.flatMap((from) => TASK_STATUSES.map((to) => [from, to] as [TaskStatus, TaskStatus]));

  it.each(LEGAL)('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  const illegal = all.filter(([f, t]) => !LEGAL.some(([lf, lt]) => lf === f && lt === t));
  it.each(illegal)('forbids %s -> %s with a typed error', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError);
  });

  it('lists the 25 illegal pairs, so every pair is covered', () => {
    expect(illegal).toHaveLength(36 - LEGAL.length);
  });

  it('never leaves completed or cancelled', () => {
    for (const to of TASK_STATUSES) {
      expect(canTransition('completed', to)).toBe(false);
      expect(canTransition('cancelled', to)).toBe(false);
    }
  });

  it('knows where each status can be entered from', () => {
    expect(sourcesOf('running')).toEqual(['queued']);
    expect(sourcesOf('cancelled').sort()).toEqual(['pending', 'queued', 'running']);
  });
});

describe('outcome of a job process exit', () => {
  it('exit 0 completes, 100 cancels, anything else fails with the code', () => {
    expect(outcomeOfExit(0, null)).toEqual({ kind: 'completed' });
    expect(outcomeOfExit(100, null)).toEqual({ kind: 'cancelled' });
    expect(outcomeOfExit(1, null)).toMatchObject({ kind: 'failed', exitCode: 1, reason: 'exit-code' });
    expect(outcomeOfExit(null, 'SIGKILL')).toMatchObject({ kind: 'failed', message: expect.stringContaining('SIGKILL') });
  });
});
