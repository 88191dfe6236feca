import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { LineSplitter, LogCap, logLine, truncationMarker } from './cap';

export interface TaskLogSummary {
  readonly path: string;
  readonly bytes: number;
  readonly truncated: boolean;
}

/**
 * A task's own log file. The runner owns it: the sandbox's stdout and stderr are piped in line by
 * line (the script's pino lines, and anything else it prints), the runner adds its own lines
 * (start, progress, end), and the cap is enforced here whatever the script does. Writes are
 * asynchronous with backpressure: a flooding script is slowed by the disk, never buffered in memory.
 */
export class TaskLog {
  private readonly file: WriteStream;
  private readonly cap: LogCap;
  private readonly sources = new Set<Readable>();
  private readonly pending: Promise<void>[] = [];
  private closed?: Promise<TaskLogSummary>;
  private blocked = false;

  constructor(
    readonly path: string,
    capBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    this.cap = new LogCap(capBytes);
    this.file = createWriteStream(path, { flags: 'w' });
    this.file.on('drain', () => {
      this.blocked = false;
      for (const s of this.sources) s.resume();
    });
    this.file.on('error', () => undefined);
  }

  /** Pipes a stream of the sandbox's output into the log until it ends. */
  attach(stream: Readable, kind: 'stdout' | 'stderr'): void {
    const splitter = new LineSplitter();
    this.sources.add(stream);
    this.pending.push(
      new Promise((resolve) => {
        const end = () => {
          for (const line of splitter.flush()) this.writeRaw(line, kind);
          this.sources.delete(stream);
          resolve();
        };
        stream.on('data', (chunk: Buffer) => {
          // Past the cap, keep reading (so the script never blocks on a full pipe) but do nothing.
          if (this.cap.isTruncated) return;
          for (const line of splitter.push(chunk)) this.writeRaw(line, kind);
        });
        stream.once('end', end);
        stream.once('close', end);
        stream.once('error', end);
      }),
    );
  }

  /** A line written by the runner itself (JSON), subject to the same cap. */
  write(entry: Record<string, unknown>): void {
    this.append(`${JSON.stringify({ level: 30, time: this.now(), ...entry })}\n`);
  }

  get truncated(): boolean {
    return this.cap.isTruncated;
  }

  /** Waits for the attached streams to end, writes `last` (if any), and closes the file. */
  close(last?: Record<string, unknown>): Promise<TaskLogSummary> {
    this.closed ??= (async () => {
      await Promise.all(this.pending);
      if (last) this.write(last);
      await new Promise<void>((resolve) => this.file.end(() => resolve()));
      return { path: this.path, bytes: this.file.bytesWritten, truncated: this.cap.isTruncated };
    })();
    return this.closed;
  }

  private writeRaw(raw: string, kind: 'stdout' | 'stderr'): void {
    this.append(logLine(raw, kind, this.now()));
  }

  private append(line: string): void {
    const verdict = this.cap.admit(Buffer.byteLength(line));
    if (verdict === 'drop') return;
    const ok = this.file.write(verdict === 'write' ? line : truncationMarker(this.cap.capBytes, this.now()));
    if (!ok && !this.blocked && verdict === 'write') {
      this.blocked = true;
      for (const s of this.sources) s.pause();
    }
  }
}
