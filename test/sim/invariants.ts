import { occurrenceId, taskKey } from '../../core/model/keys';
import type { ScheduleRecord, TaskRecord } from '../../core/model/task';
import type { MemoryTable } from '../../core/store/memory-table';
import type { TaskSummary } from '../../runner/execute';
import type { Executions } from './sim-sandbox';
import type { SimProcess } from './world';

/** One broken promise of the protocol, said plainly. */
export interface Violation {
  readonly invariant: 'no-overlap' | 'one-terminal-state' | 'follow-up-once' | 'schedule-never-stops' | 'start-window' | 'time-limit';
  readonly message: string;
}

/** IPC and scheduling slack between a runner's decision and the sandbox acting on it. */
const SLACK_MS = 60;

const isEnded = (s: unknown) => s === 'completed' || s === 'failed' || s === 'cancelled';

/**
 * An active schedule always has its next occurrence, or follow-up work pending on it: it never
 * stops by itself. At the end of the run, every schedule that nobody stopped is still active.
 */
export function checkSchedulesNeverStop(table: MemoryTable, stoppedByUser: ReadonlySet<string>, now: number, final = false): Violation[] {
  const out: Violation[] = [];
  for (const item of table.allItems()) {
    if (item.type !== 'schedule') continue;
    const s = item as unknown as ScheduleRecord;
    if (!s.active) {
      if (final && !stoppedByUser.has(s.id) && !s.stopped) out.push({ invariant: 'schedule-never-stops', message: `schedule ${s.id} went inactive by itself (nobody stopped it)${s.endedBy ? `: ${s.endedBy}` : ''}` });
      continue;
    }
    const next = table.peek(taskKey(occurrenceId(s.id, s.nextDueAt, s.snapshot.job)));
    if (!next) out.push({ invariant: 'schedule-never-stops', message: `at ${now}: active schedule ${s.id} has no occurrence for its next due time ${s.nextDueAt}` });
    else if (isEnded(next.status) && next.effectsDone) out.push({ invariant: 'schedule-never-stops', message: `at ${now}: active schedule ${s.id}'s next occurrence ${String(next.id)} ended (${String(next.status)}) and nothing follows it` });
  }
  return out;
}

export interface InvariantInput {
  readonly table: MemoryTable;
  readonly executions: Executions;
  readonly summaries: readonly (TaskSummary & { runner: string })[];
  readonly runners: readonly SimProcess[];
  readonly maxSkewMs: number;
  readonly timeoutGraceMs: number;
  /** Tasks a user rescheduled (they may run after their predecessor failed). */
  readonly rescheduled: ReadonlySet<string>;
}

export function checkInvariants(input: InvariantInput): Violation[] {
  return [...noOverlap(input), ...oneTerminalState(input), ...followUpOnce(input), ...startWindow(input), ...timeLimit(input)];
}

/** No two executions of one task overlap in time (a frozen or cut-off runner's script included). */
function noOverlap({ executions }: InvariantInput): Violation[] {
  const byTask = new Map<string, typeof executions.all>();
  for (const e of executions.all) byTask.set(e.taskId, [...(byTask.get(e.taskId) ?? []), e]);
  const out: Violation[] = [];
  for (const [taskId, runs] of byTask) {
    const sorted = [...runs].sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1] as (typeof sorted)[number];
      const cur = sorted[i] as (typeof sorted)[number];
      const prevEnd = prev.endedAt ?? Number.POSITIVE_INFINITY;
      if (cur.startedAt < prevEnd) {
        out.push({
          invariant: 'no-overlap',
          message: `task ${taskId}: attempt ${prev.attempt} on ${prev.runner} (script ${prev.startedAt}..${prev.endedAt ?? 'still running'}) and attempt ${cur.attempt} on ${cur.runner} (from ${cur.startedAt}) ran at the same time for ${Math.min(prevEnd, cur.endedAt ?? prevEnd) - cur.startedAt} ms`,
        });
      }
    }
  }
  return out;
}

/** Every task reaches exactly one terminal state with its follow-up done, and every failure has a reason. */
function oneTerminalState({ table }: InvariantInput): Violation[] {
  const out: Violation[] = [];
  for (const item of table.allItems()) {
    if (item.type !== 'task') continue;
    const t = item as unknown as TaskRecord;
    if (!isEnded(t.status)) out.push({ invariant: 'one-terminal-state', message: `task ${t.id} never ended: still ${t.status} (attempt ${t.attempt}, due ${t.dueAt})` });
    else if (!t.effectsDone) out.push({ invariant: 'one-terminal-state', message: `task ${t.id} ended ${t.status} but its follow-up work was never done` });
    if (t.status === 'failed' && !t.error?.reason) out.push({ invariant: 'one-terminal-state', message: `task ${t.id} failed without a reason` });
    if (t.attempt > t.maxAttempts) out.push({ invariant: 'follow-up-once', message: `task ${t.id} is at attempt ${t.attempt} of ${t.maxAttempts}: a retry was made twice` });
  }
  return out;
}

/**
 * Follow-up work happened once in effect: concurrency counters are back to zero, idempotency
 * outcomes match their task, and each dependent was released or failed as its predecessor ended.
 */
