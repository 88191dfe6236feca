import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import path from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import type { TaskRecord } from '../../../core/model/task';
import { AggregateStore } from '../../../core/ops/aggregate-store';
import { selectTasks } from '../../../core/ops/task-filter';
import { JobfleetClient } from '../../../core/sdk/client';
import { serveConsole, type RunningConsole } from '../../../functions/console/server';
import { createStatusEventsFromEnv } from '../../../functions/status-events/create';
import { StreamPoller } from '../../../functions/status-events/stream-poller';
import { noMetrics } from '../../../functions/ticker/metrics';
import { SqsDispatcher } from '../../../functions/ticker/sqs-dispatcher';
import { Ticker } from '../../../functions/ticker/tick';
import { launchBrowser, SCREENSHOTS, type TestBrowser } from '../../support/browser';
import { createTestEnvironment, type TestEnvironment } from '../../support/resources';
import { fixtures, startRunner, waitForTask, waitUntil, type TestRunner } from '../runner/runner-harness';

jest.setTimeout(180_000);

/**
 * The console in a real browser (headless Debian Chromium through playwright-core), against a
 * real pipeline on the local AWS: the SDK schedules, a ticker dispatches, a runner runs, the
 * status-event consumer keeps the aggregates from the table's stream.
 */
describe('the web console', () => {
  let env: TestEnvironment;
  let runner: TestRunner;
  let sdk: JobfleetClient;
  let web: RunningConsole;
  let readOnlyWeb: RunningConsole;
  let browser: TestBrowser;
  let page: Page;
  const stop = new AbortController();
  const background: Promise<unknown>[] = [];
  const ended: TaskRecord[] = [];
  let pendingA: TaskRecord;
  let pendingB: TaskRecord;

  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `console-${name}.png`), fullPage: true });

  beforeAll(async () => {
    env = await createTestEnvironment('console', { stream: true });
    sdk = new JobfleetClient({ catalogue: fixtures, services: env.services });
    const ticker = new Ticker({ lifecycle: env.services, config: env.config, fleet: fixtures.fleet, sender: new SqsDispatcher(env.clients.sqs, env.config.queueUrls), logger: pino({ level: 'silent' }), metrics: noMetrics, options: { lookaheadMs: 0 } });
    background.push(
      (async () => {
        while (!stop.signal.aborted) {
          await ticker.tick(Date.now());
          await new Promise((r) => setTimeout(r, 150));
        }
      })(),
    );
    runner = await startRunner(env);
    const consumer = createStatusEventsFromEnv({ ...process.env, JOBFLEET_TABLE: env.config.tableName, JOBFLEET_STATUS_EVENTS: 'none', JOBFLEET_LOG_LEVEL: 'silent' });
    const streams = new DynamoDBStreamsClient({ region: env.config.region, endpoint: env.config.endpoint });
    const { Table } = await env.clients.dynamodb.send(new DescribeTableCommand({ TableName: env.config.tableName }));
    background.push(new StreamPoller({ client: streams, streamArn: Table?.LatestStreamArn as string, handle: consumer.handle, logger: consumer.logger, idleMs: 100 }).run(stop.signal).finally(() => streams.destroy()));

    const aggregates = new AggregateStore(env.clients.doc, env.config.tableName);
    web = await serveConsole({ client: sdk, catalogue: fixtures, aggregates, port: 0 });
    readOnlyWeb = await serveConsole({ client: sdk, catalogue: fixtures, aggregates, port: 0, readOnly: true });

    // Three that complete, two that fail for good, two waiting an hour (to cancel from the page).
    const scheduled = await Promise.all([...['ok', 'ok', 'ok', 'exit1', 'exit1'].map((job, i) => sdk.schedule(job, { i }))]);
    for (const t of scheduled) ended.push(await waitForTask(env, t.id, (x) => Boolean(x.effectsDone), 60_000));
    pendingA = await sdk.schedule('noop', null, { delay: '1 hour' });
    pendingB = await sdk.schedule('noop', null, { delay: '1 hour' });
    // The aggregates follow the stream: wait until they have counted every ending.
    await waitUntil(async () => {
      const buckets = [...(await aggregates.read('ok', Date.now() - 3_600_000)), ...(await aggregates.read('exit1', Date.now() - 3_600_000))];
      const created = (await aggregates.read('noop', Date.now() - 3_600_000)).reduce((n, b) => n + (b.counts.created ?? 0), 0);
      return buckets.reduce((n, b) => n + (b.counts.completed ?? 0) + (b.counts.failed ?? 0) + (b.counts.cancelled ?? 0), 0) >= 5 && created >= 2;
    }, 60_000, 'the aggregates to count five endings and two creations');

    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    stop.abort();
    await Promise.all(background);
    await browser?.close();
    await web?.close();
    await readOnlyWeb?.close();
    await runner?.stop();
    await env?.cleanup();
  });

  it("the overview's counts match the table", async () => {
    await page.goto(`${web.url}/`);
    await page.getByTestId('overview').waitFor();
    const cell = async (job: string, counter: string) => Number(await page.getByTestId(`count-${job}-hour-${counter}`).innerText());
    const inTable = async (job: string, status: TaskRecord['status']) => (await selectTasks(sdk, { job, status })).tasks.length;
    // Every ending the table holds, per job and outcome (on a loaded machine a run may end otherwise than planned: still counted right).
    for (const job of ['ok', 'exit1']) {
      for (const status of ['completed', 'failed', 'cancelled'] as const) expect({ job, status, shown: await cell(job, status) }).toEqual({ job, status, shown: await inTable(job, status) });
    }
    expect(await cell('ok', 'completed')).toBeGreaterThan(0);
    expect(await cell('exit1', 'failed')).toBe(2);
    expect(await cell('ok', 'created')).toBe(3);
    expect(await cell('noop', 'created')).toBe(2);
    // exit-code normally; runner-lost when this loaded machine starves the test runner's 1.5 s lease.
    expect(await page.getByTestId('failures').innerText()).toMatch(/exit1: (exit-code|runner-lost)/);
    await shot('overview');
  });

  it('a filter narrows the list, and the URL holds it', async () => {
    await page.goto(`${web.url}/tasks`);
    const all = await page.locator('[data-testid=tasks] tbody tr').count();
    expect(all).toBe(7);
    await shot('tasks');
    await page.selectOption('select[name=job]', 'exit1');
    await page.click('[data-testid=filters] button[type=submit]');
    await page.waitForURL(/job=exit1/);
    const rows = page.locator('[data-testid=tasks] tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.locator('td:nth-child(2)').allInnerTexts()).toEqual(['exit1', 'exit1']);
    // The same link shared elsewhere shows the same list.
    const fresh = await browser.context.newPage();
    await fresh.goto(page.url());
    expect(await fresh.locator('[data-testid=tasks] tbody tr').count()).toBe(2);
    await fresh.close();
    await shot('tasks-filtered');
  });

  it('cancelling a pending task from its page changes its status', async () => {
    await page.goto(`${web.url}/tasks/${pendingA.id}`);
    expect(await page.getByTestId('task-status').innerText()).toBe('pending');
    await page.click('form[action$="/cancel"] button');
    await page.getByTestId('flash').waitFor();
    expect(await page.getByTestId('task-status').innerText()).toBe('cancelled');
    expect((await sdk.get(pendingA.id)).status).toBe('cancelled');
    await shot('task-cancelled');
  });

  it("a task's log opens", async () => {
    const ok = ended.find((t) => t.job === 'ok' && t.status === 'completed') as TaskRecord;
    await page.goto(`${web.url}/tasks/${ok.id}`);
    await shot('task-detail');
    await page.click('[data-testid=log-1]');
    await page.getByTestId('log').waitFor();
    expect(await page.getByTestId('log').innerText()).toContain('ok job ran');
    await shot('task-log');
  });

  it('read-only mode refuses an action, and the task stays as it was', async () => {
    await page.goto(`${readOnlyWeb.url}/tasks/${pendingB.id}`);
    expect(await page.getByTestId('read-only').isVisible()).toBe(true);
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('form[action$="/cancel"] button')]);
    expect(response.status()).toBe(403);
    expect(await page.getByTestId('refused').innerText()).toContain('read-only');
    expect((await sdk.get(pendingB.id)).status).toBe('pending');
    await shot('read-only-refused');
  });

  it('schedules and fleet pages render', async () => {
    await sdk.schedules.create('noop', null, { id: 'console-every', every: '1 hour' });
    await page.goto(`${web.url}/schedules`);
    expect(await page.locator('[data-schedule=console-every]').innerText()).toContain('every hour');
    await shot('schedules');
    await page.goto(`${web.url}/fleet`);
    expect(await page.locator('[data-class=small]').count()).toBe(1);
    await shot('fleet');
  });
});
