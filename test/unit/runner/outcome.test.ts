import { decideOutcome } from '../../../runner/outcome';
import type { SandboxReport } from '../../../runner/sandbox/sandbox';

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

  it('a timeout is a timeout, however the script then ended', () => {
    for (const r of [report({ exitCode: null, signal: 'SIGKILL' }), report({ done }), report({ exitCode: 1, failed: failed('run', true) })]) {
      expect(decideOutcome({ ...base, report: r, stopReason: 'timeout' })).toMatchObject({ status: 'failed', error: { reason: 'timeout', message: expect.stringContaining('1000 ms') } });
    }
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

  it('records nothing for a task this runner lost', () => {
    expect(decideOutcome({ ...base, report: report({ done }), stopReason: 'lost' })).toBeUndefined();
  });
});
