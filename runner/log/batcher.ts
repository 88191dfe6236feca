import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ulid } from 'ulid';
import type { Clock, Timer } from '../../core/clock';
import { batchLogKey, ownLogKey, type LogLocation } from '../../core/logs/log-location';
import type { TaskLogSummary } from './task-log';

/** Where the batcher puts objects. S3 is the adapter (log/upload.ts); tests may wrap it. */
export interface LogObjectSink {
  /** One PutObject of bytes held in memory. */
  putBytes(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** A file, streamed: one PutObject below 5 MiB, multipart above. */
  upload(key: string, path: string, contentType: string): Promise<{ bytes: number }>;
}

export interface LogBatcherOptions {
  /** A batch is sent at most this long after its first log joined it. */
  readonly maxDelayMs: number;
  /** A batch is sent once it holds this many bytes (below S3's 5 MiB multipart threshold: one PUT). */
  readonly maxBatchBytes: number;
  /** Logs of this size or more keep an object of their own. */
  readonly ownObjectBytes: number;
  /** Where large logs wait for their upload once their task's directory is gone. */
  readonly spoolDir: string;
  readonly clock: Pick<Clock, 'setTimer'>;
  /** An upload that failed for good: those tasks' logs are lost (readers say so after the deadline). */
  readonly onLost: (err: unknown, lost: { readonly key: string; readonly tasks: number }) => void;
  /** @default a ULID */
  readonly newBatchId?: () => string;
}

export interface LogOwner {
  readonly job: string;
  readonly id: string;
  readonly attempt: number;
}

interface OpenBatch {
  readonly key: string;
  readonly parts: Buffer[];
  bytes: number;
  timer?: Timer;
}

const CONTENT_TYPE = 'application/x-ndjson';

/**
 * Packs the logs of tasks that end close together into one S3 object per flush, each log a byte
 * range of it, so a busy runner pays a fraction of a PUT per task and an idle one one PUT per task.
 * `add` returns the log's location at once: the terminal write records it and never waits for the
 * upload. A batch is sent when it is full or its oldest log has waited `maxDelayMs`; `drain` sends
 * what is left (the runner's stop). A runner that dies first loses that batch: its tasks' readers
 * find no object and, past the upload deadline, say the log was lost.
 */
export class LogBatcher {
  private open?: OpenBatch;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly newBatchId: () => string;

  constructor(
    private readonly sink: LogObjectSink,
    private readonly options: LogBatcherOptions,
  ) {
    if (options.maxBatchBytes < options.ownObjectBytes) throw new RangeError(`maxBatchBytes (${options.maxBatchBytes}) must hold at least one log below ownObjectBytes (${options.ownObjectBytes})`);
    this.newBatchId = options.newBatchId ?? (() => ulid());
  }

  /**
   * Takes a closed task log. A small one is read into the open batch (its file may be removed
   * as soon as this resolves); a large one is moved into the spool and uploaded on its own.
   */
  async add(owner: LogOwner, log: TaskLogSummary): Promise<LogLocation> {
    if (log.bytes >= this.options.ownObjectBytes) return this.addLarge(owner, log);
    const body = await readFile(log.path);
    return this.append(body);
  }

  /** Bytes waiting in the open batch. */
  get pendingBytes(): number {
    return this.open?.bytes ?? 0;
  }

  /** Sends the open batch now (if any); resolves when every upload started so far has settled. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Appends bytes already in memory; synchronous, so concurrent tasks get disjoint ranges. */
  private append(body: Buffer): LogLocation {
    if (body.length === 0) throw new RangeError('an empty log has no range');
    if (this.open && this.open.bytes + body.length > this.options.maxBatchBytes) this.flush();
    const batch = (this.open ??= { key: batchLogKey(this.newBatchId()), parts: [], bytes: 0 });
    const location: LogLocation = { key: batch.key, range: { offset: batch.bytes, length: body.length } };
    batch.parts.push(body);
    batch.bytes += body.length;
    if (batch.bytes >= this.options.maxBatchBytes) this.flush();
    else batch.timer ??= this.options.clock.setTimer(this.options.maxDelayMs, () => this.flush());
    return location;
  }

  private async addLarge(owner: LogOwner, log: TaskLogSummary): Promise<LogLocation> {
    const key = ownLogKey(owner.job, owner.id, owner.attempt);
    const spooled = join(this.options.spoolDir, `${owner.id}-${owner.attempt}.log`);
    await mkdir(this.options.spoolDir, { recursive: true });
    await rename(log.path, spooled);
    this.track(
      this.sink
        .upload(key, spooled, CONTENT_TYPE)
        .then(() => undefined)
        .catch((err) => this.options.onLost(err, { key, tasks: 1 }))
        .finally(() => rm(spooled, { force: true }).catch(() => undefined)),
    );
    return { key };
  }

  private flush(): void {
    const batch = this.open;
    if (!batch) return;
    this.open = undefined;
    batch.timer?.cancel();
    const body = Buffer.concat(batch.parts, batch.bytes);
    const tasks = batch.parts.length;
    this.track(this.sink.putBytes(batch.key, body, CONTENT_TYPE).catch((err) => this.options.onLost(err, { key: batch.key, tasks })));
  }

  private track(upload: Promise<void>): void {
    this.inFlight.add(upload);
    void upload.finally(() => this.inFlight.delete(upload));
  }
}
