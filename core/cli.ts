#!/usr/bin/env node
/**
 * `jobfleet`: operate jobfleet from the shell, with the SDK for every action. It finds what to
 * talk to by itself: `--stack NAME` (a deployed stack's outputs), else JOBFLEET_* / AWS_* from the
 * environment, else the local fleet that `npm start` or `jobfleet local up` recorded.
 *
 *   jobfleet list --job report --status failed --from -1h
 *   jobfleet cancel --job crunch --status pending --dry-run
 *   jobfleet dashboard
 *
 * Every command takes --json. Exit codes: see EXIT in core/cli/output.ts.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import path from 'node:path';
import type { Catalogue } from './catalogue';
import { loadRuntimeConfig } from './config/runtime';
import { ConfigError, JobfleetError, ScheduleNotFoundError, TaskNotFoundError, TaskTimeoutError, ValidationError } from './errors';
import { isTerminal, TASK_STATUSES, type TaskRecord } from './model/task';
import { AggregateStore } from './ops/aggregate-store';
import { deadLetterOf, peekDeadLetters, redriveDeadLetters, type RunnerCounts } from './ops/fleet';
import { describeSpec, nextDueTimes, scheduleState } from './ops/schedule-words';
import { bulk, findTasks, parseFilter, type BulkAction, type TaskFilter } from './ops/task-filter';
import { ownLogKey } from './logs/log-location';
import { JobfleetClient } from './sdk/client';
import { resolveEnvironment } from './cli/environment';
import { alive, localDown, localProcesses, localUp } from './cli/local-fleet';
import { createOutput, EXIT, iso, table, type Output } from './cli/output';

interface FilterStrings {
  job?: string;
  status?: string;
  from?: string;
  to?: string;
  id?: string;
}
interface BulkOptions extends FilterStrings {
  dryRun?: boolean;
  max: number;
}

interface GlobalOptions {
  catalogue: string;
  json?: boolean;
  stack?: string;
  debug?: boolean;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`not JSON: ${value}`);
  }
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`not an integer: ${value}`);
  return n;
}

/** `throwInsteadOfExit`: usage errors throw instead of exiting the process (for tests and embedding). */
export function buildProgram(options: { throwInsteadOfExit?: boolean } = {}): Command {
  const program = new Command('jobfleet');
  if (options.throwInsteadOfExit) program.exitOverride();
  program
    .description('Operate jobfleet: tasks, schedules, the fleet, dead letters, the local fleet and the web console')
    .option('--catalogue <module>', 'job catalogue module', path.join(__dirname, '..', 'jobs', 'catalogue'))
    .option('--json', 'print JSON (for scripts) instead of tables')
    .option('--stack <name>', "read table, queues and bucket from this deployed stack's CloudFormation outputs")
    .option('--debug', 'print stack traces with errors')
    .showHelpAfterError();

  const g = () => program.opts<GlobalOptions>();
  const out = (): Output => createOutput(Boolean(g().json));
  let cached: Promise<{ client: JobfleetClient; catalogue: Catalogue; source: string; env: Record<string, string | undefined> }> | undefined;
  const load = () =>
    (cached ??= (async () => {
      const modulePath = path.resolve(g().catalogue);
      const loaded = (await import(modulePath)) as { default: Catalogue | { default: Catalogue } };
      const catalogue = 'jobs' in loaded.default ? loaded.default : loaded.default.default;
      const { env, source } = await resolveEnvironment({ ...(g().stack ? { stack: g().stack } : {}) });
      for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const) if (env[k] && !process.env[k]) process.env[k] = env[k];
      return { client: new JobfleetClient({ catalogue, config: loadRuntimeConfig(env) }), catalogue, source, env };
    })());
  const client = async () => (await load()).client;
  const showTask = (t: TaskRecord) => () => taskLines(t);

  const filterOptions = (cmd: Command) =>
    cmd
      .option('--job <name>', 'only this job')
      .addOption(new Option('--status <status>', 'only this status').choices([...TASK_STATUSES]))
      .option('--from <time>', 'created (or due, for occurrences) at or after: ISO time, epoch ms, or -1h / -30m / -2d')
      .option('--to <time>', 'created before (same forms)')
      .option('--id <taskId>', 'only this task');
  const filterOf = (o: FilterStrings): TaskFilter => parseFilter({ job: o.job, status: o.status, from: o.from, to: o.to, id: o.id }, Date.now());

  program
    .command('jobs')
    .description('the catalogue: each job with its limits, slots, class and declared schedules')
    .action(async () => {
      const { catalogue } = await load();
      const jobs = [...catalogue.jobs.values()].map(({ definition: d, snapshot: s }) => ({
        job: s.job,
        slots: s.slots,
        slotClass: s.slotClass,
        maxExecutionMs: s.maxExecutionMs,
        maxAttempts: s.maxAttempts,
        backoff: s.backoff,
        retentionMs: s.retentionMs,
        maxConcurrency: s.maxConcurrency,
        schedules: (d.schedules ?? []).map((x) => x.id),
      }));
      out().result({ jobs, classes: catalogue.fleet.classes }, () => [
        ...table(['job', 'slots', 'class', 'time limit', 'attempts', 'backoff', 'concurrency', 'schedules'], jobs.map((j) => [j.job, String(j.slots), j.slotClass, `${j.maxExecutionMs / 1000} s`, String(j.maxAttempts), `${j.backoff.initialMs} ms x${j.backoff.factor} <= ${j.backoff.maxMs} ms`, j.maxConcurrency ? String(j.maxConcurrency) : 'unlimited', j.schedules.join(', ') || '-'])),
        '',
        ...table(['slot class', 'slots/runner', 'cpu', 'memory', 'runners'], catalogue.fleet.classes.map((c) => [c.name, String(c.slotsPerRunner), String(c.cpu), `${c.memoryMiB} MiB`, `${c.minRunners}-${c.maxRunners}`])),
      ]);
    });

  program
    .command('schedule <job>')
    .description('schedule one task of <job>')
    .option('--args <json>', 'arguments as JSON', parseJson)
    .option('--at <date>', 'ISO 8601 time to run at')
    .option('--delay <duration>', 'e.g. "5 minutes" or milliseconds')
    .option('--priority <n>', 'higher runs first among equally due tasks (0-999)', parseInteger)
    .option('--idempotency-key <key>', 'schedule at most once per key')
    .option('--start-after <taskId>', 'run after this task completes')
    .option('--expires-at <date>', 'fail as expired if not started by then')
    .option('--hold', 'create it held; run it with `release`')
    .action(async (job: string, o: Record<string, unknown>) => {
      const task = await (await client()).schedule(job, o.args, {
        ...(o.at !== undefined ? { at: o.at as string } : {}),
        ...(o.delay !== undefined ? { delay: /^\d+$/.test(o.delay as string) ? Number(o.delay) : (o.delay as string) } : {}),
        ...(o.priority !== undefined ? { priority: o.priority as number } : {}),
        ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey as string } : {}),
        ...(o.startAfter !== undefined ? { startAfter: o.startAfter as string } : {}),
        ...(o.expiresAt !== undefined ? { expiresAt: o.expiresAt as string } : {}),
        ...(o.hold ? { hold: true } : {}),
      });
      out().result(task, showTask(task));
    });

  program.command('get <taskId>').description('show a task').action(async (id: string) => {
    const task = await (await client()).get(id);
    out().result(task, showTask(task));
  });
  program.command('release <taskId>').description('make a held task due now').action(async (id: string) => {
    const task = await (await client()).release(id);
    out().result(task, showTask(task));
  });

  filterOptions(program.command('cancel [taskId]').description('cancel a task, or every task a filter selects (a running one is asked to stop)'))
    .option('--dry-run', 'only count what would be cancelled')
    .option('--max <n>', 'act on at most this many tasks', parseInteger, 1000)
    .action(async (id: string | undefined, o: BulkOptions) => {
      if (id) {
        const task = await (await client()).cancel(id);
        return out().result(task, showTask(task));
      }
      await bulkCommand('cancel', o);
    });
  filterOptions(program.command('retry').description('give every failed one-off task a filter selects another attempt'))
    .option('--dry-run', 'only count what would be retried')
    .option('--max <n>', 'act on at most this many tasks', parseInteger, 1000)
    .action(async (o: BulkOptions) => bulkCommand('retry', { status: 'failed', ...o }));

  async function bulkCommand(action: BulkAction, o: BulkOptions): Promise<void> {
    const filter = filterOf(o);
    if (!filter.job && !filter.status && filter.from === undefined && filter.to === undefined && !filter.id) {
      throw new ValidationError('filter', `give a task id or a filter (--job, --status, --from, --to) for a bulk ${action}`);
    }
    const output = out();
    const { client: sdk, catalogue } = await load();
    const result = await bulk(sdk, action, filter, { dryRun: Boolean(o.dryRun), max: o.max, jobs: [...catalogue.jobs.keys()], onProgress: (done, of) => (done % 10 === 0 || done === of) && output.note(`${action}: ${done}/${of}`) });
    output.result(result, () => [
      `${result.matched}${result.truncated ? '+ (stopped at --max)' : ''} tasks match; ${result.eligible} can be ${action === 'cancel' ? 'cancelled' : 'retried'}${result.dryRun ? ' (dry run: nothing changed)' : `; ${result.done} done`}`,
      ...result.failed.map((f) => `  ${f.id}: ${f.error}`),
    ]);
    if (result.failed.length) process.exitCode = EXIT.failed;
  }

  program
    .command('reschedule <taskId>')
    .description('give a failed one-off task another attempt')
    .option('--at <date>', 'ISO 8601 time')
    .action(async (id: string, o: { at?: string }) => {
      const task = await (await client()).reschedule(id, o.at ? { at: o.at } : {});
      out().result(task, showTask(task));
    });

  filterOptions(program.command('list').description('tasks, newest first'))
    .option('--limit <n>', 'page size', parseInteger, 20)
    .option('--cursor <cursor>', 'the cursor a previous page printed')
    .action(async (o: FilterStrings & { limit: number; cursor?: string }) => {
      const { client: sdk, catalogue } = await load();
      const page = await findTasks(sdk, filterOf(o), { limit: o.limit, jobs: [...catalogue.jobs.keys()], ...(o.cursor ? { cursor: o.cursor } : {}) });
      out().result(page, () => [
        ...table(['id', 'job', 'status', 'attempt', 'due', 'ended', 'reason'], page.tasks.map((t) => [t.id, t.job, t.status, `${t.attempt}/${t.maxAttempts}`, iso(t.dueAt), iso(t.endedAt), t.error?.reason ?? ''])),
        ...(page.cursor ? [`more: --cursor ${page.cursor}`] : []),
      ]);
    });

  program
    .command('wait <taskId>')
    .description('wait until the task has ended for good; exit 0 only if it completed')
    .option('--timeout <ms>', 'give up after', parseInteger, 300_000)
    .action(async (id: string, o: { timeout: number }) => {
      const output = out();
      const sdk = await client();
      let last = '';
      const deadline = Date.now() + o.timeout;
      let task = await sdk.get(id);
      while (!(isTerminal(task.status) && task.effectsDone)) {
        const line = progressLine(task);
        if (line !== last) output.note(`${id} ${line}`);
        last = line;
        if (Date.now() >= deadline) throw new TaskTimeoutError(`task ${id} is still ${task.status} after ${o.timeout} ms`);
        await new Promise((r) => setTimeout(r, 500));
        task = await sdk.get(id);
      }
      output.result(task, showTask(task));
      if (task.status !== 'completed') process.exitCode = EXIT.failed;
    });

  program
    .command('logs <taskId>')
    .description("print a task's log from S3")
    .option('-f, --follow', 'show progress while it runs, then the log once uploaded')
    .option('--attempt <n>', 'that attempt (default: the latest)', parseInteger)
    .action(async (id: string, o: { follow?: boolean; attempt?: number }) => followLogs(await client(), out(), id, Boolean(o.follow), o.attempt));

  const schedules = program.command('schedules').description('recurring schedules');
  schedules.command('list').description('every schedule, its state and next run').action(async () => {
    const list = await (await client()).schedules.list();
    out().result(list, () => table(['id', 'job', 'when', 'state', 'next', 'last completed'], list.map((s) => [s.id, s.job, describeSpec(s.spec), scheduleState(s), s.active ? iso(s.nextDueAt) : '-', iso(s.lastCompletedAt)])));
  });
  schedules
    .command('next <scheduleId>')
    .description('the next occurrences of a schedule')
    .option('-n <count>', 'how many', parseInteger, 5)
    .action(async (id: string, o: { n: number }) => {
      const s = await (await client()).schedules.get(id);
      const times = nextDueTimes(s, o.n);
      out().result({ id: s.id, when: describeSpec(s.spec), state: scheduleState(s), next: times.map((t) => new Date(t).toISOString()) }, () => [`${s.id}: ${describeSpec(s.spec)} (${scheduleState(s)})`, ...(times.length ? times.map(iso) : ['no upcoming occurrence'])]);
    });
  schedules
    .command('run-now <scheduleId>')
    .description("run the schedule's job once now, with its arguments (the schedule itself is unchanged)")
    .action(async (id: string) => {
      const sdk = await client();
      const s = await sdk.schedules.get(id);
      const task = await sdk.schedule(s.job, s.args, { priority: s.priority });
      out().result(task, showTask(task));
    });
  for (const verb of ['pause', 'resume', 'stop'] as const) {
    schedules.command(`${verb} <scheduleId>`).description(`${verb} a schedule`).action(async (id: string) => {
      const s = await (await client()).schedules[verb](id);
      out().result(s, () => `${s.id}: ${scheduleState(s)}${s.active ? `, next ${iso(s.nextDueAt)}` : ''}`);
    });
  }
  const sync = async () => {
    const report = await (await client()).schedules.sync();
    out().result(report, () => `created ${report.created.length}, updated ${report.updated.length}, stopped ${report.stopped.length}`);
  };
  schedules.command('sync').description('reconcile the schedules declared in the catalogue').action(sync);
  program.command('sync').description('reconcile the schedules declared in the catalogue').action(sync);

  const dlq = program.command('dlq').description("the slot classes' dead-letter queues (poison messages)");
  dlq
    .command('list')
    .description('depth and the first messages of each dead-letter queue')
    .option('--class <name>', 'only this slot class')
    .action(async (o: { class?: string }) => {
      const sdk = await client();
      const rows: { class: string; deadLetterQueue?: string; depth: number; messages: Awaited<ReturnType<typeof peekDeadLetters>> }[] = [];
      for (const [name, url] of Object.entries(sdk.services.config.queueUrls)) {
        if (o.class && o.class !== name) continue;
        const dl = await deadLetterOf(sdk.services.clients.sqs, url);
        rows.push({ class: name, ...(dl ? { deadLetterQueue: dl.url } : {}), depth: dl?.depth ?? 0, messages: dl ? await peekDeadLetters(sdk.services.clients.sqs, dl.url, 10) : [] });
      }
      out().result(rows, () => [...table(['class', 'depth', 'dead-letter queue'], rows.map((r) => [r.class, String(r.depth), r.deadLetterQueue ?? '(none)'])), ...rows.flatMap((r) => r.messages.map((m) => `  ${r.class} ${m.messageId}: ${m.body.slice(0, 120)}`))]);
    });
  dlq
    .command('redrive')
    .description('move dead letters back to their class queue')
    .option('--class <name>', 'only this slot class')
    .option('--max <n>', 'at most this many per class', parseInteger, 1000)
    .action(async (o: { class?: string; max: number }) => {
      const sdk = await client();
      const output = out();
      const moved: Record<string, number> = {};
      for (const [name, url] of Object.entries(sdk.services.config.queueUrls)) {
        if (o.class && o.class !== name) continue;
        const dl = await deadLetterOf(sdk.services.clients.sqs, url);
        moved[name] = dl ? await redriveDeadLetters(sdk.services.clients.sqs, dl.url, url, o.max, (n) => output.note(`${name}: ${n} moved`)) : 0;
      }
      output.result(moved, () => Object.entries(moved).map(([k, n]) => `${k}: moved ${n} dead letters back`));
    });

  program
    .command('dashboard')
    .description('serve the web console (127.0.0.1 unless --host; beyond loopback it needs --token or JOBFLEET_CONSOLE_TOKEN)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0: any free one)', parseInteger, 4680)
    .option('--read-only', 'refuse every action (the server rejects every non-GET request)')
    .option('--token <token>', 'require this token (Authorization: Bearer, basic-auth password, or ?token= once)')
    .action(async (o: { host: string; port: number; readOnly?: boolean; token?: string }) => {
      const { client: sdk, catalogue, source, env } = await load();
      const { serveConsole } = await import('../functions/console/server');
      const token = o.token ?? process.env.JOBFLEET_CONSOLE_TOKEN;
      const user = process.env.JOBFLEET_CONSOLE_USER;
      const password = process.env.JOBFLEET_CONSOLE_PASSWORD;
      const auth = token ? { token } : user && password ? { user, password } : undefined;
      const runners = await runnerCountsFromEnvironment(sdk, env.JOBFLEET_FLEET_SERVICES);
      const running = await serveConsole({ client: sdk, catalogue, aggregates: new AggregateStore(sdk.services.clients.doc, sdk.services.config.tableName), host: o.host, port: o.port, readOnly: Boolean(o.readOnly), ...(auth ? { auth } : {}), ...(runners ? { runners } : {}) });
      out().result({ url: running.url, source, readOnly: Boolean(o.readOnly) }, () => `jobfleet console on ${running.url} (${source}${o.readOnly ? ', read-only' : ''}); Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => void running.close().then(resolve));
      });
    });

  const local = program.command('local').description('the local fleet: local AWS, a ticker, runners and the status-event consumer as background processes');
  local.command('up').description('start the local AWS (if needed), provision it, start the fleet').action(async () => {
    const output = out();
    const up = await localUp((line) => output.note(line));
    output.result({ endpoint: up.endpoint, processes: up.processes }, () => [`local fleet up on ${up.endpoint}`, ...table(['process', 'pid', 'log'], up.processes.map((p) => [p.name, String(p.pid), p.log]))]);
  });
  local.command('down').description('stop the fleet processes `local up` started (the local AWS keeps running: npm run local-aws -- stop)').action(async () => {
    const output = out();
    const stopped = await localDown((line) => output.note(line));
    output.result({ stopped }, () => (stopped.length ? `stopped ${stopped.map((p) => p.name).join(', ')}` : 'nothing was running'));
  });
  local.command('status').description('which fleet processes run, and whether the local AWS answers').action(async () => {
    const { readLocalEnvironment } = await import('./cli/environment');
    const env = readLocalEnvironment();
    const endpoint = env?.AWS_ENDPOINT_URL;
    const answers = endpoint ? await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false) : false;
    const procs = localProcesses().map((p) => ({ ...p, running: alive(p.pid) }));
    out().result({ endpoint, localAws: answers, processes: procs }, () => [`local AWS: ${endpoint ?? '(never started here)'} ${answers ? 'answers' : 'does not answer'}`, ...table(['process', 'pid', 'state', 'log'], procs.map((p) => [p.name, String(p.pid), p.running ? 'running' : 'stopped', p.log]))]);
    if (!answers || procs.some((p) => !p.running) || procs.length === 0) process.exitCode = EXIT.failed;
  });
  return program;
}

const progressLine = (t: TaskRecord) => `${t.status}${t.progress ? ` ${Math.round(t.progress.percent)}% ${t.progress.message ?? ''}` : ''}`.trim();

function taskLines(t: TaskRecord): string[] {
  const rows: [string, string][] = [
    ['id', t.id],
    ['job', `${t.job} (${t.slots} slot${t.slots === 1 ? '' : 's'}, class ${t.slotClass})`],
    ['status', `${t.status}${t.cancelRequested ? ' (cancel requested)' : ''}${t.held ? ' (held)' : ''}`],
    ['attempt', `${t.attempt} of ${t.maxAttempts}`],
    ['due', iso(t.dueAt)],
    ...(t.startedAt ? ([['started', iso(t.startedAt)]] as [string, string][]) : []),
    ...(t.endedAt ? ([['ended', iso(t.endedAt)]] as [string, string][]) : []),
    ...(t.progress ? ([['progress', `${Math.round(t.progress.percent)}% ${t.progress.message ?? ''}`]] as [string, string][]) : []),
    ...(t.error ? ([['error', `${t.error.reason}: ${t.error.message}`]] as [string, string][]) : []),
    ...(t.scheduleId ? ([['schedule', t.scheduleId]] as [string, string][]) : []),
    ...(t.logS3Key ? ([['log', t.logS3Key]] as [string, string][]) : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
}

/** Follows a task: progress while it runs, then its log once uploaded. */
async function followLogs(client: JobfleetClient, output: Output, taskId: string, follow: boolean, attempt?: number): Promise<void> {
  let last = '';
  let task = await client.get(taskId);
  while (follow && !(isTerminal(task.status) && task.effectsDone)) {
    const line = progressLine(task);
    if (line !== last) output.note(`[${new Date().toISOString()}] ${taskId} ${line}`);
    last = line;
    await new Promise((r) => setTimeout(r, 1000));
    task = await client.get(taskId);
  }
  if (attempt === undefined || attempt === task.attempt) {
    // The latest attempt's log may be a range of a batch object: the SDK reads it with one ranged GET.
    const read = follow ? await client.waitForLog(taskId) : await client.readLog(task);
    if (read.state !== 'available') throw new TaskNotFoundError(`${taskId}'s log: ${read.message}${read.state === 'pending' && !follow ? ' (use --follow to wait for it)' : ''}`);
    if (output.json) output.result({ taskId, key: task.logS3Key, log: read.text });
    else process.stdout.write(read.text);
    return;
  }
  // An earlier attempt: only a log large enough to have had its own object is still addressable.
  const key = ownLogKey(task.job, task.id, attempt);
  const object = await client.services.clients.s3.send(new GetObjectCommand({ Bucket: client.services.config.bucket, Key: key })).catch(() => undefined);
  if (!object) throw new TaskNotFoundError(`${taskId}'s log of attempt ${attempt}: only the latest attempt's log, or a large one (1 MiB and more), can be read`);
  const text = (await object.Body?.transformToString()) ?? '';
  if (output.json) output.result({ taskId, key, log: text });
  else process.stdout.write(text);
}

/** ECS runner counts for the console when the environment says where the runners run (`--stack` sets it). */
async function runnerCountsFromEnvironment(sdk: JobfleetClient, json: string | undefined): Promise<RunnerCounts | undefined> {
  if (!json) return undefined;
  const { ECSClient } = await import('@aws-sdk/client-ecs');
  const { ecsRunnerCounts, parseFleetServices } = await import('./ops/ecs-runners');
  const { region, endpoint } = sdk.services.config;
  return ecsRunnerCounts(new ECSClient({ region, ...(endpoint ? { endpoint } : {}) }), parseFleetServices(json));
}

/** The exit code for an error, and its message without a stack trace (unless --debug). */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof TaskNotFoundError || err instanceof ScheduleNotFoundError) return EXIT.notFound;
  if (err instanceof ValidationError) return EXIT.usage;
  if (err instanceof TaskTimeoutError) return EXIT.timeout;
  if (err instanceof ConfigError) return EXIT.config;
  const name = (err as { name?: string })?.name ?? '';
  if (name === 'ResourceNotFoundException' || name === 'QueueDoesNotExist' || name === 'NoSuchBucket') return EXIT.config;
  if (ACCESS_DENIED.test(name)) return EXIT.config;
  if (/Credentials|ECONNREFUSED|ENOTFOUND|TimeoutError|UnrecognizedClient|InvalidSignature/i.test(`${name} ${(err as Error)?.message ?? ''}`)) return EXIT.config;
  return EXIT.failed;
}

