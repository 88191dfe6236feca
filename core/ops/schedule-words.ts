import { nextOccurrence } from '../model/schedule';
import type { ScheduleRecord, ScheduleSpec } from '../model/task';

/** A schedule's spec in words, e.g. "every 5 minutes" or "at 02:30 every day (cron 0 30 2 * * *)". */
export function describeSpec(spec: ScheduleSpec): string {
  if (spec.kind === 'computed') return "on dates the job's nextRun() computes";
  if (spec.kind === 'interval') return `every ${everyInWords(spec.everyMs)}`;
  return `${cronInWords(spec.expression)} (cron "${spec.expression}", ${spec.timezone})`;
}

function everyInWords(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  for (const [size, name] of units) if (ms % size === 0) return ms === size ? name : `${ms / size} ${name}s`;
  return `${ms} ms`;
}

function cronInWords(expression: string): string {
  const f = expression.trim().split(/\s+/);
  const [sec, min, hour, dom, mon, dow] = f.length === 6 ? f : ['0', ...f];
  const rest = [dom, mon, dow].every((x) => x === '*');
  const step = (x: string | undefined) => /^\*\/(\d+)$/.exec(x ?? '')?.[1];
  if (rest && hour === '*' && min === '*' && step(sec)) return `every ${step(sec)} seconds`;
  if (rest && hour === '*' && sec === '0' && step(min)) return `every ${step(min)} minutes`;
  if (rest && hour === '*' && sec === '0' && min === '*') return 'every minute';
  const num = (x: string | undefined) => /^\d+$/.test(x ?? '');
  if (num(sec) && num(min) && num(hour) && mon === '*' && dom === '*') {
    const at = `at ${hour!.padStart(2, '0')}:${min!.padStart(2, '0')}${sec === '0' ? '' : `:${sec!.padStart(2, '0')}`}`;
    return dow === '*' ? `${at} every day` : `${at} on weekdays ${dow}`;
  }
  return 'on its cron expression';
}

/** The next `n` due times from the upcoming one; empty for a paused, stopped or computed schedule. */
export function nextDueTimes(s: ScheduleRecord, n: number): number[] {
  if (!s.active || s.stopped) return [];
  const out = [s.nextDueAt];
  while (out.length < n) {
    const next = nextOccurrence(s.spec, out[out.length - 1] as number);
    if (next === undefined) break;
    out.push(next);
  }
  return out;
}

export const scheduleState = (s: ScheduleRecord): 'stopped' | 'active' | 'paused' => (s.stopped ? 'stopped' : s.active ? 'active' : 'paused');
