import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { JobContext } from '../core/job-contract';

export interface ReportArgs {
  /** @default "daily" */
  readonly title?: string;
  /** Free-form figures to include in the report. */
  readonly figures?: Record<string, number>;
}

/**
 * Writes a small JSON report to S3 (`reports/<title>/<date>/<taskId>.json` in JOB_REPORTS_BUCKET,
 * on the endpoint AWS_ENDPOINT_URL when set, e.g. LocalStack). Idempotent per task: a retry
 * overwrites the same key. It runs with its own job role (the catalogue's `role`), which the CDK
 * app lets write `reports/*` in the logs bucket and nothing else.
 */
export default async function report(args: ReportArgs, ctx: JobContext): Promise<{ bucket: string; key: string; bytes: number }> {
  const bucket = process.env.JOB_REPORTS_BUCKET;
  if (!bucket) throw new Error('JOB_REPORTS_BUCKET is not set: the report job needs a bucket to write to (set it on the runner; JOB_* variables reach jobs)');
  const endpoint = process.env.AWS_ENDPOINT_URL;
  const s3 = new S3Client({ region: process.env.AWS_REGION ?? 'us-east-1', ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
  const title = (args.title ?? 'daily').replace(/[^A-Za-z0-9_-]/g, '-');
  const day = ctx.scheduledAt.toISOString().slice(0, 10);
  const key = `reports/${title}/${day}/${ctx.taskId}.json`;
  const body = JSON.stringify(
    {
      title,
      taskId: ctx.taskId,
      attempt: ctx.attempt,
      scheduledAt: ctx.scheduledAt.toISOString(),
      lastCompletedAt: ctx.lastCompletedAt?.toISOString() ?? null,
      generatedAt: new Date().toISOString(),
      figures: args.figures ?? {},
    },
    null,
    2,
  );
  ctx.progress(50, 'uploading');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }), { abortSignal: ctx.signal });
  ctx.logger.info({ bucket, key }, 'report written');
  s3.destroy();
  return { bucket, key, bytes: Buffer.byteLength(body) };
}

/**
 * For a computed schedule (`spec: { kind: 'computed' }`): the next weekday at 06:00 UTC after
 * the previous occurrence.
 */
export function nextRun(previous: Date): Date | undefined {
  const next = new Date(Date.UTC(previous.getUTCFullYear(), previous.getUTCMonth(), previous.getUTCDate() + 1, 6, 0, 0));
  while (next.getUTCDay() === 0 || next.getUTCDay() === 6) next.setUTCDate(next.getUTCDate() + 1);
  return next;
}
