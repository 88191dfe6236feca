import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ownLogKey } from '../../core/logs/log-location';
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Catalogue } from '../../core/catalogue';
import { JobfleetError } from '../../core/errors';
import type { AggregateStore } from '../../core/ops/aggregate-store';
import { fleetView, deadLetterOf, redriveDeadLetters, type RunnerCounts } from '../../core/ops/fleet';
import { bulk, findTasks, parseFilter, type BulkAction } from '../../core/ops/task-filter';
import type { JobfleetClient } from '../../core/sdk/client';
import { authorized, type ConsoleAuth } from './auth';
import { fleetPage } from './fleet';
import { page, type Html, type PageContext } from './layout';
import { overviewFragment, overviewPage, readOverview } from './overview';
import { schedulesPage } from './schedules';
import { logPage, taskLive, taskPage } from './task-detail';
import { bulkPage, queryOf, tasksPage, type RawFilter } from './tasks';

export interface ConsoleOptions {
  /** Every action goes through it. */
  readonly client: JobfleetClient;
  readonly catalogue: Catalogue;
  readonly aggregates: AggregateStore;
  /** Refuse every request that is not GET or HEAD. */
  readonly readOnly?: boolean;
  /** Required by `serveConsole` beyond loopback; checked on every request when given. */
  readonly auth?: ConsoleAuth;
  /** Runner counts from ECS, when deployed. */
  readonly runners?: RunnerCounts;
  /** @default Date.now */
  readonly now?: () => number;
}

/** htmx, vendored (the browser may have no internet): read once, on first use. */
let htmx: Buffer | undefined;
/** Beside this module when run from source; tsc's dist/ has no copy, so fall back to the sources. */
const HTMX_PATHS = [path.join(__dirname, 'static', 'htmx.min.js'), path.join(__dirname, '..', '..', '..', 'functions', 'console', 'static', 'htmx.min.js')];
const HTMX = () => (htmx ??= readFileSync(HTMX_PATHS.find((p) => existsSync(p)) ?? (HTMX_PATHS[0] as string)));
const LOG_PREVIEW_BYTES = 1024 * 1024;

/**
 * The operations console as a Hono app: HTML rendered on the server, htmx for the live parts,
 * every action one SDK call. `app.fetch` is a Fetch-style handler (Request -> Response): mount it
 * in your own server, or behind a Lambda function URL (see ./lambda.ts).
 */
