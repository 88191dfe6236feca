import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** Where the runner puts task files (logs, large results). A narrow port; S3 is the adapter. */
export interface FileSink {
  /** Uploads the file at `path` to `key`; resolves once stored, throws once retries are spent. */
  upload(key: string, path: string, contentType: string): Promise<{ bytes: number }>;
  /** Stores bytes held in memory (a batch of task logs) with one PutObject; throws once retries are spent. */
  putBytes(key: string, body: Uint8Array, contentType: string): Promise<void>;
}

export const MULTIPART_THRESHOLD_BYTES = 5 * 1024 * 1024;

export const resultKey = (job: string, taskId: string, attempt: number): string => `results/${job}/${taskId}/${attempt}.json`;

export interface S3SinkOptions {
  readonly bucket: string;
  /** Below this a single PutObject, above it a multipart upload. @default 5 MiB */
  readonly multipartThresholdBytes?: number;
  /** Attempts per upload (each re-opens the file: a consumed stream cannot be retried by the SDK). @default 3 */
  readonly attempts?: number;
  /** Wait before the second attempt, doubled after each. @default 200 */
  readonly retryDelayMs?: number;
}

/**
 * Streams files to S3: one PutObject below the threshold, a multipart upload (lib-storage, 5 MiB
 * parts, two at a time) above. The file is read as a stream, never held whole in memory.
 */
export class S3FileSink implements FileSink {
  constructor(
    private readonly s3: S3Client,
    private readonly options: S3SinkOptions,
  ) {}

  upload(key: string, path: string, contentType: string): Promise<{ bytes: number }> {
    return this.retried(() => this.uploadOnce(key, path, contentType));
  }

  async putBytes(key: string, body: Uint8Array, contentType: string): Promise<void> {
    const Bucket = this.options.bucket;
    await this.retried(() => this.s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentLength: body.byteLength, ContentType: contentType })));
  }

  private async retried<T>(once: () => Promise<T>): Promise<T> {
    const attempts = this.options.attempts ?? 3;
    let delay = this.options.retryDelayMs ?? 200;
    for (let attempt = 1; ; attempt++) {
      try {
        return await once();
      } catch (err) {
        if (attempt >= attempts) throw err;
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }

  private async uploadOnce(key: string, path: string, contentType: string): Promise<{ bytes: number }> {
    const { size } = await stat(path);
    const Bucket = this.options.bucket;
    if (size < (this.options.multipartThresholdBytes ?? MULTIPART_THRESHOLD_BYTES)) {
      const body = createReadStream(path);
      try {
        await this.s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentLength: size, ContentType: contentType }));
      } finally {
        body.destroy();
      }
    } else {
      const body = createReadStream(path, { highWaterMark: 1024 * 1024 });
      try {
        await new Upload({ client: this.s3, params: { Bucket, Key: key, Body: body, ContentType: contentType }, partSize: MULTIPART_THRESHOLD_BYTES, queueSize: 2 }).done();
      } finally {
        body.destroy();
      }
    }
    return { bytes: size };
  }
}
