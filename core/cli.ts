#!/usr/bin/env node
/**
 * `jobfleet`: the SDK from the shell. Configured like every jobfleet process (JOBFLEET_*, AWS_*
 * environment); `--catalogue` names the job catalogue module (default: jobs/catalogue).
 *
 *   jobfleet schedule report --args '{"title":"Q3"}' --delay "5 minutes"
 *   jobfleet logs <taskId> --follow
 */
import { Command, InvalidArgumentError } from 'commander';
import path from 'node:path';
import type { Catalogue } from './catalogue';
import { JobfleetError } from './errors';
import { isTerminal, TASK_STATUSES, type TaskRecord, type TaskStatus } from './model/task';
import { JobfleetClient } from './sdk/client';

const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));

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

async function loadClient(program: Command): Promise<JobfleetClient> {
  const modulePath = path.resolve(program.opts<{ catalogue: string }>().catalogue);
  const loaded = (await import(modulePath)) as { default: Catalogue | { default: Catalogue } };
  const catalogue = 'jobs' in loaded.default ? loaded.default : loaded.default.default;
  return new JobfleetClient({ catalogue });
}

/** Follows a task: progress while it runs, then its log once uploaded. */
async function followLogs(client: JobfleetClient, taskId: string, follow: boolean): Promise<void> {
  let lastProgress = '';
  let task: TaskRecord = await client.get(taskId);
  while (follow && !(isTerminal(task.status) && task.effectsDone)) {
    const line = `${task.status}${task.progress ? ` ${Math.round(task.progress.percent)}% ${task.progress.message ?? ''}` : ''}`;
    if (line !== lastProgress) console.error(`[${new Date().toISOString()}] ${taskId} ${line}`);
    lastProgress = line;
    await new Promise((r) => setTimeout(r, 1000));
    task = await client.get(taskId);
  }
  const read = follow ? await client.waitForLog(taskId) : await client.readLog(task);
  if (read.state === 'available') {
    process.stdout.write(read.text);
    return;
  }
  console.error(read.state === 'pending' && !follow ? `${read.message} (use --follow to wait for it)` : read.message);
  if (read.state === 'lost') process.exitCode = 1;
}

/** `throwInsteadOfExit`: usage errors throw instead of exiting the process (for tests and embedding). */
export function buildProgram(options: { throwInsteadOfExit?: boolean } = {}): Command {
  const program = new Command('jobfleet');
  if (options.throwInsteadOfExit) program.exitOverride();
  program
    .description('Schedule and follow jobfleet tasks')
    .option('--catalogue <module>', 'job catalogue module', path.join(__dirname, '..', 'jobs', 'catalogue'))
    .showHelpAfterError();

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
      const client = await loadClient(program);
      json(
        await client.schedule(job, o.args, {
          ...(o.at !== undefined ? { at: o.at as string } : {}),
          ...(o.delay !== undefined ? { delay: /^\d+$/.test(o.delay as string) ? Number(o.delay) : (o.delay as string) } : {}),
          ...(o.priority !== undefined ? { priority: o.priority as number } : {}),
          ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey as string } : {}),
          ...(o.startAfter !== undefined ? { startAfter: o.startAfter as string } : {}),
          ...(o.expiresAt !== undefined ? { expiresAt: o.expiresAt as string } : {}),
          ...(o.hold ? { hold: true } : {}),
        }),
      );
    });

  program.command('get <taskId>').description('show a task').action(async (id: string) => json(await (await loadClient(program)).get(id)));
  program.command('release <taskId>').description('make a held task due now').action(async (id: string) => json(await (await loadClient(program)).release(id)));
  program.command('cancel <taskId>').description('cancel a task (a running one is asked to stop)').action(async (id: string) => json(await (await loadClient(program)).cancel(id)));
  program
    .command('reschedule <taskId>')
    .description('give a failed one-off task another attempt')
    .option('--at <date>', 'ISO 8601 time')
    .action(async (id: string, o: { at?: string }) => json(await (await loadClient(program)).reschedule(id, o.at ? { at: o.at } : {})));

  program
    .command('list')
    .description('tasks, newest first')
    .option('--job <name>')
    .option('--status <status>', TASK_STATUSES.join(' | '))
    .option('--limit <n>', 'page size', parseInteger, 20)
    .option('--cursor <cursor>', 'the cursor a previous page printed')
    .action(async (o: { job?: string; status?: TaskStatus; limit: number; cursor?: string }) => {
      const page = await (await loadClient(program)).list(o);
      for (const t of page.tasks) console.log([t.id, t.job, t.status.padEnd(9), `attempt ${t.attempt}`, new Date(t.dueAt).toISOString()].join('  '));
      if (page.cursor) console.log(`more: --cursor ${page.cursor}`);
    });

  program
    .command('wait <taskId>')
    .description('wait until the task has ended for good')
    .option('--timeout <ms>', 'give up after', parseInteger, 300_000)
    .action(async (id: string, o: { timeout: number }) => {
      const task = await (await loadClient(program)).waitFor(id, { timeoutMs: o.timeout });
      json(task);
      if (task.status !== 'completed') process.exitCode = 1;
    });

  program
    .command('logs <taskId>')
    .description("print a task's log from S3")
    .option('-f, --follow', 'show progress while it runs, then the log once uploaded')
    .action(async (id: string, o: { follow?: boolean }) => followLogs(await loadClient(program), id, Boolean(o.follow)));

  const schedules = program.command('schedules').description('recurring schedules');
  schedules.command('list').action(async () => {
    for (const s of await (await loadClient(program)).schedules.list()) {
      const spec = s.spec.kind === 'cron' ? `cron "${s.spec.expression}" ${s.spec.timezone}` : s.spec.kind === 'interval' ? `every ${s.spec.everyMs} ms` : 'computed';
      console.log([s.id, s.job, spec, s.stopped ? 'stopped' : s.active ? 'active' : 'paused', `next ${new Date(s.nextDueAt).toISOString()}`].join('  '));
    }
  });
  for (const verb of ['pause', 'resume', 'stop'] as const) {
    schedules.command(`${verb} <scheduleId>`).action(async (id: string) => json(await (await loadClient(program)).schedules[verb](id)));
  }
  program.command('sync').description('reconcile the schedules declared in the catalogue').action(async () => json(await (await loadClient(program)).schedules.sync()));
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      console.error(err instanceof JobfleetError ? `jobfleet: ${err.message}` : err);
      process.exit(1);
    });
}
