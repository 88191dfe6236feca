/**
 * Ticker benchmark against the local AWS (AWS_ENDPOINT_URL): dispatch lag of a burst, claim
 * throughput next to the emulator's raw conditional-write rate, AWS calls per dispatched task,
 * and DynamoDB read units per tick with and without a large future backlog.
 */
import { BatchWriteCommand, UpdateCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { FleetConfig } from '../core/config/fleet';
import { DEFAULT_BACKOFF } from '../core/model/backoff';
import { schedSk, schedPk, newTaskId, newToken, shardOf, taskKey } from '../core/model/keys';
import { newTask } from '../core/model/new-task';
import type { JobSnapshot, TaskRecord } from '../core/model/task';
import type { AwsClients } from '../core/store/aws-clients';
import { newTaskItem } from '../core/store/task-item';
import { createTickerLogger } from '../functions/ticker/create';
import { runLoop, sleep } from '../functions/ticker/loop';
import { noMetrics } from '../functions/ticker/metrics';
import { SqsDispatcher, type DispatchSender } from '../functions/ticker/sqs-dispatcher';
import { Ticker } from '../functions/ticker/tick';
import { createTestEnvironment, type TestEnvironment } from '../test/support/resources';
import { countCalls, itemBytes, readUnits } from './call-counter';
import { round, writeSection } from './results';

const BENCH_FLEET: FleetConfig = {
  classes: [
    { name: 'small', slotsPerRunner: 4, cpu: 512, memoryMiB: 1024, minRunners: 0, maxRunners: 2000 },
    { name: 'large', slotsPerRunner: 16, cpu: 2048, memoryMiB: 4096, minRunners: 0, maxRunners: 10 },
  ],
};
const JOB: JobSnapshot = {
  job: 'bench',
  slots: 1,
  slotClass: 'small',
  maxExecutionMs: 60_000,
  maxAttempts: 3,
  backoff: DEFAULT_BACKOFF,
  retentionMs: 86_400_000,
  maxConcurrency: 0,
};
const CLAIM_CONCURRENCY = 24;
const BURST = 100;
const THROUGHPUT_TASKS = 5000;
const RAW_WRITES = 2000;
const FUTURE_TASKS = 100_000;

const logger = createTickerLogger(process.env.BENCH_LOG_LEVEL ?? 'warn');

function environment(prefix: string): Promise<TestEnvironment> {
  // A long dispatch window: nothing runs the tasks here, and put-backs would blur the figures.
  return createTestEnvironment(prefix, { fleet: BENCH_FLEET, env: { JOBFLEET_DISPATCH_WINDOW_MS: '600000' } });
}

function ticker(env: TestEnvironment, options: { lookaheadMs?: number; sender?: DispatchSender } = {}): Ticker {
  const { services } = env;
  return new Ticker({
    lifecycle: services,
    config: services.config,
    fleet: BENCH_FLEET,
    sender: options.sender ?? new SqsDispatcher(services.clients.sqs, services.config.queueUrls),
    logger,
    metrics: noMetrics,
    options: { claimConcurrency: CLAIM_CONCURRENCY, lookaheadMs: options.lookaheadMs ?? 1000 },
  });
}

async function batchWrite(env: TestEnvironment, items: readonly Record<string, unknown>[], parallel = 16): Promise<void> {
  const table = env.config.tableName;
  let next = 0;
  const worker = async () => {
    for (let i = next; i < items.length; i = next) {
      next += 25;
      let requests: unknown[] | undefined = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      while (requests?.length) {
        const res: BatchWriteCommandOutput = await env.clients.doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests as never } }));
        requests = res.UnprocessedItems?.[table];
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

const putTasks = (env: TestEnvironment, tasks: readonly TaskRecord[]) => batchWrite(env, tasks.map((t) => newTaskItem(t, env.config.shards)));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

/** Read units as AWS bills them, from the sizes of the items each read returns (minimum per call). */
function meterReads(clients: AwsClients) {
  const meter = { units: 0, calls: 0 };
  clients.dynamodb.middlewareStack.add(
    ((next: (a: unknown) => Promise<{ output: Record<string, unknown> }>, context: { commandName?: string }) =>
      async (args: { input?: { ConsistentRead?: boolean } }) => {
        const res = await next(args);
        const name = (context.commandName ?? '').replace(/Command$/, '');
        const out = res.output;
        let items: Record<string, unknown>[] | undefined;
        if (name === 'Query' || name === 'Scan') items = out.Items as Record<string, unknown>[];
        else if (name === 'GetItem') items = out.Item ? [out.Item as Record<string, unknown>] : [];
        else if (name === 'BatchGetItem') items = Object.values((out.Responses ?? {}) as Record<string, Record<string, unknown>[]>).flat();
        if (items) {
          const consistent = Boolean(args.input?.ConsistentRead);
          const bytes = items.reduce((a, i) => a + itemBytes(i), 0);
          meter.units += Math.max(readUnits(bytes, consistent), consistent ? 1 : 0.5);
          meter.calls++;
        }
        return res;
      }) as never,
    { step: 'initialize', name: 'jobfleetBenchReadMeter' } as never,
  );
  return meter;
}

// ---------------------------------------------------------------- dispatch lag of a burst

interface BurstLag {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Tasks sent within 50 ms of their due time: claimed ahead, before it came. */
  readonly onTime: number;
}

async function burstLag(lookaheadMs: number): Promise<BurstLag> {
  const env = await environment('bench-burst');
  try {
    const sentAt = new Map<string, number>();
    const inner = new SqsDispatcher(env.clients.sqs, env.config.queueUrls);
    const sender: DispatchSender = {
      async send(slotClass, messages) {
        const result = await inner.send(slotClass, messages);
        const at = Date.now();
        const failed = new Set(result.failed.map((m) => m.taskId));
        for (const m of messages) if (!failed.has(m.taskId)) sentAt.set(m.taskId, at);
        return result;
      },
    };
    const t = ticker(env, { lookaheadMs, sender });
    // Due well after the writes are done, however slow the machine; the loop then starts 1.5 to
    // 2.5 s before the due time, so its phase relative to it is arbitrary.
    const dueAt = Date.now() + 20_000;
    const tasks = Array.from({ length: BURST }, () => newTask(JOB, { args: null, dueAt }, Date.now()));
    await putTasks(env, tasks);
    const startAt = dueAt - 1500 - Math.floor(Math.random() * 1000);
    if (Date.now() > startAt) throw new Error(`writing ${BURST} tasks took more than 17.5 s`);
    await sleep(startAt - Date.now());
    await runLoop({
      tick: (now) => t.tick(now),
      clock: Date.now,
      sleep,
      intervalMs: 1000,
      minGapMs: t.options.minTickGapMs,
      shouldContinue: (now) => sentAt.size < BURST && now < dueAt + 15_000,
      onError: (err) => logger.error({ err }, 'tick failed'),
    });
    const lags = tasks.map((task) => (sentAt.get(task.id) ?? Number.NaN) - dueAt);
    return { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), max: Math.max(...lags), onTime: lags.filter((l) => l <= 50).length };
  } finally {
    await env.cleanup();
  }
}

