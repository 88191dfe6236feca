import { DeleteBatcher } from '../../../runner/delete-batcher';
import type { QueueMessage } from '../../../runner/queue';

const message = (n: number): QueueMessage => ({ id: `m${n}`, receiptHandle: `r${n}`, body: '{}', receiveCount: 1 });

/** Records each DeleteMessageBatch call the batcher would make, as lists of message ids. */
function recordingQueue(fail = false) {
  const calls: string[][] = [];
  return {
    calls,
    delete: async (batch: readonly QueueMessage[]) => {
      calls.push(batch.map((m) => m.id));
      if (fail) throw new Error('SQS is down');
    },
  };
}

describe('DeleteBatcher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('lets messages that arrive one at a time share one call within the linger time', () => {
    const queue = recordingQueue();
    const batcher = new DeleteBatcher(queue, { lingerMs: 200, onError: () => undefined });
    batcher.add([message(1)]);
    jest.advanceTimersByTime(100);
    batcher.add([message(2)]);
    expect(queue.calls).toEqual([]);
    jest.advanceTimersByTime(100);
    expect(queue.calls).toEqual([['m1', 'm2']]);
  });

  it('sends everything at once when ten are waiting, never more than ten per call', () => {
    const queue = recordingQueue();
    const batcher = new DeleteBatcher(queue, { lingerMs: 200, onError: () => undefined });
    batcher.add(Array.from({ length: 9 }, (_, i) => message(i)));
    expect(queue.calls).toEqual([]);
    batcher.add(Array.from({ length: 14 }, (_, i) => message(9 + i)));
    expect(queue.calls.map((c) => c.length)).toEqual([10, 10, 3]);
    jest.advanceTimersByTime(200);
    expect(queue.calls).toHaveLength(3);
  });

  it('drain sends what is waiting without waiting for the linger, and reports failures instead of throwing', async () => {
    const queue = recordingQueue(true);
    const failures: number[] = [];
    const batcher = new DeleteBatcher(queue, { lingerMs: 60_000, onError: (_err, count) => failures.push(count) });
    batcher.add([message(1), message(2)]);
    await batcher.drain();
    expect(queue.calls).toEqual([['m1', 'm2']]);
    expect(failures).toEqual([2]);
  });
});
