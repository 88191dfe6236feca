/**
 * What a small no-op task costs end to end: the SDK schedules it, the ticker claims and
 * dispatches it, a runner starts, runs and finishes it, all in this process against the local
 * AWS with every call counted and every DynamoDB write priced from the items themselves
 * (bench/write-units.ts). Run twice: status events off, and on (the default, terminal events),
 * where they come from the table's stream through the local poller (Lambda's stream reads are
 * free, so only the PutEvents calls are priced).
 *
 *   BENCH_COST_TASKS  tasks per run (default 100)
 */
import { CreateEventBusCommand, DeleteEventBusCommand } from '@aws-sdk/client-eventbridge';
import pino from 'pino';
import { EventBridgePublisher } from '../core/lifecycle/events';
import { createServices } from '../core/services';
import { runLocalStatusEvents } from '../functions/status-events/local-poller';
import { JobfleetClient } from '../core/sdk/client';
import { DEFAULT_TICKER_OPTIONS } from '../functions/ticker/config';
import { noMetrics } from '../functions/ticker/metrics';
import { SqsDispatcher } from '../functions/ticker/sqs-dispatcher';
import { Ticker } from '../functions/ticker/tick';
import repoCatalogue from '../jobs/catalogue';
import { awsClients, uniqueName } from '../test/support/aws';
import { createTestEnvironment } from '../test/support/resources';
import { countCalls } from './call-counter';
import { runnerDollarsPerTask, startQuiet, tickerDollarsPerTask } from './compute';
import { readResults, round, writeSection } from './results';
import { startInProcessRunner } from './in-process-runner';
import { meterWriteUnits } from './write-units';

/** On-demand list prices, us-east-1, USD per request or unit. */
const PRICE = {
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  sqsRequest: 0.4 / 1e6,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  event: 1 / 1e6,
};

interface CostRun {
  readonly ticks: number;
  /** Tasks whose logs shared one S3 PUT, on average (the log batcher's packing). */
  readonly tasksPerLogPut: number;
  /** Time spent inside ticks, per task (the ticker Lambda's busy time). */
  readonly tickMsPerTask: number;
  readonly writeUnits: Record<string, number>;
  readonly writeUnitsPerTask: number;
  readonly callsPerTask: Record<string, number>;
  readonly dollarsPerTask: number;
  readonly dollarsPerMillion: Record<string, number>;
}

