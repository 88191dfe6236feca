import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { LineSplitter, LogCap, logLine, truncationMarker } from '../../../runner/log/cap';
import { TaskLog } from '../../../runner/log/task-log';

describe('LogCap', () => {
  it('writes whole lines while they fit, then one truncation, then drops everything', () => {
    const cap = new LogCap(100);
    expect(cap.admit(60)).toBe('write');
    expect(cap.admit(40)).toBe('write');
    expect(cap.admit(1)).toBe('truncate');
    expect(cap.admit(1)).toBe('drop');
    expect(cap.bytesWritten).toBe(100);
    expect(cap.isTruncated).toBe(true);
  });

  it('truncates at the first line that does not fit, even if a later, smaller one would', () => {
    const cap = new LogCap(100);
    expect(cap.admit(90)).toBe('write');
    expect(cap.admit(20)).toBe('truncate');
    expect(cap.admit(5)).toBe('drop');
  });

  it('has a JSON marker line', () => {
    const marker = JSON.parse(truncationMarker(1024, 1));
    expect(marker).toMatchObject({ level: 40, time: 1, truncated: true });
    expect(marker.msg).toContain('1024 bytes');
  });
});

describe('LineSplitter', () => {
  it('splits chunks into lines across chunk boundaries', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('ab\ncd'))).toEqual(['ab']);
    expect(s.push(Buffer.from('ef\n\ngh'))).toEqual(['cdef', '']);
    expect(s.flush()).toEqual(['gh']);
    expect(s.flush()).toEqual([]);
  });

  it('cuts a line that never ends into pieces of the maximum length', () => {
    const s = new LineSplitter(4);
    expect(s.push(Buffer.from('abcdefghij'))).toEqual(['abcd', 'efgh']);
    expect(s.push(Buffer.from('k\n'))).toEqual(['ijk']);
  });
});

describe('logLine', () => {
  it('keeps JSON lines and wraps anything else', () => {
    expect(logLine('{"level":30,"msg":"x"}', 'stdout', 5)).toBe('{"level":30,"msg":"x"}\n');
    expect(JSON.parse(logLine('plain text\r', 'stderr', 5))).toEqual({ level: 50, time: 5, stream: 'stderr', msg: 'plain text' });
  });
});

describe('TaskLog', () => {
  it('caps a flood from the sandbox streams at the byte limit plus one marker line', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tasklog-')), 'task.log');
    const log = new TaskLog(path, 10_000, () => 7);
    const out = new PassThrough();
    log.write({ msg: 'task started' });
    log.attach(out, 'stdout');
    for (let i = 0; i < 1000; i++) out.write(`${JSON.stringify({ level: 30, i, pad: 'p'.repeat(50) })}\n`);
    out.end();
    const summary = await log.close({ msg: 'task ended' });
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(summary.truncated).toBe(true);
    expect(lines[0]).toContain('task started');
    expect(lines[lines.length - 1]).toContain('log truncated');
    expect(lines.filter((l) => l.includes('log truncated'))).toHaveLength(1);
    expect(summary.bytes).toBeLessThanOrEqual(10_000 + truncationMarker(10_000, 7).length);
  });

  it('keeps everything below the cap, including the final line', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tasklog-')), 'task.log');
    const log = new TaskLog(path, 10_000, () => 7);
    const err = new PassThrough();
    log.attach(err, 'stderr');
    err.end('Error: boom\n    at x');
    const summary = await log.close({ msg: 'task ended' });
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(summary.truncated).toBe(false);
    expect(lines.map((l) => l.msg)).toEqual(['Error: boom', '    at x', 'task ended']);
  });
});
