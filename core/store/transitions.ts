import { backoffDelay } from '../model/backoff';
import { CHECK_AT, INDEX, afterPk, newToken } from '../model/keys';
import { attemptRecordOf, type TaskError, type TaskRecord, type TaskStatus } from '../model/task';
import { dueKeys, inFlightKeys } from './task-item';
import type { Change, Guard } from './update-expression';

/**
 * Every change of a task item, defined once by name: the statuses it may leave, what fences it,
 * the statuses it may enter and what it writes. The store applies them (TaskStore.apply), the
 * state machine is derived from them (model/state-machine.ts), and docs/data-model.md describes
 * them in this order. No guard, key or index attribute of a task write is spelled anywhere else.
 *
 * Fencing: every transition but `repair` is conditional on the status and token the caller saw
 * (a claim replaces the token, so a stale holder's writes lose); some add conditions of their own.
 */

/** What a caller saw of the task: the write is fenced by exactly this status and token. */
export interface Seen {
  readonly id: string;
  readonly status: TaskStatus;
  readonly token: string;
}

export interface TransitionWrite {
  readonly change: Change;
  /** Conditions on top of the status and token. */
  readonly guard?: Guard;
}

export interface TaskTransition<P> {
  readonly name: string;
  readonly from: readonly TaskStatus[];
  readonly to: readonly TaskStatus[];
  /** What the write is conditional on, in words (for docs and conflict messages). */
  readonly fence: string;
  /** `token`: status + token as seen, plus `guard`. `sched-entry`: only the guard (the item may be too broken to have either). */
  readonly fencedBy: 'token' | 'sched-entry';
  /** The task stays in the status it was in (`to` then lists the statuses it may be in). */
  readonly keepsStatus?: true;
  readonly write: (seen: TaskRecord, params: P) => TransitionWrite;
}

const define = <P>(t: TaskTransition<P>): TaskTransition<P> => t;

const IN_FLIGHT: readonly TaskStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
const TERMINAL: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];
/** What a task carries only while one attempt is under way or just ended; a new attempt starts without them. */
const ATTEMPT_FIELDS = ['error', 'endedAt', 'startedAt', 'queuedAt', 'runnerId', 'leaseUntil', 'ttl', 'cancelRequested', 'progress', 'nextRunAt'];
const SCHED_ENTRY = [INDEX.sched.pk, INDEX.sched.sk, CHECK_AT];
const WAITING = [INDEX.after.pk, INDEX.after.sk, 'held'];

/** How a terminal write ends a task. */
export type TerminalOutcome =
  | { readonly status: 'completed'; readonly result?: unknown; readonly resultS3Key?: string }
  | { readonly status: 'failed'; readonly error: TaskError }
  | { readonly status: 'cancelled'; readonly error?: TaskError };

export interface EndParams {
  readonly outcome: TerminalOutcome;
  readonly now: number;
  readonly shards: number;
  readonly graceMs: number;
  readonly logS3Key?: string;
  /** The log's slice of a shared batch object (core/logs/log-location.ts), when it is one. */
  readonly logRange?: { readonly offset: number; readonly length: number };
  /**
   * For a schedule computed by its job module: the next date `nextRun` returned, stored with the
   * ending so that whichever process does the follow-up (the runner, or the reaper after it died) has it.
   */
  readonly nextRunAt?: number | null;
  /** Nothing follows this ending: mark it done and leave the sched index in the same write, unless a dependent registered meanwhile. */
  readonly settled?: boolean;
}

/** The terminal write, shared by every way a task ends. */
function endWrite(seen: TaskRecord, p: EndParams): TransitionWrite {
  const set: Record<string, unknown> = { status: p.outcome.status, endedAt: p.now, ttl: Math.ceil((p.now + seen.retentionMs) / 1000) };
  if (p.outcome.status === 'completed') {
    if (p.outcome.result !== undefined) set.result = p.outcome.result;
    if (p.outcome.resultS3Key) set.resultS3Key = p.outcome.resultS3Key;
  } else if (p.outcome.error) set.error = p.outcome.error;
  if (p.logS3Key) set.logS3Key = p.logS3Key;
  if (p.logS3Key && p.logRange) set.logRange = p.logRange;
  if (p.nextRunAt !== undefined) set.nextRunAt = p.nextRunAt;
  const remove = seen.status === 'pending' ? [...WAITING] : [];
  if (p.settled) {
    set.effectsDone = true;
    remove.push(...SCHED_ENTRY);
  } else if (seen.status === 'pending') {
    // Pending (due, held or waiting) tasks have no in-flight entry yet; claimed ones already do.
    Object.assign(set, inFlightKeys(seen, p.now + p.graceMs, p.shards));
  }
  return { change: { set, remove }, ...(p.settled ? { guard: { notExists: ['hasDependents'] } } : {}) };
}