// ---------------------------------------------------------------- claim throughput and calls per task

interface Throughput {
  claimed: number;
  seconds: number;
  ticks: number;
  claimsPerSecond: number;
  rawPerSecond: number;
  rawBefore: number;
  rawAfter: number;
  callsPerTask: Record<string, number>;
}

/** Raw conditional writes per second, the claim's own (pending -> queued, new token), `CLAIM_CONCURRENCY` in flight. */
async function rawWrites(env: TestEnvironment, raw: readonly TaskRecord[], now: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < raw.length; i = next++) {
      const task = raw[i] as TaskRecord;
      await env.clients.doc.send(
        new UpdateCommand({
          TableName: env.config.tableName,
          Key: taskKey(task.id),
          UpdateExpression: 'SET #status = :queued, #token = :new, #queuedAt = :now, #checkAt = :checkAt',
          ConditionExpression: '#status = :pending AND #token = :old AND #sk1 = :dsk',
          ExpressionAttributeNames: { '#status': 'status', '#token': 'token', '#queuedAt': 'queuedAt', '#checkAt': 'checkAt', '#sk1': 'gsi1sk' },
          ExpressionAttributeValues: {
            ':queued': 'queued',
            ':pending': 'pending',
            ':new': newToken(),
            ':old': task.token,
            ':now': now,
            ':checkAt': now + 600_000,
            ':dsk': schedSk(task.dueAt, task.priority, task.id),
          },
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: CLAIM_CONCURRENCY }, worker));
  return raw.length / ((performance.now() - started) / 1000);
}

