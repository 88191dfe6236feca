import { LOG_UPLOAD_DEADLINE_MS, logLocationOf, missingLogVerdict, rangeHeader } from '../../../core/logs/log-location';

describe('log location', () => {
  it('reads a batch slice with an inclusive HTTP range', () => {
    expect(rangeHeader({ offset: 0, length: 1 })).toBe('bytes=0-0');
    expect(rangeHeader({ offset: 1200, length: 800 })).toBe('bytes=1200-1999');
    expect(() => rangeHeader({ offset: 0, length: 0 })).toThrow(RangeError);
  });

  it('takes the whole object when the task records no range', () => {
    expect(logLocationOf({ logS3Key: 'logs/a/b/1.log' })).toEqual({ key: 'logs/a/b/1.log' });
    expect(logLocationOf({ logS3Key: 'logs/batches/X.log', logRange: { offset: 5, length: 9 } })).toEqual({ key: 'logs/batches/X.log', range: { offset: 5, length: 9 } });
    expect(logLocationOf({})).toBeUndefined();
  });

  it('calls a missing object pending within the upload deadline and lost after it', () => {
    const task = { endedAt: 10_000, runnerId: 'r1', logS3Key: 'logs/batches/X.log' };
    expect(missingLogVerdict(task, 10_000 + LOG_UPLOAD_DEADLINE_MS)).toEqual({ state: 'pending', until: 10_000 + LOG_UPLOAD_DEADLINE_MS });
    const lost = missingLogVerdict(task, 10_001 + LOG_UPLOAD_DEADLINE_MS);
    expect(lost.state).toBe('lost');
    expect(lost.state === 'lost' && lost.message).toContain('runner r1');
  });
});