export const TRANSITIONS = {
  /** A new task, written once (TaskStore.create; a dependent whose predecessor already failed is created failed). */
  create: define<void>({ name: 'create', from: [], to: ['pending', 'failed'], fence: 'the task id is new', fencedBy: 'token', write: () => ({ change: {} }) }),

  /** The ticker takes a due task: a new token, and its sched entry marked in flight (checkAt) without moving it. */
  claim: define<{ readonly now: number; readonly dispatchWindowMs: number; readonly entrySk: string; readonly token: string }>({
    name: 'claim',
    from: ['pending'],
    to: ['queued'],
    fence: 'pending, the token and the sched entry the ticker read',
    fencedBy: 'token',
    write: (_seen, p) => ({ change: { set: { status: 'queued', token: p.token, queuedAt: p.now, [CHECK_AT]: p.now + p.dispatchWindowMs } }, guard: { equals: { [INDEX.sched.sk]: p.entrySk } } }),
  }),

  /** No runner started a claimed task within the dispatch window: pending again under a new token, keeping its place in line. */
  putBack: define<void>({
    name: 'putBack',
    from: ['queued'],
    to: ['pending'],
    fence: 'queued with the claim token',
    fencedBy: 'token',
    write: () => ({ change: { set: { status: 'pending', token: newToken() }, remove: ['queuedAt', CHECK_AT] } }),
  }),

  /** A runner starts the task, with a short lease; from here the lease, not the message, guards it. */
  start: define<{ readonly runnerId: string; readonly now: number; readonly leaseMs: number }>({
    name: 'start',
    from: ['queued'],
    to: ['running'],
    fence: 'queued with the token of the message',
    fencedBy: 'token',
    write: (_seen, p) => ({ change: { set: { status: 'running', runnerId: p.runnerId, startedAt: p.now, leaseUntil: p.now + p.leaseMs } } }),
  }),

  /** The runner renews its lease (and saves progress); the answer carries cancelRequested. */
  heartbeat: define<{ readonly now: number; readonly leaseMs: number; readonly progress?: TaskRecord['progress'] }>({
    name: 'heartbeat',
    from: ['running'],
    to: ['running'],
    fence: 'running with the token',
    fencedBy: 'token',
    keepsStatus: true,
    write: (_seen, p) => ({ change: { set: { leaseUntil: p.now + p.leaseMs, ...(p.progress ? { progress: p.progress } : {}) } } }),
  }),

  /** A cancel asked of a running task: the runner sees it on its next beat, signals the script, and ends the task. */
  requestCancel: define<void>({
    name: 'requestCancel',
    from: ['running'],
    to: ['running'],
    fence: 'running with the token',
    fencedBy: 'token',
    keepsStatus: true,
    write: () => ({ change: { set: { cancelRequested: true } } }),
  }),

  /** The reaper moves an in-flight entry's next look (a long run whose lease holds, a window not over yet). */
  lookAgain: define<{ readonly at: number }>({
    name: 'lookAgain',
    from: IN_FLIGHT,
    to: IN_FLIGHT,
    fence: 'the status and token the reaper read',
    fencedBy: 'token',
    keepsStatus: true,
    write: (_seen, p) => ({ change: { set: { [CHECK_AT]: p.at } } }),
  }),

  /** A running task ends: completed, failed (error, exit code, timeout, runner lost) or cancelled. */
  finish: define<EndParams>({ name: 'finish', from: ['running'], to: TERMINAL, fence: 'running with the token', fencedBy: 'token', write: endWrite }),

  /** A task not yet running is cancelled at once. */
  cancel: define<EndParams>({ name: 'cancel', from: ['pending', 'queued'], to: ['cancelled'], fence: 'pending or queued with the token', fencedBy: 'token', write: endWrite }),

  /** A task no runner started before its expiry fails as expired. */
  expire: define<EndParams>({ name: 'expire', from: ['pending', 'queued'], to: ['failed'], fence: 'pending or queued with the token', fencedBy: 'token', write: endWrite }),

  /** A waiting task whose predecessor ended other than completed fails as dependency-failed. */
  failDependent: define<EndParams>({ name: 'failDependent', from: ['pending'], to: ['failed'], fence: 'pending with the token', fencedBy: 'token', write: endWrite }),

  /** A malformed task fails as invalid-task (after `repair`, if it had no usable status or token). */
  invalid: define<EndParams>({ name: 'invalid', from: ['pending', 'queued', 'running'], to: ['failed'], fence: 'the status and token as read', fencedBy: 'token', write: endWrite }),

  /** Gives a task too broken to be fenced (no known status, no token) a status and token, conditional on the sched entry seen. */
  repair: define<{ readonly entrySk: string; readonly set: { readonly status?: TaskStatus; readonly token?: string } }>({
    name: 'repair',
    from: [],
    to: ['pending', 'queued'],
    fence: 'the sched entry the ticker read',
    fencedBy: 'sched-entry',
    write: (_seen, p) => ({ change: { set: { ...p.set } }, guard: { equals: { [INDEX.sched.sk]: p.entrySk } } }),
  }),

  /** A failed attempt with attempts left becomes the next pending attempt, due after its backoff (the same write moves its entry there). */
  retry: define<{ readonly now: number; readonly shards: number }>({
    name: 'retry',
    from: ['failed'],
    to: ['pending'],
    fence: 'failed with the token and attempt',
    fencedBy: 'token',
    write: (seen, p) => {
      const attempt = seen.attempt + 1;
      const dueAt = p.now + backoffDelay(seen.backoff, attempt);
      return {
        change: {
          set: { status: 'pending', attempt, dueAt, token: newToken(), ...(seen.error ? { lastError: seen.error } : {}), ...dueKeys({ ...seen, dueAt }, p.shards) },
          append: { attempts: [attemptRecordOf(seen)] },
          remove: [...ATTEMPT_FIELDS, CHECK_AT],
        },
        guard: { equals: { attempt: seen.attempt } },
      };
    },
  }),

  /** A user gives a failed one-off task another attempt (SDK reschedule). */
  reschedule: define<{ readonly dueAt: number; readonly shards: number }>({
    name: 'reschedule',
    from: ['failed'],
    to: ['pending'],
    fence: 'failed with the token, follow-up done',
    fencedBy: 'token',
    write: (seen, p) => {
      const attempt = seen.attempt + 1;
      return {
        change: {
          set: { status: 'pending', attempt, maxAttempts: Math.max(seen.maxAttempts, attempt), dueAt: p.dueAt, token: newToken(), ...(seen.error ? { lastError: seen.error } : {}), ...dueKeys({ ...seen, dueAt: p.dueAt }, p.shards) },
          append: { attempts: [attemptRecordOf(seen)] },
          remove: [...ATTEMPT_FIELDS, 'effectsDone', CHECK_AT],
        },
        guard: { exists: ['effectsDone'] },
      };
    },
  }),

  /** A held task is released, or a waiting one's predecessor completed: it becomes due. */
  release: define<{ readonly now: number; readonly shards: number; readonly because: { readonly held: true } | { readonly predecessor: string } }>({
    name: 'release',
    from: ['pending'],
    to: ['pending'],
    fence: 'pending with the token, and still held (or still waiting on that predecessor)',
    fencedBy: 'token',
    keepsStatus: true,
    write: (seen, p) => {
      const dueAt = Math.max(seen.dueAt, p.now);
      return {
        change: { set: { dueAt, ...dueKeys({ ...seen, dueAt }, p.shards) }, remove: WAITING },
        guard: { equals: 'held' in p.because ? { held: true } : { [INDEX.after.pk]: afterPk(p.because.predecessor) } },
      };
    },
  }),

  /**
   * Another task registers `startAfter` this one, so its ending settles that dependent (written in
   * the dependent's create transaction). The dependent's id goes on this item, not only into the
   * `after` index: an index lags its table, and a follow-up that read only the index could miss a
   * dependent registered just before the ending.
   */
  markDependents: define<{ readonly dependentId: string }>({
    name: 'markDependents',
    from: ['pending', 'queued', 'running', 'failed'],
    to: ['pending', 'queued', 'running', 'failed'],
    fence: 'the status and token the dependent was planned on',
    fencedBy: 'token',
    keepsStatus: true,
    write: (_seen, p) => ({ change: { set: { hasDependents: true }, add: { dependents: new Set([p.dependentId]) } } }),
  }),

  /** The follow-up work of an ended task is done: marked, and its sched entry leaves the index. */
  settle: define<void>({
    name: 'settle',
    from: TERMINAL,
    to: TERMINAL,
    fence: 'the ended status and token',
    fencedBy: 'token',
    keepsStatus: true,
    write: () => ({ change: { set: { effectsDone: true }, remove: SCHED_ENTRY } }),
  }),
} as const;