export function createConsole(options: ConsoleOptions): Hono {
  const { client, catalogue, aggregates } = options;
  const now = options.now ?? Date.now;
  const readOnly = Boolean(options.readOnly);
  const jobs = [...catalogue.jobs.keys()];
  const app = new Hono();

  app.use('*', async (c, next) => {
    if (options.auth) {
      const token = c.req.query('token');
      if (token && authorized(options.auth, { authorization: `Bearer ${token}` })) {
        c.header('Set-Cookie', `jobfleet_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`);
      } else if (!authorized(options.auth, { authorization: c.req.header('authorization'), cookie: c.req.header('cookie') })) {
        return c.text('authentication required', 401, 'user' in options.auth ? { 'WWW-Authenticate': 'Basic realm="jobfleet"' } : { 'WWW-Authenticate': 'Bearer' });
      }
    }
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD') {
      if (readOnly) return c.html(page(ctx(c), 'Read-only', html`<p data-testid="refused">This console is read-only: ${method} ${c.req.path} was refused. Start it without --read-only to act on tasks.</p>`), 403);
      // Actions come from the console's own pages, never from another site.
      if (c.req.header('sec-fetch-site') === 'cross-site') return c.text('cross-site request refused', 403);
    }
    await next();
  });

  const ctx = (c: Context): PageContext => {
    const ok = c.req.query('ok');
    const err = c.req.query('err');
    return { readOnly, path: c.req.path, ...(ok ? { flash: { ok: true, text: ok } } : err ? { flash: { ok: false, text: err } } : {}) };
  };
  const render = (c: Context, title: string, body: Html, status: 200 | 400 | 404 = 200) => c.html(page(ctx(c), title, body), status);
  /** After an action: back to where it came from, with its result. */
  const done = (c: Context, to: string, result: { ok: boolean; text: string }) => c.redirect(`${to}${to.includes('?') ? '&' : '?'}${result.ok ? 'ok' : 'err'}=${encodeURIComponent(result.text)}`, 303);
  const act = async (c: Context, to: string, run: () => Promise<string>) => {
    try {
      return done(c, to, { ok: true, text: await run() });
    } catch (err) {
      if (err instanceof JobfleetError) return done(c, to, { ok: false, text: err.message });
      throw err;
    }
  };

  app.onError((err, c) => {
    if (err instanceof JobfleetError) return render(c, 'Error', html`<p data-testid="error">${err.message}</p>`, 400);
    console.error(err);
    return c.html(page(ctx(c), 'Error', html`<p>Something went wrong; the console log has the details.</p>`), 500);
  });

  app.get('/static/htmx.min.js', (c) => c.body(new Uint8Array(HTMX()), 200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'max-age=3600' }));
  app.get('/healthz', (c) => c.text('ok'));

  app.get('/', async (c) => render(c, 'Overview', overviewPage(overviewFragment(await readOverview(aggregates, jobs, now()), now()))));
  app.get('/fragments/overview', async (c) => c.html(overviewFragment(await readOverview(aggregates, jobs, now()), now())));

  const rawFilter = (c: Context): RawFilter => ({ job: c.req.query('job') ?? '', status: c.req.query('status') ?? '', from: c.req.query('from') ?? '', to: c.req.query('to') ?? '', id: c.req.query('id') ?? '' });
  app.get('/tasks', async (c) => {
    const raw = rawFilter(c);
    const filter = parseFilter(raw, now());
    const limit = Math.min(200, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
    const cursor = c.req.query('cursor');
    return render(c, 'Tasks', tasksPage(jobs, raw, await findTasks(client, filter, { limit, jobs, ...(cursor ? { cursor } : {}) }), readOnly));
  });
  app.get('/tasks/bulk', async (c) => {
    const raw = rawFilter(c);
    const action = bulkAction(c.req.query('action'));
    const filter = parseFilter(raw, now());
    return render(c, `Bulk ${action}`, bulkPage(action, raw, filter, await bulk(client, action, filter, { dryRun: true, jobs })));
  });
  app.post('/actions/bulk', async (c) => {
    const form = await c.req.parseBody();
    const raw = Object.fromEntries((['job', 'status', 'from', 'to', 'id'] as const).map((k) => [k, String(form[k] ?? '')])) as RawFilter;
    const action = bulkAction(String(form.action));
    const result = await bulk(client, action, parseFilter(raw, now()), { jobs });
    const text = `${action}: ${result.done} of ${result.eligible} done${result.failed.length ? `, ${result.failed.length} failed (first: ${result.failed[0]?.id}: ${result.failed[0]?.error})` : ''}`;
    return done(c, `/tasks${queryOf(raw)}`, { ok: result.failed.length === 0, text });
  });

  app.get('/tasks/:id', async (c) => {
    const task = await client.get(c.req.param('id'));
    const { s3 } = client.services.clients;
    const bucket = client.services.config.bucket;
    const [listed, dependents, result] = await Promise.all([
      s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `logs/${task.job}/${task.id}/`, MaxKeys: 100 })).catch(() => undefined),
      client.services.store.dependentsOf(task.id),
      task.resultS3Key ? s3.send(new GetObjectCommand({ Bucket: bucket, Key: task.resultS3Key })).then(async (o) => JSON.parse((await o.Body?.transformToString()) ?? 'null') as unknown).catch(() => '(could not read the result from S3)') : undefined,
    ]);
    const logs = (listed?.Contents ?? []).flatMap((o) => {
      const attempt = Number(/\/(\d+)\.log$/.exec(o.Key ?? '')?.[1]);
      return Number.isInteger(attempt) ? [{ attempt, key: o.Key as string, ...(o.Size !== undefined ? { bytes: o.Size } : {}) }] : [];
    });
    // Small logs live as ranges of batch objects, outside the task's own prefix.
    if (task.logS3Key && !logs.some((l) => l.attempt === task.attempt)) logs.push({ attempt: task.attempt, key: task.logS3Key, ...(task.logRange ? { bytes: task.logRange.length } : {}) });
    return render(c, `Task ${task.id}`, taskPage({ task, logs, dependents, ...(result !== undefined ? { result } : {}) }));
  });
  app.get('/fragments/tasks/:id', async (c) => c.html(taskLive(await client.get(c.req.param('id')))));
  app.get('/tasks/:id/logs/:attempt', async (c) => {
    const task = await client.get(c.req.param('id'));
    const attempt = Number(c.req.param('attempt'));
    if (attempt === task.attempt && task.logS3Key) {
      // The latest attempt's log may be a range of a batch object: the SDK reads it with one ranged GET.
      const read = await client.readLog(task);
      if (read.state === 'available') return render(c, `Log ${task.id}`, logPage(task, attempt, read.text.slice(0, LOG_PREVIEW_BYTES)));
      return render(c, 'Log', html`<p>${read.message}</p>`, 404);
    }
    const obj = await client.services.clients.s3
      .send(new GetObjectCommand({ Bucket: client.services.config.bucket, Key: ownLogKey(task.job, task.id, attempt), Range: `bytes=0-${LOG_PREVIEW_BYTES - 1}` }))
      .catch(() => undefined);
    if (!obj) return render(c, 'Log', html`<p>No log for attempt ${attempt} of ${task.id} (yet).</p>`, 404);
    return render(c, `Log ${task.id}`, logPage(task, attempt, (await obj.Body?.transformToString()) ?? ''));
  });
  app.post('/tasks/:id/cancel', (c) => act(c, `/tasks/${c.req.param('id')}`, async () => `cancel: now ${(await client.cancel(c.req.param('id'))).status}`));
  app.post('/tasks/:id/release', (c) => act(c, `/tasks/${c.req.param('id')}`, async () => `released: due ${new Date((await client.release(c.req.param('id'))).dueAt).toISOString()}`));
  app.post('/tasks/:id/reschedule', async (c) => {
    const form = await c.req.parseBody();
    const at = typeof form.at === 'string' && form.at ? form.at : undefined;
    return act(c, `/tasks/${c.req.param('id')}`, async () => `retry: attempt ${(await client.reschedule(c.req.param('id'), at ? { at } : {})).attempt} is pending`);
  });

  app.get('/schedules', async (c) => render(c, 'Schedules', schedulesPage(await client.schedules.list())));
  for (const verb of ['pause', 'resume', 'stop'] as const) {
    app.post(`/schedules/:id/${verb}`, (c) => act(c, '/schedules', async () => `${c.req.param('id')}: ${verb} done (${(await client.schedules[verb](c.req.param('id'))).active ? 'active' : 'inactive'})`));
  }
  app.post('/schedules/:id/run-now', (c) =>
    act(c, '/schedules', async () => {
      const s = await client.schedules.get(c.req.param('id'));
      const task = await client.schedule(s.job, s.args, { priority: s.priority });
      return `${s.id}: ran now as task ${task.id}`;
    }),
  );

  app.get('/fleet', async (c) => render(c, 'Fleet', fleetPage(await fleetView(client.services, catalogue.fleet, { now: now(), ...(options.runners ? { runners: options.runners } : {}) }))));
  app.post('/fleet/:class/redrive', (c) =>
    act(c, '/fleet', async () => {
      const name = c.req.param('class');
      const queueUrl = client.services.config.queueUrls[name];
      const dlq = queueUrl ? await deadLetterOf(client.services.clients.sqs, queueUrl) : undefined;
      if (!queueUrl || !dlq) return `${name}: no dead-letter queue`;
      return `${name}: moved ${await redriveDeadLetters(client.services.clients.sqs, dlq.url, queueUrl)} dead letters back to the queue`;
    }),
  );
  return app;
}

function bulkAction(value: string | undefined): BulkAction {
  if (value === 'cancel' || value === 'retry') return value;
  throw new JobfleetError(`action: "${value}" is not a bulk action; use cancel or retry`);
}
