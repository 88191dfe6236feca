/**
 * `npm start`: jobfleet end to end on the local AWS. Starts (or reuses) the local AWS, provisions
 * it from the CDK definitions, runs a ticker, a runner and the status-event consumer (polling the
 * table's stream) as ordinary Node processes (Lambda and Fargate do not run in LocalStack without
 * Docker: this is the same code they run), schedules one task of each kind through the SDK, and
 * reports how each ended, where its log went, and the status events that reached the bus.
 */
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { StatusEvent } from '../core/lifecycle/events';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadRuntimeConfig } from '../core/config/runtime';
import { JobfleetClient } from '../core/sdk/client';
import type { TaskRecord } from '../core/model/task';
import { deployCoreStack } from '../infra/local-deploy';
import catalogue from '../jobs/catalogue';
import { ensureLocalAws } from './ensure-local-aws';

const ROOT = path.resolve(__dirname, '..');
const LOGS = path.join(ROOT, '.cache', 'demo');
const step = (n: number, text: string) => console.log(`\n[${n}/6] ${text}`);

function startProcess(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  mkdirSync(LOGS, { recursive: true });
  const out = createWriteStream(path.join(LOGS, `${name}.log`));
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  console.log(`  ${name}: pid ${child.pid}, log .cache/demo/${name}.log`);
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function main(): Promise<void> {
  const started = Date.now();
  step(1, 'local AWS');
  const local = await ensureLocalAws();
  console.log(`  endpoint ${local.endpoint}`);

  step(2, 'provisioning the core stack (table, queues, bucket, bus) through CloudFormation');
  const stackEnv = await deployCoreStack({ stackName: 'jobfleet-demo', log: (m: string) => console.log(`  ${m}`) });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...stackEnv,
    AWS_ENDPOINT_URL: local.endpoint,
    JOBFLEET_TICK_INTERVAL_MS: '250',
    JOBFLEET_METRICS: 'off',
    RUNNER_CLASS: 'small',
    RUNNER_WAIT_TIME_SECONDS: '1',
  };
  Object.assign(process.env, env);
  const client = new JobfleetClient({ catalogue, config: loadRuntimeConfig(env) });

  step(3, 'syncing the schedules declared in jobs/catalogue.ts');
  const sync = await client.schedules.sync();
  console.log(`  created ${sync.created.length}, updated ${sync.updated.length}, stopped ${sync.stopped.length}`);

  step(4, 'starting a ticker, a runner (small slot class, 4 slots) and the status-event consumer');
  const events = await subscribeToStatusEvents(client, env.JOBFLEET_EVENT_BUS);
  const ticker = startProcess('ticker', 'functions/ticker/local.ts', env);
  const runner = startProcess('runner', 'runner/main.ts', env);
  const statusEvents = startProcess('status-events', 'functions/status-events/local.ts', env);

  try {
    step(5, 'scheduling one task of each kind through the SDK');
    const run = `demo-${Date.now().toString(36)}`;
    const kinds: Array<[string, Promise<TaskRecord>]> = [];
    const add = (kind: string, p: Promise<TaskRecord>) => kinds.push([kind, p]);
    const report = client.schedule('report', { title: 'Demo report', figures: { tasks: 9 } }, { idempotencyKey: `${run}-report` });
    add('now (idempotent key)', report);
    add('same key again', client.schedule('report', { title: 'ignored' }, { idempotencyKey: `${run}-report` }));
    add('after a delay of 2 s', client.schedule('crunch', { limit: 2_000_000 }, { delay: '2 seconds' }));
    add('at a time (in 3 s)', client.schedule('long-progress', { seconds: 3, steps: 6 }, { at: new Date(Date.now() + 3000) }));
    add('after the report (startAfter)', report.then((r) => client.schedule('noop', null, { startAfter: r.id })));
    add('held, then released', client.schedule('noop', null, { hold: true }).then((t) => client.release(t.id)));
    const doomed = await client.schedule('noop', null, { delay: '1 minute' });
    add('cancelled before it ran', client.cancel(doomed.id));
    const every = await client.schedules.create('noop', null, { id: `${run}-every`, every: '2 seconds' });
    const cron = await client.schedules.create('noop', null, { id: `${run}-cron`, cron: '*/3 * * * * *', timezone: 'Europe/Berlin' });
    console.log(`  recurring: ${every.id} every 2 s, ${cron.id} on "*/3 * * * * *" Europe/Berlin`);

    step(6, 'waiting for every task to end');
    const rows: string[][] = [];
    for (const [kind, p] of kinds) {
      const task = await p;
      const ended = await client.waitFor(task.id, { timeoutMs: 90_000 });
      const took = ended.startedAt && ended.endedAt ? `${ended.endedAt - ended.startedAt} ms` : '-';
      rows.push([kind, ended.job, ended.id, ended.status, String(ended.attempt), took, ended.logS3Key ?? '-']);
    }
    await new Promise((r) => setTimeout(r, 6500));
    for (const id of [every.id, cron.id]) {
      const s = await client.schedules.stop(id);
      rows.push([`recurring ${s.spec.kind}`, s.job, s.id, s.lastCompletedAt ? `last completed ${new Date(s.lastCompletedAt).toISOString()}` : 'no run yet', '-', '-', '-']);
    }
    table(['kind', 'job', 'id', 'status', 'attempt', 'ran', 'log in S3'], rows);

    const withLog = (await Promise.all(kinds.map(([, p]) => p))).find((t) => t.job === 'long-progress');
    const logged = withLog ? await client.get(withLog.id) : undefined;
    if (logged?.logS3Key) {
      // One ranged GET of its slice of a batch object (logs of tasks ending together share one).
      const read = await client.waitForLog(logged.id, { timeoutMs: 10_000 });
      const where = `s3://${client.services.config.bucket}/${logged.logS3Key}${logged.logRange ? ` bytes ${logged.logRange.offset}+${logged.logRange.length}` : ''}`;
      console.log(`\nThe log of ${logged.job} ${logged.id} (${where}):`);
      console.log(read.state === 'available' ? read.text.trim().split('\n').slice(0, 12).join('\n') : read.message);
    }
    if (events) {
      const ids = new Set(rows.map((r) => r[2]));
      const seen = (await events()).filter((e) => ids.has(e.taskId));
      const counts = new Map<string, number>();
      for (const e of seen) counts.set(`${e.from} -> ${e.to}`, (counts.get(`${e.from} -> ${e.to}`) ?? 0) + 1);
      console.log(`\nStatus events on the bus (${env.JOBFLEET_STATUS_EVENTS ?? 'terminal'}) for these tasks, from the table's stream: ${[...counts].map(([k, n]) => `${k} x${n}`).join(', ') || 'none'}`);
    }
    const failed = rows.filter((r) => r[3] === 'failed');
    console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s${failed.length ? `, ${failed.length} failed` : ''}.`);
    console.log('The local AWS keeps running for you to look around; stop it with: npm run local-aws -- stop');
    if (failed.length) process.exitCode = 1;
  } finally {
    await Promise.all([stopProcess(ticker), stopProcess(runner), stopProcess(statusEvents)]);
  }
}

/** A rule on the status bus into a queue of the demo's own; returns a function that drains it. */
async function subscribeToStatusEvents(client: JobfleetClient, bus: string | undefined): Promise<(() => Promise<StatusEvent[]>) | undefined> {
  if (!bus) return undefined;
  const { sqs, events } = client.services.clients;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'jobfleet-demo-status-events' }))).QueueUrl as string;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(new PutRuleCommand({ Name: 'jobfleet-demo-all', EventBusName: bus, EventPattern: JSON.stringify({ source: ['jobfleet'] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'jobfleet-demo-all', EventBusName: bus, Targets: [{ Id: 'demo', Arn: Attributes?.QueueArn }] }));
  return async () => {
    const out: StatusEvent[] = [];
    for (let empty = 0; empty < 2; ) {
      const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (!res.Messages?.length) empty++;
      for (const m of res.Messages ?? []) out.push((JSON.parse(m.Body as string) as { detail: StatusEvent }).detail);
    }
    return out;
  };
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
}

main().catch((err) => {
  console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