const ACCESS_DENIED = /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|AuthorizationError)$/;

/** An AWS error in words that say what to do about it (the message alone, for anything else). */
export function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const name = (err as { name?: string })?.name ?? '';
  if (ACCESS_DENIED.test(name)) {
    return `${message}: these AWS credentials may not do that. Scheduling needs what JobfleetStack.grantEnqueue grants, logs need grantLogReads, and list, dead letters and the console's fleet page need the operator grants in docs/deploy.md`;
  }
  if (name === 'ResourceNotFoundException') return `${message}: the table does not exist here. Run \`npm start\` (or \`jobfleet local up\`) for the local fleet, or pass --stack NAME for a deployed one`;
  if (/Credentials/i.test(`${name} ${message}`)) return `no AWS credentials: ${message}. For the local fleet run \`npm start\` first; for AWS configure credentials (e.g. AWS_PROFILE) and pass --stack NAME`;
  if (/ECONNREFUSED/.test(message)) return `cannot reach AWS (${message}); is the local AWS running? \`jobfleet local status\``;
  return message;
}

if (require.main === module) {
  const debug = process.argv.includes('--debug');
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      const code = exitCodeOf(err);
      if (err instanceof CommanderError) process.exit(code);
      console.error(debug ? err : `jobfleet: ${err instanceof JobfleetError ? err.message : messageOf(err)}`);
      process.exit(code);
    });
}