async function costRun(tasks: number, events: boolean): Promise<CostRun> {
  const busName = events ? uniqueName('bench-cost-bus') : '';
  const env = await createTestEnvironment('bench-cost', {
    // Production-like timings: no heartbeat, put-back or reaper pass falls inside a no-op task.
    env: { JOBFLEET_DISPATCH_WINDOW_MS: '60000', JOBFLEET_LEASE_MS: '30000', JOBFLEET_GRACE_MS: '60000', JOBFLEET_EVENT_BUS: busName },
    stream: events,
  });
  const clients = awsClients();
  if (events) await clients.events.send(new CreateEventBusCommand({ Name: busName }));
  const calls = countCalls(clients);
  const units = meterWriteUnits(clients.dynamodb, env.clients.doc);
  const services = createServices(env.config, clients);
  const stopEvents = new AbortController();
  let published = 0;
  const publisher = new EventBridgePublisher(clients.events, busName);
  const consumer = events
    ? runLocalStatusEvents({ ...process.env, JOBFLEET_TABLE: env.config.tableName, JOBFLEET_EVENT_BUS: busName, JOBFLEET_LOG_LEVEL: 'warn' }, stopEvents.signal, {
        publisher: { publish: async (e) => (await publisher.publish(e), void (published += e.length)) },
        idleMs: 100,
      })
    : Promise.resolve();
  consumer.catch(() => undefined); // awaited below; a failure shows there
  const sdk = new JobfleetClient({ catalogue: repoCatalogue, services });
  const ticker = new Ticker({
    lifecycle: services,
    config: services.config,
    fleet: repoCatalogue.fleet,
    sender: new SqsDispatcher(clients.sqs, services.config.queueUrls),
    logger: pino({ level: 'silent' }),
    metrics: noMetrics,
    options: { lookaheadMs: 0 },
  });
  let ended = 0;
  const runner = await startInProcessRunner(env, services, { slots: 4, onTaskEnd: () => void ended++ });
  try {
    const ids: string[] = [];
    for (let i = 0; i < tasks; i += 10) {
      const batch = await Promise.all(Array.from({ length: Math.min(10, tasks - i) }, () => sdk.schedule('noop')));
      ids.push(...batch.map((t) => t.id));
    }
    // Everything is scheduled before the first tick, so the figures hold few empty ticks.
    const deadline = Date.now() + 120_000;
    let ticks = 0;
    let tickMs = 0;
    // Ticks start every tickIntervalMs, as the Lambda's loop does (functions/ticker/loop.ts):
    // its reads per task depend on that cadence.
    while (ended < tasks && Date.now() < deadline) {
      const tickStarted = performance.now();
      await ticker.tick(Date.now());
      const took = performance.now() - tickStarted;
      tickMs += took;
      ticks++;
      await new Promise((r) => setTimeout(r, Math.max(0, DEFAULT_TICKER_OPTIONS.tickIntervalMs - took)));
    }
    if (ended < tasks) throw new Error(`only ${ended} of ${tasks} tasks ended`);
    await runner.stop();
    const records = await env.services.store.getMany(ids);
    const unsettled = records.filter((t) => t.status !== 'completed' || !t.effectsDone).length;
    if (unsettled > 0) throw new Error(`${unsettled} tasks did not complete with their follow-up done`);
    if (events) {
      const until = Date.now() + 30_000;
      while (published < tasks && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      if (published < tasks) throw new Error(`only ${published} of ${tasks} status events were published`);
    }

    const perTask = (n: number) => n / tasks;
    const snapshot = calls.snapshot();
    const sum = (prefix: string, names?: string[]) =>
      Object.entries(snapshot)
        .filter(([k]) => k.startsWith(prefix) && (!names || names.some((n) => k.endsWith(`.${n}`))))
        .reduce((a, [, v]) => a + v, 0);
    // Reads: a strongly consistent read of a small item is one unit; queries of the empty
    // ticker partitions are counted as one unit each (an upper bound).
    const reads = sum('DynamoDB.', ['GetItem', 'BatchGetItem', 'Query']);
    const s3Puts = sum('S3.', ['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']);
    const dollars = {
      'DynamoDB writes': units.total() * PRICE.writeUnit,
      'DynamoDB reads (upper bound)': reads * PRICE.readUnit,
      SQS: sum('SQS.') * PRICE.sqsRequest,
      // PUT-class requests: single PUTs and every multipart call (batched logs, large logs and results).
      'S3 (log upload)': s3Puts * PRICE.s3Put,
      // Billed per event (up to 10 share a PutEvents call).
      EventBridge: published * PRICE.event,
    };
    return {
      ticks,
      tasksPerLogPut: s3Puts > 0 ? tasks / s3Puts : Number.NaN,
      tickMsPerTask: tickMs / tasks,
      writeUnits: Object.fromEntries(Object.entries(units.snapshot()).map(([k, v]) => [k, perTask(v)])),
      writeUnitsPerTask: perTask(units.total()),
      callsPerTask: Object.fromEntries(Object.entries(snapshot).map(([k, v]) => [k, perTask(v)])),
      dollarsPerTask: perTask(Object.values(dollars).reduce((a, b) => a + b, 0)),
      dollarsPerMillion: Object.fromEntries(Object.entries(dollars).map(([k, v]) => [k, perTask(v) * 1e6])),
    };
  } finally {
    await runner.stop();
    stopEvents.abort();
    await consumer;
    if (events) await clients.events.send(new DeleteEventBusCommand({ Name: busName })).catch(() => undefined);
    await env.cleanup();
  }
}

const f = (n: number, d = 2) => n.toFixed(d);

/** The ticker Lambda's memory (infra/constructs/ticker.ts default). */
const TICKER_MEMORY_GB = 256 / 1024;

/** Runner compute figures from this run's runner bench, or the last one recorded in bench/results.json. */
function runnerCompute(given?: { cpuSecondsPerTask: number; rssGbSecondsPerTask: number }): { cpuSecondsPerTask: number; rssGbSecondsPerTask: number; from: string } | undefined {
  if (given) return { ...given, from: 'this run\'s runner bench' };
  const runner = readResults().runner as { cpuSecondsPerTask?: number; rssGbSecondsPerTask?: number } | undefined;
  const runs = readResults().runs as Record<string, { commit: string }> | undefined;
  if (runner?.cpuSecondsPerTask === undefined) return undefined;
  return { cpuSecondsPerTask: runner.cpuSecondsPerTask, rssGbSecondsPerTask: runner.rssGbSecondsPerTask ?? Number.NaN, from: `bench/results.json (runner bench of ${runs?.runner?.commit ?? '?'})` };
}

export async function benchCost(given?: { cpuSecondsPerTask: number; rssGbSecondsPerTask: number }): Promise<void> {
  const tasks = Number(process.env.BENCH_COST_TASKS) || 100;
  const compute = runnerCompute(given);
  const smallClass = repoCatalogue.fleet.classes.find((c) => c.name === 'small');
  const classVcpu = (smallClass?.cpu ?? 512) / 1024;
  const classMemoryGb = (smallClass?.memoryMiB ?? 1024) / 1024;
  console.log(`\n== cost of a small no-op task, end to end (SDK -> ticker -> runner, ${tasks} tasks per run, write units priced from the items) ==`);
  const section: Record<string, unknown> = { dollarsPerMillion: {}, tasksPerRun: tasks };
  for (const events of [false, true]) {
    await startQuiet();
    const run = await costRun(tasks, events);
    const withoutCompute = run.dollarsPerTask * 1e6;
    const runnerPart = compute ? runnerDollarsPerTask({ ...compute, classVcpu, classMemoryGb }) : undefined;
    const tickerGbS = (run.tickMsPerTask / 1000) * TICKER_MEMORY_GB;
    const computeDollars = ((runnerPart?.dollars ?? Number.NaN) + tickerDollarsPerTask(tickerGbS)) * 1e6;
    const s3 = run.dollarsPerMillion['S3 (log upload)'] ?? 0;
    console.log(`\n-- status events ${events ? 'on (terminal events: the default)' : 'off'}; ${run.ticks} ticks (each queries every sched partition)`);
    console.log(`  DynamoDB write units/task ${f(run.writeUnitsPerTask)}   (${Object.entries(run.writeUnits).map(([k, v]) => `${k} ${f(v)}`).join(', ')})   budget: 7`);
    console.log(`  calls/task                ${Object.entries(run.callsPerTask).map(([k, v]) => `${k} ${f(v)}`).join(', ')}`);
    console.log(`  $ per million, no compute ${f(withoutCompute)} (${Object.entries(run.dollarsPerMillion).map(([k, v]) => `${k} ${f(v)}`).join(', ')})   target: <= ${events ? '7.00' : '6.00'}  ${withoutCompute <= (events ? 7 : 6) ? 'OK' : 'MISS'}`);
    console.log(
      `  compute per million       ${f(computeDollars)} = runner ${runnerPart ? `${f(runnerPart.dollars * 1e6)} (${f(runnerPart.vcpuSeconds * 1000, 1)} vCPU-ms + ${f(runnerPart.gbSeconds * 1000, 1)} GB-ms billed per task at the small class's ${classVcpu} vCPU / ${classMemoryGb} GB; from ${compute?.from})` : 'n/a (no runner bench figures yet)'} + ticker ${f(tickerDollarsPerTask(tickerGbS) * 1e6)} (${f(tickerGbS * 1000, 3)} GB-ms per task in ticks)`,
    );
    console.log(`  S3 per million            ${f(s3)} (${f(run.tasksPerLogPut, 1)} tasks' logs per PUT)   target: <= 0.50  ${s3 <= 0.5 ? 'OK' : 'MISS'}`);
    console.log(`  $ per million, total      ${f(withoutCompute + computeDollars)}`);
    (section.dollarsPerMillion as Record<string, unknown>)[events ? 'eventsOn' : 'eventsOff'] = {
      total: round(withoutCompute + computeDollars, 3),
      withoutCompute: round(withoutCompute, 3),
      compute: round(computeDollars, 3),
      s3: round(s3, 3),
      tasksPerLogPut: round(run.tasksPerLogPut, 2),
      breakdown: Object.fromEntries(Object.entries(run.dollarsPerMillion).map(([k, v]) => [k, round(v, 3)])),
      callsPerTask: Object.fromEntries(Object.entries(run.callsPerTask).map(([k, v]) => [k, round(v, 3)])),
      tickerGbSecondsPerTask: round(tickerGbS, 6),
      runnerVcpuSecondsPerTask: runnerPart ? round(runnerPart.vcpuSeconds, 4) : null,
      runnerGbSecondsPerTask: runnerPart ? round(runnerPart.gbSeconds, 4) : null,
    };
    if (!events) section.writeUnitsPerTask = round(run.writeUnitsPerTask, 2);
    else section.writeUnitsPerTaskEventsOn = round(run.writeUnitsPerTask, 2);
  }
  section.computeFrom = compute?.from ?? null;
  writeSection('cost', { ...section });
}

if (require.main === module) {
  benchCost().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