async function throughput(): Promise<Throughput> {
  const env = await environment('bench-tput');
  try {
    const now = Date.now();
    const tasks = Array.from({ length: THROUGHPUT_TASKS }, (_, i) => newTask(JOB, { args: null, dueAt: now - 1000 + (i % 100), priority: i % 10 }, now - 2000));
    await putTasks(env, tasks);
    // The same conditional write as a claim, with nothing else around it: half before the
    // ticker's run and half after, so a machine whose speed drifts meanwhile shows it.
    const raw = Array.from({ length: RAW_WRITES }, () => newTask(JOB, { args: null, dueAt: now }, now));
    await putTasks(env, raw.map((r) => ({ ...r, slotClass: 'raw' })));
    const rawBefore = await rawWrites(env, raw.slice(0, RAW_WRITES / 2), now);

    const counter = countCalls(env.clients);
    const t = ticker(env, { lookaheadMs: 0 });
    let claimed = 0;
    let dispatched = 0;
    let ticks = 0;
    const started = performance.now();
    while (claimed < THROUGHPUT_TASKS && ticks < 100) {
      const r = await t.tick(Date.now());
      ticks++;
      claimed += r.dispatch.claimed;
      dispatched += r.dispatch.dispatched;
      if (r.due === 0) break;
    }
    const seconds = (performance.now() - started) / 1000;
    const callsPerTask = Object.fromEntries(Object.entries(counter.snapshot()).map(([k, n]) => [k, n / Math.max(1, dispatched)]));

    const rawAfter = await rawWrites(env, raw.slice(RAW_WRITES / 2), now);
    const rawPerSecond = RAW_WRITES / (RAW_WRITES / 2 / rawBefore + RAW_WRITES / 2 / rawAfter);
    return { claimed, seconds, ticks, claimsPerSecond: claimed / seconds, rawPerSecond, rawBefore, rawAfter, callsPerTask };
  } finally {
    await env.cleanup();
  }
}

// ---------------------------------------------------------------- read units per tick vs. future backlog

async function readsPerTick(env: TestEnvironment, meter: { units: number; calls: number }, ticks = 5): Promise<{ units: number; calls: number; ms: number }> {
  const t = ticker(env, { lookaheadMs: 1000 });
  meter.units = 0;
  meter.calls = 0;
  const started = performance.now();
  for (let i = 0; i < ticks; i++) await t.tick(Date.now());
  return { units: meter.units / ticks, calls: meter.calls / ticks, ms: (performance.now() - started) / ticks };
}

async function backlogReads(): Promise<{ empty: { units: number; calls: number; ms: number }; backlog: { units: number; calls: number; ms: number }; writeSeconds: number }> {
  const env = await environment('bench-backlog');
  try {
    const meter = meterReads(env.clients);
    const empty = await readsPerTick(env, meter);
    // Future tasks as the due index sees them: keys plus the projected attributes, due tomorrow.
    const tomorrow = Date.now() + 86_400_000;
    const items = Array.from({ length: FUTURE_TASKS }, (_, i) => {
      const id = newTaskId(JOB.job, tomorrow + i);
      return {
        ...taskKey(id),
        type: 'task',
        id,
        status: 'pending',
        token: newToken(),
        job: JOB.job,
        slots: 1,
        slotClass: 'small',
        dueAt: tomorrow + i,
        gsi1pk: schedPk('small', shardOf(id, env.config.shards)),
        gsi1sk: schedSk(tomorrow + i, 100, id),
      };
    });
    const writeStarted = performance.now();
    await batchWrite(env, items, 32);
    const writeSeconds = (performance.now() - writeStarted) / 1000;
    const backlog = await readsPerTick(env, meter);
    return { empty, backlog, writeSeconds };
  } finally {
    await env.cleanup();
  }
}

// ---------------------------------------------------------------- report

const ok = (pass: boolean) => (pass ? 'OK' : 'MISSED');
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