function followUpOnce(input: InvariantInput): Violation[] {
  const { table, executions } = input;
  const out: Violation[] = [];
  const ran = new Set(executions.all.map((e) => e.taskId));
  for (const item of table.allItems()) {
    if (typeof item.pk === 'string' && item.pk.startsWith('conc#')) {
      const holders = item.holders as Set<string> | undefined;
      if (holders && holders.size > 0) out.push({ invariant: 'follow-up-once', message: `concurrency scope ${item.pk.slice(5)} still held by ${[...holders].join(', ')} after every task ended` });
    }
    if (item.type === 'idem' && item.outcome !== undefined) {
      const task = table.peek(taskKey(String(item.taskId)));
      if (task && task.status !== item.outcome) out.push({ invariant: 'follow-up-once', message: `idempotency key ${String(item.pk).slice(5)} records ${String(item.outcome)} but its task ${String(item.taskId)} is ${String(task.status)}` });
    }
    if (item.type === 'task' && typeof item.startAfter === 'string') {
      const dependent = item as unknown as TaskRecord;
      const predecessor = table.peek(taskKey(dependent.startAfter as string)) as TaskRecord | undefined;
      const depFailed = dependent.error?.reason === 'dependency-failed';
      // Failed while the predecessor had failed for good, which a user then rescheduled: settled correctly at the time.
      const beforeReschedule = dependent.endedAt !== undefined && predecessor?.startedAt !== undefined && dependent.endedAt <= predecessor.startedAt;
      if (predecessor?.status === 'completed' && depFailed && !beforeReschedule) out.push({ invariant: 'follow-up-once', message: `task ${dependent.id} failed as dependency-failed although ${predecessor.id} completed` });
      // A user may reschedule a task that failed as dependency-failed: then it runs on purpose.
      const rescheduled = input.rescheduled.has(dependent.id);
      if (predecessor && isEnded(predecessor.status) && predecessor.status !== 'completed' && ran.has(dependent.id) && !rescheduled) {
        out.push({ invariant: 'follow-up-once', message: `task ${dependent.id} ran although its predecessor ${predecessor.id} ended ${predecessor.status}` });
      }
    }
  }
  return out;
}

/** No task starts before its due time or after its expiry (allowing for the clocks' skew). */
function startWindow({ executions, maxSkewMs }: InvariantInput): Violation[] {
  const out: Violation[] = [];
  const tolerance = 2 * maxSkewMs + SLACK_MS;
  for (const e of executions.all) {
    if (e.startedAt < e.dueAt - tolerance) out.push({ invariant: 'start-window', message: `task ${e.taskId} attempt ${e.attempt} started at ${e.startedAt}, ${e.dueAt - e.startedAt} ms before it was due` });
    if (e.expiresAt !== undefined && e.startWriteAt !== undefined && e.startWriteAt > e.expiresAt + tolerance) {
      out.push({ invariant: 'start-window', message: `task ${e.taskId} attempt ${e.attempt} was started at ${e.startWriteAt}, after it expired at ${e.expiresAt}` });
    }
  }
  return out;
}

/**
 * The time limit is enforced on the script's own running time: no script of a runner that kept
 * running outlives its limit plus the kill grace, and no script that finished within its limit is
 * recorded as a timeout.
 */
function timeLimit({ executions, summaries, runners, timeoutGraceMs }: InvariantInput): Violation[] {
  const out: Violation[] = [];
  const runnerByName = new Map(runners.map((r) => [r.name, r]));
  const byAttempt = new Map(executions.all.map((e) => [`${e.taskId}#${e.attempt}#${e.token}`, e]));
  for (const e of executions.all) {
    if (e.endedAt === undefined || !Number.isFinite(e.maxExecutionMs)) continue;
    const own = e.endedAt - e.startedAt;
    const runner = runnerByName.get(e.runner);
    const healthy = runner !== undefined && !runner.wasImpaired(e.startedAt - 1, e.endedAt + 1);
    if (healthy && own > e.maxExecutionMs + timeoutGraceMs + SLACK_MS) {
      out.push({ invariant: 'time-limit', message: `task ${e.taskId} attempt ${e.attempt} ran ${own} ms on a healthy runner, past its limit of ${e.maxExecutionMs} ms plus ${timeoutGraceMs} ms grace` });
    }
  }
  for (const s of summaries) {
    if (s.reason !== 'timeout') continue;
    const e = byAttempt.get(`${s.taskId}#${s.attempt}#${tokenOf(executions, s)}`);
    if (!e || e.endedAt === undefined) continue;
    const own = e.endedAt - e.startedAt;
    if (e.end === 'done' && own <= e.maxExecutionMs) {
      out.push({ invariant: 'time-limit', message: `task ${s.taskId} attempt ${s.attempt}: its script finished in ${own} ms, within its ${e.maxExecutionMs} ms limit, but was recorded as a timeout` });
    } else if (own < e.maxExecutionMs - SLACK_MS && !exitSeenLate(e, runnerByName)) {
      out.push({ invariant: 'time-limit', message: `task ${s.taskId} attempt ${s.attempt}: recorded as a timeout, but its script was stopped after ${own} ms of its own ${e.maxExecutionMs} ms` });
    }
  }
  return out;
}

/**
 * A plain exit (exit code, no message) carries no time of its own: the runner knows only when it
 * saw the process go. If it was frozen or cut off from the exit past the script's limit, it could
 * not tell the exit came in time (a documented limit, docs/simulation.md).
 */
function exitSeenLate(e: Executions['all'][number], runners: ReadonlyMap<string, SimProcess>): boolean {
  if (e.end !== 'exit1' && e.end !== 'exit100') return false;
  return runners.get(e.runner)?.wasImpaired(e.endedAt as number, e.startedAt + e.maxExecutionMs) ?? false;
}

/** The token of the execution a runner's summary is about (its runner ran that attempt). */
function tokenOf(executions: Executions, s: TaskSummary & { runner: string }): string | undefined {
  const runner = s.runner.replace(/\.\d+$/, '');
  return executions.all.find((x) => x.taskId === s.taskId && x.attempt === s.attempt && x.runner === runner)?.token;
}
