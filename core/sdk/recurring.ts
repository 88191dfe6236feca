import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { declaredScheduleSpec, type Catalogue } from '../catalogue';
import { JobfleetError, ScheduleNotFoundError, ValidationError } from '../errors';
import { checkScheduleId } from '../input/ids';
import { finishTask } from '../lifecycle/finish';
import { occurrenceId } from '../model/keys';
import { DEFAULT_PRIORITY } from '../model/new-task';
import { buildOccurrence } from '../model/occurrence';
import { firstOccurrence, initialOccurrences, scheduleSpecOf } from '../model/schedule';
import type { ScheduleRecord, ScheduleSpec } from '../model/task';
import type { Services } from '../services';
import { parseTime, parseWith, RecurringOptionsSchema, type RecurringOptions } from './validation';

export interface SyncReport {
  readonly created: string[];
  readonly updated: string[];
  readonly stopped: string[];
  /** Declared schedules that could not be applied, each with why; the others were applied all the same. */
  readonly invalid?: { readonly id: string; readonly job: string; readonly error: string }[];
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
    /** Refuses a job whose slot class the deployment lacks. */
    private readonly checkDeployed: (job: string) => void = () => undefined,
  ) {}

  /**
   * Runs `job` on a cron expression (5 or 6 fields, with a time zone), every interval, or on dates
   * the job module computes (`computed: true`). Creating the same id twice returns the first.
   */
  async create(job: string, args: unknown, options: RecurringOptions): Promise<ScheduleRecord> {
    if (options === undefined) throw new ValidationError('options', 'are required: give "cron", "every" or "computed: true"');
    const opts = parseWith(RecurringOptionsSchema, options, 'options');
    const resolved = this.catalogue.get(job);
    this.checkDeployed(job);
    const validArgs = this.validArgs(args, job);
    const spec: ScheduleSpec = scheduleSpecOf(opts, 'options');
    const startAt = opts.startAt !== undefined ? parseTime(opts.startAt, 'options.startAt') : undefined;
    const now = this.now();
    const id = opts.id ?? `${job}-${createHash('sha256').update(JSON.stringify([spec, validArgs])).digest('hex').slice(0, 12)}`;
    const missedRuns = opts.missedRuns ?? 'once';
    const maxCatchUp = opts.maxCatchUp ?? 10;
    const dues = initialOccurrences(spec, startAt, now, missedRuns, maxCatchUp);
    const firstAt = dues[0];
    if (firstAt === undefined) throw new ValidationError('options.startAt', 'leaves the schedule no time to run before the end of the supported range (2199); give an earlier start');
    const schedule: ScheduleRecord = {
      id,
      job,
      args: validArgs,
      spec,
      missedRuns,
      maxCatchUp,
      priority: opts.priority ?? DEFAULT_PRIORITY,
      active: true,
      nextDueAt: firstAt,
      createdAt: now,
      snapshot: resolved.snapshot,
    };
    // The first occurrence is written with the schedule; missed runs caught up after a past
    // startAt follow in the same way the ticker catches up after an outage (advance from the first).
    // Cut short in between, the catch-up still happens when the first occurrence ends.
    const [first, ...rest] = dues.map((due) => buildOccurrence(schedule, due, now, undefined));
    if ((await this.services.schedules.create(schedule, first)) && rest.length > 0) await this.services.schedules.advance(id, firstAt, rest, {});
    return this.get(id);
  }

  async get(id: string): Promise<ScheduleRecord> {
    checkScheduleId(id, 'id');
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
    if (await this.services.schedules.pause(id)) await this.cancelUpcoming(schedule);
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
    await this.services.schedules.stop(id);
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
    const report = { created: [] as string[], updated: [] as string[], stopped: [] as string[], invalid: [] as { id: string; job: string; error: string }[] };
    const declared = new Set<string>();
    const existing = new Map((await this.list()).map((s) => [s.id, s]));
    for (const { definition, snapshot } of this.catalogue.jobs.values()) {
      for (const d of definition.schedules ?? []) {
        declared.add(d.id);
        // One bad declared schedule is reported, and the others are applied all the same.
        try {
          const at = `jobs.${definition.name}.schedules.${d.id}`;
          const spec = declaredScheduleSpec(d, at);
          const current = existing.get(d.id);
          if (!current) {
            await this.create(definition.name, d.args, {
              id: d.id,
              ...(spec.kind === 'cron' ? { cron: spec.expression, timezone: spec.timezone } : { every: (spec as { everyMs: number }).everyMs }),
              ...(d.missedRuns !== undefined ? { missedRuns: d.missedRuns } : {}),
              ...(d.maxCatchUp !== undefined ? { maxCatchUp: d.maxCatchUp } : {}),
              ...(d.priority !== undefined ? { priority: d.priority } : {}),
            });
            await this.services.schedules.redefine(d.id, {});
            report.created.push(d.id);
            continue;
          }
          if (current.job !== definition.name) throw new ValidationError(`${at}.id`, `"${d.id}" is already the id of a schedule of job "${current.job}"; give this one another id`);
          this.checkDeployed(definition.name);
          const wanted = { spec, args: this.validArgs(d.args, definition.name), missedRuns: d.missedRuns ?? 'once', maxCatchUp: d.maxCatchUp ?? 10, priority: d.priority ?? DEFAULT_PRIORITY, snapshot };
          const same = isDeepStrictEqual(
            [current.spec, current.args, current.missedRuns, current.maxCatchUp, current.priority, current.snapshot],
            [wanted.spec, wanted.args, wanted.missedRuns, wanted.maxCatchUp, wanted.priority, wanted.snapshot],
          );
          if (!same || !current.declared) {
            await this.services.schedules.redefine(d.id, wanted);
            report.updated.push(d.id);
          }
        } catch (err) {
          if (!(err instanceof JobfleetError)) throw err;
          report.invalid.push({ id: d.id, job: definition.name, error: err.message });
        }
      }
    }
    for (const s of existing.values()) {
      if (s.declared && !declared.has(s.id) && !s.stopped) {
        await this.stop(s.id);
        report.stopped.push(s.id);
      }
    }
    return report.invalid.length > 0 ? report : { created: report.created, updated: report.updated, stopped: report.stopped };
  }
}