export async function benchTicker(): Promise<void> {
  const out = (line = '') => console.log(line);
  const row = (label: string, result: string, target = '', verdict = '') => out(`  ${label.padEnd(46)} ${result.padEnd(22)} ${target.padEnd(16)} ${verdict}`);
  out(`Ticker benchmark  (endpoint ${process.env.AWS_ENDPOINT_URL ?? '(AWS)'}, 4 shards, ${CLAIM_CONCURRENCY} claims in flight)`);
  out();

  out(`Dispatch lag, due -> sent to SQS, burst of ${BURST} tasks due at once, tick 1 s`);
  // The first workload on a fresh emulator runs markedly slower (its JVM warming up): not counted.
  await burstLag(0);
  row('', 'p50 / p99 (max) ms, on time', 'target', '');
  const lagRow = (b: BurstLag) => `${fmt(b.p50)} / ${fmt(b.p99)} (${fmt(b.max)}), ${b.onTime} of ${BURST}`;
  const withLookahead = await burstLag(1000);
  row('look-ahead 1000 ms (default)', lagRow(withLookahead), 'p99 < 1200', ok(withLookahead.p99 < 1200));
  const without = await burstLag(0);
  row('look-ahead off (random tick phase)', lagRow(without), '(comparison)', '');
  out('  (on time: sent within 50 ms of the due time, having been claimed before it; the rest left as their claims completed)');
  out();

  out(`Claim throughput, ${THROUGHPUT_TASKS.toLocaleString('en')} tasks due at once`);
  const tp = await throughput();
  row('ticker: claimed tasks / s', `${fmt(tp.claimsPerSecond)}  (${tp.claimed} in ${fmt(tp.seconds, 1)} s, ${tp.ticks} ticks)`);
  row(`raw conditional UpdateItem / s (${CLAIM_CONCURRENCY} in flight)`, `${fmt(tp.rawPerSecond)}  (before ${fmt(tp.rawBefore)}, after ${fmt(tp.rawAfter)})`);
  const ratio = tp.claimsPerSecond / tp.rawPerSecond;
  row('ticker / raw', `${fmt(ratio * 100)} %`, '>= 60 %', ok(ratio >= 0.6));
  out();

  out('AWS calls per dispatched task (same run)');
  for (const [op, n] of Object.entries(tp.callsPerTask)) row(op, fmt(n, 4));
  const sum = (prefix: string) => Object.entries(tp.callsPerTask).reduce((a, [k, n]) => (k.startsWith(prefix) ? a + n : a), 0);
  row('DynamoDB, all operations', fmt(sum('DynamoDB.'), 4), '<= 1.2', ok(sum('DynamoDB.') <= 1.2));
  row('SQS, all operations', fmt(sum('SQS.'), 4), '<= 0.1', ok(sum('SQS.') <= 0.1 + 1e-9));
  out();

  out('DynamoDB read units per tick, nothing due (from returned item sizes; queries on the index are eventually consistent)');
  const reads = await backlogReads();
  row('empty table', `${fmt(reads.empty.units, 1)} RRU  (${fmt(reads.empty.calls)} reads, ${fmt(reads.empty.ms)} ms)`);
  row(`${FUTURE_TASKS.toLocaleString('en')} future tasks (written in ${fmt(reads.writeSeconds)} s)`, `${fmt(reads.backlog.units, 1)} RRU  (${fmt(reads.backlog.calls)} reads, ${fmt(reads.backlog.ms)} ms)`);
  const growth = reads.backlog.units / reads.empty.units - 1;
  row('difference', `${fmt(growth * 100, 1)} %`, 'within 10 %', ok(Math.abs(growth) <= 0.1));
  out();
  writeSection('ticker', {
    burstLagMs: { p50: round(withLookahead.p50, 0), p99: round(withLookahead.p99, 0), max: round(withLookahead.max, 0) },
    burstOnTime: withLookahead.onTime,
    burstLagNoLookaheadMs: { p50: round(without.p50, 0), p99: round(without.p99, 0) },
    emptyTickMs: round(reads.empty.ms, 0),
    claimsPerSecond: round(tp.claimsPerSecond, 1),
    rawWritesPerSecond: round(tp.rawPerSecond, 1),
    rawWritesPerSecondBeforeAfter: [round(tp.rawBefore, 1), round(tp.rawAfter, 1)],
    claimRateVsRaw: round(ratio, 3),
    callsPerTask: Object.fromEntries(Object.entries(tp.callsPerTask).map(([k, v]) => [k, round(v, 4)])),
    readUnitsPerTick: { empty: round(reads.empty.units, 2), backlog: round(reads.backlog.units, 2) },
  });
}
