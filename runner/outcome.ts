import { outcomeOfExit } from '../core/model/state-machine';
import type { TerminalOutcome } from '../core/lifecycle/finish';
import type { SandboxReport } from './sandbox/port';

/** Why the runner stopped a script itself, if it did. */
export type StopReason = 'timeout' | 'cancel' | 'shutdown' | 'lost';

export interface OutcomeInput {
  readonly report: SandboxReport;
  /**
   * The first reason the runner had to stop the script (abort signal and, after a grace, kill).
   * 'timeout' is a request, not a verdict: whether the script ran out of time is decided from its own times.
   */
  readonly stopReason?: StopReason;
  readonly maxExecutionMs: number;
  /** Result as stored on the task (parsed inline JSON), or its S3 key. */
  readonly result?: unknown;
  readonly resultS3Key?: string;
}

/**
 * What a finished sandbox means, by the job contract. Pure: decided from what the sandbox
 * reported and why (if at all) the runner stopped it. `undefined` means: record nothing, the task
 * is not ours any more.
 *
 * - the time limit is the script's own (invariant 8): it timed out if it had not ended (resolved,
 *   thrown, exited) within maxExecutionMs of its own start (`started`), whatever the runner's
 *   timer did; a module that never loaded timed out if the runner had to stop it for time. A
 *   script that finished in time keeps its outcome even if the timer fired while it was being
 *   recorded; one that ran out of time is a timeout however it then ended;
 * - a runner shutting down that had to kill the script hands the task back as `runner-lost`;
 * - after a cancel request, a script that completes keeps its result; any other ending (it threw
 *   on the abort, exited, or was killed after the grace) is `cancelled`, with what happened kept
 *   in the message. Recording such an ending as `failed` would retry work a user cancelled;
 * - otherwise: resolved = completed, load error = job-load-failed, thrown = failed (error), and
 *   exit codes by `outcomeOfExit` (0 completed, 100 cancelled, else failed).
 */
export function decideOutcome(input: OutcomeInput): TerminalOutcome | undefined {
  const { report, stopReason } = input;
  if (stopReason === 'lost') return undefined;
  if (report.deadlinePassed) return undefined;
  if (ranOutOfTime(report, input.maxExecutionMs, stopReason === 'timeout')) {
    return { status: 'failed', error: { reason: 'timeout', message: `the task ran past its max execution time of ${input.maxExecutionMs} ms and was killed` } };
  }
  if (stopReason === 'timeout') return decideOutcome({ ...input, stopReason: undefined });
  const completed = (): TerminalOutcome => ({
    status: 'completed',
    ...(input.result !== undefined ? { result: input.result } : {}),
    ...(input.resultS3Key ? { resultS3Key: input.resultS3Key } : {}),
  });
  if (report.done) return completed();
  const killedByUs = report.signal === 'SIGKILL' && stopReason !== undefined;
  if (stopReason === 'shutdown' && killedByUs) return { status: 'failed', error: { reason: 'runner-lost', message: 'runner shut down' } };
  const ending = endingOf(report);
  if (stopReason === 'cancel') {
    if (ending.status === 'completed') return ending;
    const what = killedByUs ? 'it did not stop within the grace period and was killed' : ending.status === 'failed' ? `it ended: ${ending.error.message}` : 'it stopped';
    return { status: 'cancelled', error: { reason: 'cancelled', message: `cancelled on request; ${what}`, ...(ending.status === 'failed' && ending.error.stack ? { stack: ending.error.stack } : {}) } };
  }
  if (stopReason === 'shutdown' && ending.status === 'failed' && report.failed?.aborted) return { status: 'failed', error: { reason: 'runner-lost', message: 'runner shut down' } };
  return ending.status === 'completed' ? completed() : ending;
}

/**
 * Whether the script did not end within `maxExecutionMs` of its own start. Its end is what it
 * reported (done, failed) or, for a plain exit, when the runner saw the process go. Without a
 * start (the module never loaded) only the runner's timer can tell.
 */
export function ranOutOfTime(report: SandboxReport, maxExecutionMs: number, timerFired: boolean): boolean {
  if (report.startedAt === undefined) return timerFired;
  const endedAt = report.done?.at ?? report.failed?.at ?? report.exitedAt;
  return endedAt - report.startedAt > maxExecutionMs;
}

/** The script's own ending, ignoring why the runner may have stopped it. */
function endingOf(report: SandboxReport): TerminalOutcome {
  if (report.spawnError) return { status: 'failed', error: { reason: 'error', message: `the sandbox process could not be started: ${report.spawnError.message}` } };
  if (report.failed) {
    const { failed } = report;
    if (failed.stage === 'load') return { status: 'failed', error: { reason: 'job-load-failed', message: `the job module failed to load: ${failed.message}`, ...(failed.stack ? { stack: failed.stack } : {}) } };
    return { status: 'failed', error: { reason: 'error', message: failed.message, ...(failed.stack ? { stack: failed.stack } : {}) } };
  }
  const exit = outcomeOfExit(report.exitCode, report.signal);
  if (exit.kind === 'completed') return { status: 'completed' };
  if (exit.kind === 'cancelled') return { status: 'cancelled', error: { reason: 'cancelled', message: 'the job cancelled itself (exit code 100)', exitCode: 100 } };
  return { status: 'failed', error: { reason: exit.reason, message: exit.message, ...(exit.exitCode !== undefined ? { exitCode: exit.exitCode } : {}) } };
}