export type TransitionName = keyof typeof TRANSITIONS;

/** The ways a task ends, by the status it leaves. */
export type EndTransition = typeof TRANSITIONS.finish | typeof TRANSITIONS.cancel | typeof TRANSITIONS.expire | typeof TRANSITIONS.failDependent | typeof TRANSITIONS.invalid;

/** Which ending a terminal outcome from a given status is. */
export function endTransitionFor(from: TaskStatus, outcome: TerminalOutcome): EndTransition {
  if (from === 'running') return TRANSITIONS.finish;
  if (outcome.status === 'cancelled') return TRANSITIONS.cancel;
  const reason = outcome.status === 'failed' ? outcome.error.reason : undefined;
  if (reason === 'expired') return TRANSITIONS.expire;
  if (reason === 'dependency-failed') return TRANSITIONS.failDependent;
  return TRANSITIONS.invalid;
}

/** Every change of status some transition allows (create and repair, which start from no known status, excluded). */
export function allowedMoves(): ReadonlyMap<TaskStatus, ReadonlySet<TaskStatus>> {
  const moves = new Map<TaskStatus, Set<TaskStatus>>();
  for (const t of Object.values(TRANSITIONS) as TaskTransition<unknown>[]) {
    if (t.keepsStatus) continue;
    for (const from of t.from) {
      const to = moves.get(from) ?? new Set<TaskStatus>();
      moves.set(from, to);
      for (const s of t.to) if (s !== from) to.add(s);
    }
  }
  return moves;
}
