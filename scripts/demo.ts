/**
 * `npm start`: jobfleet end to end on the local AWS. Starts (or reuses) the local AWS, provisions
 * it from the CDK definitions, starts the local fleet (a ticker, a runner per slot class and the
 * status-event consumer, the same code Lambda and Fargate run), schedules one task of each kind
 * through the SDK (a slot-heavy job, a timeout, a failure that is retried, a cancel of a running
 * task among them) with live progress while they run, then serves the web console and keeps
 * everything running until Ctrl-C, which stops everything it started.
 */
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { StatusEvent } from '../core/lifecycle/events';
import { localDown, localUp } from '../core/cli/local-fleet';
import { loadRuntimeConfig } from '../core/config/runtime';
import { isTerminal, type TaskRecord } from '../core/model/task';
import { AggregateStore } from '../core/ops/aggregate-store';
import { JobfleetClient } from '../core/sdk/client';
import { serveConsole } from '../functions/console/server';
import catalogue from '../jobs/catalogue';

const STEPS = 6;
const step = (n: number, text: string) => console.log(`\n[${n}/${STEPS}] ${text}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What this run started, stopped in reverse order on Ctrl-C or on failure. */
const cleanups: Array<() => Promise<void>> = [];
let stopping = false;
async function stopAll(code?: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping what npm start started...');
  for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error(`  ${(err as Error).message}`));
  process.exit(code ?? process.exitCode ?? 0);
}

async function main(): Promise<void> {
  const started = Date.now();
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => void stopAll());

  step(1, 'local AWS, the demo stack (table, queues, bucket, bus through CloudFormation) and the local fleet');
  // Not detached: the fleet shares this terminal's Ctrl-C, and is stopped below as well.
  const up = await localUp((line) => console.log(`  ${line}`), { detached: false });
  cleanups.push(async () => void (await localDown((line) => console.log(`  ${line}`), up.started.map((p) => p.pid))));
  if (up.localAwsStartedHere) cleanups.unshift(() => up.releaseLocalAws());
  Object.assign(process.env, up.env);
  const client = new JobfleetClient({ catalogue, config: loadRuntimeConfig(up.env) });

  step(2, 'syncing the schedules declared in jobs/catalogue.ts');
  const sync = await client.schedules.sync();
  console.log(`  created ${sync.created.length}, updated ${sync.updated.length}, stopped ${sync.stopped.length}`);
  const events = await subscribeToStatusEvents(client, up.env.JOBFLEET_EVENT_BUS);

  step(3, 'scheduling one task of each kind through the SDK');
  const run = `demo-${Date.now().toString(36)}`;
  const kinds: Array<[string, TaskRecord]> = [];
  const add = async (kind: string, p: Promise<TaskRecord>) => void kinds.push([kind, await p]);
  const report = await client.schedule('report', { title: 'Demo report', figures: { tasks: 12 } }, { idempotencyKey: `${run}-report` });
  kinds.push(['now (idempotent key)', report]);
  await add('same key again', client.schedule('report', { title: 'ignored' }, { idempotencyKey: `${run}-report` }));
  await add('after a delay of 2 s (2 slots)', client.schedule('crunch', { limit: 2_000_000 }, { delay: '2 seconds' }));
  await add('slot-heavy (8 slots, large class)', client.schedule('render', { seconds: 4, steps: 8 }));
  await add('at a time (in 3 s)', client.schedule('long-progress', { seconds: 3, steps: 6 }, { at: new Date(Date.now() + 3000) }));
  await add('over its 2 s time limit', client.schedule('deadline', { seconds: 30, steps: 30 }));
  await add('fails once, retried', client.schedule('flaky', {}));
  await add('after the report (startAfter)', client.schedule('noop', null, { startAfter: report.id }));
  await add('held, then released', client.schedule('noop', null, { hold: true }).then((t) => client.release(t.id)));
  const doomed = await client.schedule('noop', null, { delay: '1 minute' });
  await add('cancelled before it ran', client.cancel(doomed.id));
  const victim = await client.schedule('long-progress', { seconds: 60, steps: 60 });
  kinds.push(['cancelled while running', victim]);
  const every = await client.schedules.create('noop', null, { id: `${run}-every`, every: '2 seconds' });
  const cron = await client.schedules.create('noop', null, { id: `${run}-cron`, cron: '*/3 * * * * *', timezone: 'Europe/Berlin' });
  console.log(`  ${kinds.length} tasks; recurring: ${every.id} every 2 s, ${cron.id} on "*/3 * * * * *" Europe/Berlin`);

  step(4, 'waiting for every task to end (live)');
  let cancelSent = false;
  let last = '';
  const deadline = Date.now() + 180_000;
  let current = new Map(kinds.map(([, t]) => [t.id, t]));
  for (;;) {
    current = new Map((await client.services.store.getMany([...current.keys()])).map((t) => [t.id, t]));
    const v = current.get(victim.id);
    if (!cancelSent && v?.status === 'running') {
      await client.cancel(victim.id);
      cancelSent = true;
      console.log(`  ${victim.id} is running: cancel requested`);
    }
    const settled = [...current.values()].filter((t) => isTerminal(t.status) && t.effectsDone).length;
    const line = `  ${settled}/${current.size} ended · ${kinds.map(([, t]) => shortState(current.get(t.id))).join(' · ')}`;
    if (line !== last) console.log(line);
    last = line;
    if (settled === current.size) break;
    if (Date.now() > deadline) throw new Error(`tasks still running after 3 minutes; see .cache/local/*.log`);
    await sleep(700);
  }
  await sleep(2000);
  const rows: string[][] = kinds.map(([kind, t]) => {
    const e = current.get(t.id) as TaskRecord;
    return [kind, e.job, e.id, `${e.status}${e.error ? ` (${e.error.reason})` : ''}`, String(e.attempt), e.startedAt && e.endedAt ? `${e.endedAt - e.startedAt} ms` : '-'];
  });
  for (const id of [every.id, cron.id]) {
    const s = await client.schedules.stop(id);
    rows.push([`recurring ${s.spec.kind}`, s.job, s.id, s.lastCompletedAt ? `last completed ${new Date(s.lastCompletedAt).toISOString()}` : 'no run yet', '-', '-']);
  }
  table(['kind', 'job', 'id', 'status', 'attempt', 'ran'], rows);
  if (events) {
    const ids = new Set(kinds.map(([, t]) => t.id));
    const seen = (await events()).filter((e) => ids.has(e.taskId));
    const counts = new Map<string, number>();
    for (const e of seen) counts.set(`${e.from} -> ${e.to}`, (counts.get(`${e.from} -> ${e.to}`) ?? 0) + 1);
    console.log(`\nStatus events on the bus for these tasks, from the table's stream: ${[...counts].map(([k, n]) => `${k} x${n}`).join(', ') || 'none'}`);
  }
  const expected: Record<string, string> = { 'over its 2 s time limit': 'failed', 'cancelled before it ran': 'cancelled', 'cancelled while running': 'cancelled' };
  const wrong = kinds.filter(([kind, t]) => current.get(t.id)?.status !== (expected[kind] ?? 'completed'));
  console.log(`\nDemo done in ${((Date.now() - started) / 1000).toFixed(1)} s${wrong.length ? `; ${wrong.length} ended otherwise than expected: ${wrong.map(([k]) => k).join(', ')}` : ', every task ended as expected'}.`);
  if (wrong.length) process.exitCode = 1;

  step(5, 'the web console');
  const web = await serveConsole({ client, catalogue, aggregates: new AggregateStore(client.services.clients.doc, client.services.config.tableName), port: Number(process.env.JOBFLEET_CONSOLE_PORT ?? 4680) });
  cleanups.push(() => web.close());
  console.log(`  console: ${web.url}`);

  step(6, 'running: the local fleet and the console stay up');
  console.log(`  try:  npm run jobfleet -- list --status failed
        npm run jobfleet -- logs ${kinds[0]?.[1].id}
        npm run jobfleet -- local status
  Open ${web.url} — Ctrl-C stops the console, the fleet${up.localAwsStartedHere ? ' and the local AWS' : ''}.`);
  await new Promise(() => undefined);
}

function shortState(t: TaskRecord | undefined): string {
  if (!t) return '?';
  const p = t.status === 'running' && t.progress ? ` ${Math.round(t.progress.percent)}%` : '';
  return `${t.job} ${t.status}${p}${t.attempt > 1 ? ` #${t.attempt}` : ''}`;
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
  void stopAll(1);
});
