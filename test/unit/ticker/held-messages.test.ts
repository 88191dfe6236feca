import fc from 'fast-check';
import type { HeldMessage } from '../../../functions/ticker/dispatch';
import { HeldMessages } from '../../../functions/ticker/held-messages';
import { ManualClock } from '../../support/manual-clock';

const message = (taskId: string, at: number): HeldMessage => ({ at, slotClass: 'small', message: { taskId, token: `t-${taskId}` } });

/** Held messages over a manual clock, noting each send as [time, task ids]. */
function held(start = 0) {
  const clock = new ManualClock(start);
  const sends: [number, string[]][] = [];
  const messages = new HeldMessages(clock, async (ready) => void sends.push([clock.now(), ready.map((h) => h.message.taskId)]));
  return { clock, sends, messages };
}

describe('messages held for tasks claimed ahead of time', () => {
  it('sends each at its due time on a timer, with every other message due by then, and no earlier', async () => {
    const { clock, sends, messages } = held(1_000);
    messages.hold(message('b', 1_400));
    messages.hold(message('a', 1_300));
    messages.hold(message('c', 1_300));
    await clock.advanceTo(1_299);
    expect(sends).toEqual([]);
    await clock.advanceTo(1_300);
    expect(sends).toEqual([[1_300, ['a', 'c']]]);
    await clock.advanceTo(2_000);
    expect(sends).toEqual([
      [1_300, ['a', 'c']],
      [1_400, ['b']],
    ]);
    expect(messages.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('moves its timer earlier when an earlier message comes, and sends a message released by hand only once', async () => {
    const { clock, sends, messages } = held(0);
    messages.hold(message('late', 900));
    messages.hold(message('early', 200));
    await clock.advanceTo(200);
    expect(sends).toEqual([[200, ['early']]]);
    await messages.releaseDue(950);
    await clock.advanceTo(1_000);
    expect(sends).toEqual([
      [200, ['early']],
      [200, ['late']],
    ]);
    expect(clock.pending).toBe(0);
  });

  it('sends a message already due at once', async () => {
    const { clock, sends, messages } = held(500);
    messages.hold(message('overdue', 400));
    await clock.advance(0);
    expect(sends).toEqual([[500, ['overdue']]]);
  });

  it('drains before the process stops: each message at its due time, then every send settled', async () => {
    const clock = new ManualClock(0);
    const done: string[] = [];
    let finish: () => void = () => undefined;
    const slowSend = new Promise<void>((resolve) => (finish = resolve));
    const messages = new HeldMessages(clock, async (ready) => {
      await slowSend;
      done.push(...ready.map((h) => h.message.taskId));
    });
    messages.hold(message('x', 100));
    messages.hold(message('y', 300));
    let drained = false;
    const draining = messages.drain().then(() => void (drained = true));
    await clock.advanceTo(300);
    expect(drained).toBe(false);
    finish();
    await draining;
    expect(done.sort()).toEqual(['x', 'y']);
  });

  it('whatever the order of holds, hand releases and time, sends every message exactly once, never before its due time and never after the clock passed it', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('hold' as const), dueIn: fc.array(fc.integer({ min: -50, max: 500 }), { minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ kind: fc.constant('release' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        const { clock, sends, messages } = held(10_000);
        const dueAt = new Map<string, number>();
        for (const s of steps) {
          if (s.kind === 'hold') {
            const batch = s.dueIn.map((d, i) => message(`m${dueAt.size + i}`, clock.now() + d));
            for (const h of batch) dueAt.set(h.message.taskId, h.at);
            for (const h of batch) messages.hold(h);
          } else if (s.kind === 'advance') {
            await clock.advance(s.ms);
            // Everything due by now has gone out.
            const sent = new Set(sends.flatMap(([, ids]) => ids));
            for (const [id, at] of dueAt) if (at <= clock.now()) expect(sent.has(id)).toBe(true);
          } else await messages.releaseDue();
        }
        const draining = messages.drain();
        await clock.advance(1_000);
        await draining;
        const sent = sends.flatMap(([at, ids]) => ids.map((id) => [id, at] as const));
        expect(sent.map(([id]) => id).sort()).toEqual([...dueAt.keys()].sort());
        for (const [id, at] of sent) expect(at).toBeGreaterThanOrEqual(dueAt.get(id) as number);
        expect(clock.pending).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
