import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../../core/clock';
import { LogBatcher, type LogObjectSink } from '../../../runner/log/batcher';

/** A clock whose timers fire only when the test says so. */
function manualClock() {
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  let now = 0;
  const clock: Pick<Clock, 'setTimer'> = {
    setTimer(ms, fn) {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return { cancel: () => void (t.live = false) };
    },
  };
  return {
    clock,
    advance(ms: number) {
      now += ms;
      for (const t of timers) {
        if (!t.live || t.at > now) continue;
        t.live = false;
        t.fn();
      }
    },
  };
}

/** Records what would reach S3. */
function recordingSink(fail = false) {
  const objects = new Map<string, Buffer>();
  const sink: LogObjectSink = {
    async putBytes(key, body) {
      if (fail) throw new Error('S3 is down');
      objects.set(key, Buffer.from(body));
    },
    async upload(key, path) {
      if (fail) throw new Error('S3 is down');
      const { readFileSync } = await import('node:fs');
      const body = readFileSync(path);
      objects.set(key, body);
      return { bytes: body.length };
    },
  };
  return { sink, objects };
}

describe('LogBatcher', () => {
  let dir: string;
  let n = 0;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'log-batcher-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const logFile = (text: string) => {
    const path = join(dir, `task-${n++}.log`);
    writeFileSync(path, text);
    return { path, bytes: Buffer.byteLength(text), truncated: false };
  };
  const owner = (id: string) => ({ job: 'noop', id, attempt: 1 });
  const options = (clock: Pick<Clock, 'setTimer'>, lost: unknown[] = []) => ({
    maxDelayMs: 2000,
    maxBatchBytes: 100,
    ownObjectBytes: 40,
    spoolDir: join(dir, 'spool'),
    clock,
    onLost: (err: unknown) => void lost.push(err),
    newBatchId: () => `b${n++}`,
  });

  it('gives the logs of one flush disjoint ranges of one object, sent once the delay passes', async () => {
    const time = manualClock();
    const s3 = recordingSink();
    const batcher = new LogBatcher(s3.sink, options(time.clock));
    const a = await batcher.add(owner('a'), logFile('aaaa\n'));
    const b = await batcher.add(owner('b'), logFile('bbbbbbb\n'));
    expect(a.key).toBe(b.key);
    expect(a.range).toEqual({ offset: 0, length: 5 });
    expect(b.range).toEqual({ offset: 5, length: 8 });
    expect(s3.objects.size).toBe(0);
    time.advance(2000);
    await batcher.drain();
    const body = s3.objects.get(a.key) as Buffer;
    expect(body.subarray(b.range!.offset, b.range!.offset + b.range!.length).toString()).toBe('bbbbbbb\n');
  });

  it('sends a batch as soon as the next log would take it past its size bound, and starts a new one', async () => {
    const time = manualClock();
    const s3 = recordingSink();
    const batcher = new LogBatcher(s3.sink, options(time.clock));
    const first = await Promise.all([1, 2, 3].map((i) => batcher.add(owner(`t${i}`), logFile('x'.repeat(30)))));
    const fourth = await batcher.add(owner('t4'), logFile('y'.repeat(30)));
    expect(new Set(first.map((l) => l.key)).size).toBe(1);
    expect(fourth.key).not.toBe(first[0]?.key);
    expect(fourth.range).toEqual({ offset: 0, length: 30 });
    await Promise.resolve();
    expect([...s3.objects.keys()]).toEqual([first[0]?.key]);
    await batcher.drain();
    expect(s3.objects.size).toBe(2);
  });

  it('keeps a large log in an object of its own, uploaded from the spool after its file is handed over', async () => {
    const time = manualClock();
    const s3 = recordingSink();
    const batcher = new LogBatcher(s3.sink, options(time.clock));
    const small = await batcher.add(owner('s'), logFile('small\n'));
    const large = await batcher.add(owner('big'), logFile('L'.repeat(45)));
    expect(large).toEqual({ key: 'logs/noop/big/1.log' });
    await batcher.drain();
    expect(s3.objects.get('logs/noop/big/1.log')?.toString()).toBe('L'.repeat(45));
    expect(s3.objects.get(small.key)?.toString()).toBe('small\n');
  });

  it('reports the logs of a batch S3 refused as lost, with the number of tasks', async () => {
    const time = manualClock();
    const lost: unknown[] = [];
    const batcher = new LogBatcher(recordingSink(true).sink, options(time.clock, lost));
    await batcher.add(owner('a'), logFile('a\n'));
    await batcher.add(owner('b'), logFile('b\n'));
    await batcher.drain();
    expect(lost).toHaveLength(1);
  });

  it('refuses a size bound that a log below the own-object threshold could not fit', () => {
    expect(() => new LogBatcher(recordingSink().sink, { ...options(manualClock().clock), maxBatchBytes: 10 })).toThrow(/maxBatchBytes/);
  });
});
