import { outcomeOfExit } from '../core/model/state-machine';
import type { TerminalOutcome } from '../core/lifecycle/finish';
import type { SandboxReport } from './sandbox/sandbox';

/** Why the runner stopped a script itself, if it did. */
export type StopReason = 'timeout' | 'cancel' | 'shutdown' | 'lost';

export interface OutcomeInput {
  readonly report: SandboxReport;
  /** The first reason the runner had to stop the script (abort signal and, after a grace, kill). */
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
 * - timeout wins over everything: the script had its time;
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
  if (stopReason === 'timeout') {
    return { status: 'failed', error: { reason: 'timeout', message: `the task ran past its max execution time of ${input.maxExecutionMs} ms and was killed` } };
  }
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
