/**
 * The size cap of a task's log, as pure accounting: whole lines are written while they fit;
 * the first line that does not fit is replaced by one truncation marker; after that, nothing.
 */
export type LineVerdict = 'write' | 'truncate' | 'drop';

export const DEFAULT_LOG_CAP_BYTES = 10 * 1024 * 1024;

export class LogCap {
  private written = 0;
  private truncated = false;

  constructor(readonly capBytes: number) {
    if (!Number.isInteger(capBytes) || capBytes < 1) throw new RangeError(`log cap must be a positive integer of bytes, got ${capBytes}`);
  }

  /** What to do with the next line of `bytes` (including its newline). */
  admit(bytes: number): LineVerdict {
    if (this.truncated) return 'drop';
    if (this.written + bytes <= this.capBytes) {
      this.written += bytes;
      return 'write';
    }
    this.truncated = true;
    return 'truncate';
  }

  get bytesWritten(): number {
    return this.written;
  }

  get isTruncated(): boolean {
    return this.truncated;
  }
}

/** The one line written in place of everything past the cap. */
export function truncationMarker(capBytes: number, at: number): string {
  return `${JSON.stringify({ level: 40, time: at, msg: `log truncated: this task's log reached its cap of ${capBytes} bytes; further output was dropped`, truncated: true })}\n`;
}

/**
 * Splits a byte stream into lines. A line longer than `maxLineBytes` is cut into pieces, so a
 * script writing gigabytes without a newline cannot grow the buffer.
 */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly maxLineBytes = 64 * 1024) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      this.append(chunk.subarray(start, nl), lines);
      lines.push(this.take());
      start = nl + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start), lines);
    return lines;
  }

  /** What is left without a final newline. */
  flush(): string[] {
    return this.partialBytes > 0 ? [this.take()] : [];
  }

  private append(piece: Buffer, lines: string[]): void {
    let rest = piece;
    while (this.partialBytes + rest.length > this.maxLineBytes) {
      const room = this.maxLineBytes - this.partialBytes;
      this.partial.push(rest.subarray(0, room));
      this.partialBytes += room;
      lines.push(this.take());
      rest = rest.subarray(room);
    }
    if (rest.length > 0) {
      this.partial.push(rest);
      this.partialBytes += rest.length;
    }
  }

  private take(): string {
    const line = Buffer.concat(this.partial, this.partialBytes).toString('utf8');
    this.partial = [];
    this.partialBytes = 0;
    return line;
  }
}

/**
 * A line of a task's output as it goes into the log file: the script's pino lines as they are,
 * anything else (console.log, a stack trace on stderr) wrapped into a pino-shaped JSON line.
 */
export function logLine(raw: string, stream: 'stdout' | 'stderr', at: number): string {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.startsWith('{') && line.endsWith('}')) return `${line}\n`;
  return `${JSON.stringify({ level: stream === 'stderr' ? 50 : 30, time: at, stream, msg: line })}\n`;
}
