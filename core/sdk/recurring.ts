import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { declaredScheduleSpec, type Catalogue } from '../catalogue';
import { ScheduleNotFoundError, ValidationError } from '../errors';
import { finishTask } from '../lifecycle/finish';
import { occurrenceId } from '../model/keys';
import { DEFAULT_PRIORITY } from '../model/new-task';
import { buildOccurrence } from '../model/occurrence';
import { firstOccurrence, parseCron, parseInterval } from '../model/schedule';
import type { ScheduleRecord, ScheduleSpec } from '../model/task';
import type { Services } from '../services';
import { parseTime, parseWith, RecurringOptionsSchema, type RecurringOptions } from './validation';

export interface SyncReport {
  readonly created: string[];
  readonly updated: string[];
  readonly stopped: string[];
}

/**
 * Recurring schedules: create, list, pause, resume, stop, and `sync` of the schedules declared
 * in the catalogue. Each schedule has exactly one upcoming occurrence; the next is created when
 * it ends (see core/lifecycle/finish.ts).
 */
export class RecurringSchedules {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly services: Services,
    private readonly now: () => number,
    private readonly validArgs: (args: unknown, job: string) => unknown,
  ) {}

  /**
   * Runs `job` on a cron expression (5 or 6 fields, with a time zone), every interval, or on dates
   * the job module computes (`computed: true`). Creating the same id twice returns the first.
   */
  async create(job: string, args: unknown, options: RecurringOptions): Promise<ScheduleRecord> {
    const opts = parseWith(RecurringOptionsSchema, options, 'options');
    const resolved = this.catalogue.get(job);
    const validArgs = this.validArgs(args, job);
    const kinds = [opts.cron !== undefined, opts.every !== undefined, opts.computed === true].filter(Boolean).length;
    if (kinds !== 1) throw new ValidationError('options', 'give exactly one of "cron", "every" or "computed: true"');
    if (opts.timezone !== undefined && opts.cron === undefined) throw new ValidationError('options.timezone', 'only applies to "cron" schedules');
    const spec: ScheduleSpec =
      opts.cron !== undefined
        ? (parseCron(opts.cron, opts.timezone ?? 'UTC', 'options.cron'), { kind: 'cron', expression: opts.cron, timezone: opts.timezone ?? 'UTC' })
        : opts.every !== undefined
          ? { kind: 'interval', everyMs: parseInterval(opts.every, 'options.every') }
          : { kind: 'computed' };
    const now = this.now();
    const id = opts.id ?? `${job}-${createHash('sha256').update(JSON.stringify([spec, validArgs])).digest('hex').slice(0, 12)}`;
    const firstAt = opts.startAt !== undefined ? Math.max(now, parseTime(opts.startAt, 'options.startAt')) : spec.kind === 'computed' ? now : (firstOccurrence(spec, now) as number);
    const schedule: ScheduleRecord = {
      id,
      job,
      args: validArgs,
      spec,
      missedRuns: opts.missedRuns ?? 'once',
      maxCatchUp: opts.maxCatchUp ?? 10,
      priority: opts.priority ?? DEFAULT_PRIORITY,
      active: true,
      nextDueAt: firstAt,
      createdAt: now,
      snapshot: resolved.snapshot,
    };
    await this.services.schedules.create(schedule, buildOccurrence(schedule, firstAt, now, undefined));
    return this.get(id);
  }

  async get(id: string): Promise<ScheduleRecord> {
    const schedule = await this.services.schedules.get(id);
    if (!schedule) throw new ScheduleNotFoundError(id);
    return schedule;
  }

  list(): Promise<ScheduleRecord[]> {
    return this.services.schedules.list();
  }

  /** Stops creating occurrences and cancels the upcoming one if it has not started. `resume` picks up from now. */
  async pause(id: string): Promise<ScheduleRecord> {
    const schedule = await this.get(id);
    if (await this.services.schedules.update(id, { set: { active: false } }, { equals: { active: true } })) await this.cancelUpcoming(schedule);
    return this.get(id);
  }

  async resume(id: string): Promise<ScheduleRecord> {
    const schedule = await this.get(id);
    if (schedule.stopped) throw new ValidationError('id', `schedule ${id} was stopped for good; create a new one`);
    const now = this.now();
    const next = schedule.spec.kind === 'computed' ? now : firstOccurrence(schedule.spec, now);
    if (next !== undefined) await this.services.schedules.resume(id, buildOccurrence(schedule, next, now, schedule.lastCompletedAt));
    return this.get(id);
  }

  /** Ends the schedule for good: no further occurrences, and the upcoming one is cancelled if it has not started. */
  async stop(id: string): Promise<ScheduleRecord> {
    const schedule = await this.get(id);
    await this.services.schedules.update(id, { set: { active: false, stopped: true } }, { exists: ['pk'] });
    await this.cancelUpcoming(schedule);
    return this.get(id);
  }

  private async cancelUpcoming(schedule: ScheduleRecord): Promise<void> {
    const upcoming = await this.services.store.get(occurrenceId(schedule.id, schedule.nextDueAt, schedule.snapshot.job));
    if (upcoming && (upcoming.status === 'pending' || upcoming.status === 'queued')) {
      await finishTask(this.services, { task: upcoming, outcome: { status: 'cancelled', error: { reason: 'cancelled', message: `schedule ${schedule.id} was paused or stopped` } } }, this.now()).catch(() => undefined);
    }
  }

  /**
   * Reconciles the schedules declared in the catalogue into SCHEDULE items, by id: creates the
   * missing, updates changed ones (their next occurrence keeps its time), stops the ones no longer
   * declared. Safe to run any number of times, from any number of processes.
   */
  async sync(): Promise<SyncReport> {
    const report = { created: [] as string[], updated: [] as string[], stopped: [] as string[] };
    const declared = new Set<string>();
    const existing = new Map((await this.list()).map((s) => [s.id, s]));
    for (const { definition, snapshot } of this.catalogue.jobs.values()) {
      for (const d of definition.schedules ?? []) {
        declared.add(d.id);
        const spec = declaredScheduleSpec(d, `jobs.${definition.name}.schedules.${d.id}`);
        const current = existing.get(d.id);
        if (!current) {
          await this.create(definition.name, d.args ?? null, { id: d.id, ...(spec.kind === 'cron' ? { cron: spec.expression, timezone: spec.timezone } : { every: (spec as { everyMs: number }).everyMs }), missedRuns: d.missedRuns });
          await this.services.schedules.update(d.id, { set: { declared: true } }, {});
          report.created.push(d.id);
          continue;
        }
        const wanted = { spec, args: d.args ?? null, missedRuns: d.missedRuns ?? 'once', snapshot };
        const same = isDeepStrictEqual([current.spec, current.args, current.missedRuns, current.snapshot], [wanted.spec, wanted.args, wanted.missedRuns, wanted.snapshot]);
        if (!same || !current.declared) {
          await this.services.schedules.update(d.id, { set: { ...wanted, declared: true } }, { exists: ['pk'] });
          report.updated.push(d.id);
        }
      }
    }
    for (const s of existing.values()) {
      if (s.declared && !declared.has(s.id) && !s.stopped) {
        await this.stop(s.id);
        report.stopped.push(s.id);
      }
    }
    return report;
  }
}
