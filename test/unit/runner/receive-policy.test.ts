import { receiveDecision, type ReceiveState } from '../../../runner/receive-policy';

const state = (s: Partial<ReceiveState>): ReceiveState => ({ freeSlots: 8, capacity: 8, largestJobSlots: 1, busy: false, waitedMs: 0, lingerMs: 100, ...s });

describe('receiveDecision', () => {
  it('never asks for more messages than fit if each were the largest job, nor more than 10', () => {
    for (let capacity = 1; capacity <= 24; capacity++) {
      for (let largest = 1; largest <= capacity; largest++) {
        for (let free = 0; free <= capacity; free++) {
          for (const busy of [false, true]) {
            for (const waitedMs of [0, 50, 100]) {
              const d = receiveDecision(state({ freeSlots: free, capacity, largestJobSlots: largest, busy: busy || free < capacity, waitedMs }));
              if (d.kind === 'receive') {
                expect(d.messages * largest).toBeLessThanOrEqual(free);
                expect(d.messages).toBeGreaterThanOrEqual(1);
                expect(d.messages).toBeLessThanOrEqual(10);
              }
            }
          }
        }
      }
    }
  });

  it('asks at once, for all that fit, when the runner is idle', () => {
    expect(receiveDecision(state({ freeSlots: 8, busy: false }))).toEqual({ kind: 'receive', messages: 8 });
    expect(receiveDecision(state({ freeSlots: 16, capacity: 16, largestJobSlots: 1 }))).toEqual({ kind: 'receive', messages: 10 });
  });

  it('lets a busy runner wait a moment for more free slots, then asks for what fits', () => {
    expect(receiveDecision(state({ freeSlots: 1, busy: true }))).toEqual({ kind: 'wait', forMs: 100 });
    expect(receiveDecision(state({ freeSlots: 1, busy: true, waitedMs: 60 }))).toEqual({ kind: 'wait', forMs: 40 });
    expect(receiveDecision(state({ freeSlots: 1, busy: true, waitedMs: 100 }))).toEqual({ kind: 'receive', messages: 1 });
    // Half of the largest batch fits: no reason to wait.
    expect(receiveDecision(state({ freeSlots: 4, busy: true }))).toEqual({ kind: 'receive', messages: 4 });
  });

  it('waits for a release while not even one largest job fits', () => {
    expect(receiveDecision(state({ freeSlots: 1, capacity: 8, largestJobSlots: 2, busy: true, waitedMs: 1000 }))).toEqual({ kind: 'wait' });
  });
});
