import { decideOutcome } from '../../../runner/outcome';
import type { SandboxReport } from '../../../runner/sandbox/port';

const report = (r: Partial<SandboxReport>): SandboxReport => ({ exitCode: 0, signal: null, exitedAt: 0, ...r });
const failed = (stage: 'load' | 'run', aborted = false) => ({ type: 'failed' as const, at: 1, stage, message: 'boom', stack: 'Error: boom\n at x', aborted });
const done = { type: 'done' as const, at: 1 };
const base = { maxExecutionMs: 1000 };

describe('decideOutcome', () => {
  it('maps the job contract: resolved, thrown, load error, exit codes, signals', () => {
    expect(decideOutcome({ ...base, report: report({ done }), result: { a: 1 } })).toEqual({ status: 'completed', result: { a: 1 } });
    expect(decideOutcome({ ...base, report: report({ done }), resultS3Key: 'results/x' })).toEqual({ status: 'completed', resultS3Key: 'results/x' });
    expect(decideOutcome({ ...base, report: report({ exitCode: 0 }) })).toEqual({ status: 'completed' });
    expect(decideOutcome({ ...base, report: report({ exitCode: 1, failed: failed('run') }) })).toEqual({ status: 'failed', error: { reason: 'error', message: 'boom', stack: 'Error: boom\n at x' } });
    expect(decideOutcome({ ...base, report: report({ exitCode: 1, failed: failed('load') }) })).toMatchObject({ status: 'failed', error: { reason: 'job-load-failed' } });
    expect(decideOutcome({ ...base, report: report({ exitCode: 1 }) })).toMatchObject({ status: 'failed', error: { reason: 'exit-code', exitCode: 1 } });
    expect(decideOutcome({ ...base, report: report({ exitCode: 100 }) })).toMatchObject({ status: 'cancelled', error: { reason: 'cancelled', exitCode: 100 } });
    expect(decideOutcome({ ...base, report: report({ exitCode: null, signal: 'SIGSEGV' }) })).toMatchObject({ status: 'failed', error: { reason: 'exit-code', message: expect.stringContaining('SIGSEGV') } });
    expect(decideOutcome({ ...base, report: report({ exitCode: null, signal: null, spawnError: new Error('ENOMEM') }) })).toMatchObject({ status: 'failed', error: { reason: 'error', message: expect.stringContaining('ENOMEM') } });
  });

  describe('the time limit is the script\'s own time (from its start, not the sandbox\'s boot)', () => {
    // The script started at 5000 (its module loaded); the limit is 1000 ms.
    const started = { startedAt: 5000 };

    it('a script that ran out of its own time is a timeout, however it then ended', () => {
      for (const r of [
        report({ ...started, exitCode: null, signal: 'SIGKILL', exitedAt: 6300 }),
        report({ ...started, done: { type: 'done', at: 6001 }, exitedAt: 6002 }),
        report({ ...started, exitCode: 1, failed: { ...failed('run', true), at: 6200 }, exitedAt: 6210 }),
      ]) {
        expect(decideOutcome({ ...base, report: r, stopReason: 'timeout' })).toMatchObject({ status: 'failed', error: { reason: 'timeout', message: expect.stringContaining('1000 ms') } });
      }
    });

    it('a script that finished within its time keeps its outcome, even if the timeout fired while it was being recorded', () => {
      const r = report({ ...started, done: { type: 'done', at: 5900 }, exitedAt: 6400 });
      expect(decideOutcome({ ...base, report: r, stopReason: 'timeout', result: { ok: true } })).toEqual({ status: 'completed', result: { ok: true } });
      expect(decideOutcome({ ...base, report: report({ ...started, exitCode: 0, exitedAt: 5990 }), stopReason: 'timeout' })).toEqual({ status: 'completed' });
      expect(decideOutcome({ ...base, report: report({ ...started, exitCode: 1, failed: { ...failed('run'), at: 5500 } }), stopReason: 'timeout' })).toMatchObject({ status: 'failed', error: { reason: 'error' } });
    });

    it('the time the sandbox took to boot and load the module does not count', () => {
      // Handed over at 0, loaded at 5000, done 900 ms later: 5.9 s in the sandbox, 0.9 s of script.
      expect(decideOutcome({ ...base, report: report({ ...started, done: { type: 'done', at: 5900 }, exitedAt: 5950 }) })).toEqual({ status: 'completed' });
    });

    it('a module that never loaded is a timeout when the runner had to stop it for time', () => {
      expect(decideOutcome({ ...base, report: report({ exitCode: null, signal: 'SIGKILL' }), stopReason: 'timeout' })).toMatchObject({ error: { reason: 'timeout' } });
    });
  });

  it('after a cancel request: a completed script keeps its result, any other ending is cancelled', () => {
    expect(decideOutcome({ ...base, report: report({ done }), stopReason: 'cancel', result: 1 })).toEqual({ status: 'completed', result: 1 });
    expect(decideOutcome({ ...base, report: report({ exitCode: 1, failed: failed('run', true) }), stopReason: 'cancel' })).toMatchObject({ status: 'cancelled', error: { reason: 'cancelled', message: expect.stringContaining('boom') } });
    expect(decideOutcome({ ...base, report: report({ exitCode: null, signal: 'SIGKILL' }), stopReason: 'cancel' })).toMatchObject({ status: 'cancelled', error: { message: expect.stringContaining('grace period') } });
    expect(decideOutcome({ ...base, report: report({ exitCode: 100 }), stopReason: 'cancel' })).toMatchObject({ status: 'cancelled' });
  });

  it('a runner shutting down hands a killed or aborted script back as runner-lost; what finished keeps its outcome', () => {
    expect(decideOutcome({ ...base, report: report({ exitCode: null, signal: 'SIGKILL' }), stopReason: 'shutdown' })).toEqual({ status: 'failed', error: { reason: 'runner-lost', message: 'runner shut down' } });
    expect(decideOutcome({ ...base, report: report({ exitCode: 1, failed: failed('run', true) }), stopReason: 'shutdown' })).toMatchObject({ error: { reason: 'runner-lost' } });
    expect(decideOutcome({ ...base, report: report({ done }), stopReason: 'shutdown' })).toEqual({ status: 'completed' });
  });

  it('records nothing for a task this runner lost, nor for a sandbox that ended itself at its lease deadline', () => {
    expect(decideOutcome({ ...base, report: report({ done }), stopReason: 'lost' })).toBeUndefined();
    expect(decideOutcome({ ...base, report: report({ exitCode: null, signal: 'SIGKILL', deadlinePassed: { type: 'deadline-passed', at: 1 } }) })).toBeUndefined();
  });
});
