import { DEFAULT_FLEET } from '../../../core/config/fleet';
import { loadRuntimeConfig } from '../../../core/config/runtime';
import { ConfigError } from '../../../core/errors';
import { parseRunnerEnv, resolveRunnerConfig, type CatalogueFacts } from '../../../runner/config';

const runtime = (queues: Record<string, string> = { small: 'http://q/small', large: 'http://q/large' }, lease = '30000') =>
  loadRuntimeConfig({ JOBFLEET_QUEUES: JSON.stringify(queues), JOBFLEET_LEASE_MS: lease });

const facts = (slotsByJob: Record<string, [string, number]> = { a: ['small', 1], b: ['small', 3], c: ['large', 16] }): CatalogueFacts => {
  const jobs = Object.entries(slotsByJob).map(([name, [slotClass, slots]]) => ({ name, slotClass, snapshot: { slots } }));
  return {
    fleet: DEFAULT_FLEET,
    inClass: (c) => jobs.filter((j) => j.slotClass === c),
    largestSlots: (c) => Math.max(1, ...jobs.filter((j) => j.slotClass === c).map((j) => j.snapshot.slots)),
  };
};

describe('parseRunnerEnv', () => {
  it('applies defaults', () => {
    const env = parseRunnerEnv({});
    expect(env).toMatchObject({ RUNNER_WAIT_TIME_SECONDS: 20, RUNNER_STOP_TIMEOUT_MS: 110_000, RUNNER_LOG_CAP_BYTES: 10 * 1024 * 1024, RUNNER_RESULT_INLINE_BYTES: 32 * 1024, RUNNER_SPARES: 1 });
  });

  it('reports every bad variable at once, by name, with the value given', () => {
    let error: unknown;
    try {
      parseRunnerEnv({ RUNNER_SLOTS: 'lots', RUNNER_WAIT_TIME_SECONDS: '30', RUNNER_CLASS: 'Big Class', RUNNER_LOG_LEVEL: 'loud', RUNNER_STOP_TIMEOUT_MS: '-1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['RUNNER_SLOTS', 'RUNNER_WAIT_TIME_SECONDS', 'RUNNER_CLASS', 'RUNNER_LOG_LEVEL', 'RUNNER_STOP_TIMEOUT_MS']) expect(message).toContain(`${name}:`);
    expect(message).toContain('(got "lots")');
  });

  it('treats empty variables as unset', () => {
    expect(parseRunnerEnv({ RUNNER_SLOTS: '', RUNNER_CLASS: '' }).RUNNER_SLOTS).toBeUndefined();
  });
});

describe('resolveRunnerConfig', () => {
  it('takes the queue of its class, the slots of its fleet class, and the largest job of the class', () => {
    const config = resolveRunnerConfig(parseRunnerEnv({ RUNNER_CLASS: 'small' }), runtime(), facts(), 42);
    expect(config).toMatchObject({ slotClass: 'small', queueUrl: 'http://q/small', slots: 4, largestJobSlots: 3, heartbeatMs: 10_000, leaseMs: 30_000 });
    expect(config.runnerId).toMatch(/-42$/);
  });

  it('needs RUNNER_CLASS only when there is more than one queue', () => {
    expect(resolveRunnerConfig(parseRunnerEnv({}), runtime({ large: 'http://q/large' }), facts()).slotClass).toBe('large');
    expect(() => resolveRunnerConfig(parseRunnerEnv({}), runtime(), facts())).toThrow(/RUNNER_CLASS: required when JOBFLEET_QUEUES names 2 classes/);
  });

  it('rejects a class without a queue, and a slot count that cannot hold the largest job', () => {
    expect(() => resolveRunnerConfig(parseRunnerEnv({ RUNNER_CLASS: 'gpu', RUNNER_SLOTS: '2' }), runtime(), facts())).toThrow(/class "gpu" has no queue/);
    expect(() => resolveRunnerConfig(parseRunnerEnv({ RUNNER_CLASS: 'small', RUNNER_SLOTS: '2' }), runtime(), facts())).toThrow(/RUNNER_SLOTS: 2 slots cannot hold the class's largest jobs: b \(3\)/);
  });

  it('rejects a heartbeat that would let the lease lapse', () => {
    expect(() => resolveRunnerConfig(parseRunnerEnv({ RUNNER_CLASS: 'small', RUNNER_HEARTBEAT_MS: '1000' }), runtime(undefined, '900'), facts())).toThrow(/RUNNER_HEARTBEAT_MS/);
  });

  it('fences a margin before the lease ends (a tenth by default), leaving room for a heartbeat', () => {
    expect(resolveRunnerConfig(parseRunnerEnv({ RUNNER_CLASS: 'small' }), runtime(), facts()).fenceMarginMs).toBe(3000);
    expect(resolveRunnerConfig(parseRunnerEnv({ RUNNER_CLASS: 'small', RUNNER_FENCE_MARGIN_MS: '500' }), runtime(), facts()).fenceMarginMs).toBe(500);
    expect(() => resolveRunnerConfig(parseRunnerEnv({ RUNNER_CLASS: 'small', RUNNER_HEARTBEAT_MS: '10000', RUNNER_FENCE_MARGIN_MS: '20000' }), runtime(), facts())).toThrow(/RUNNER_FENCE_MARGIN_MS/);
  });

  it('lets RUNNER_SLOTS override the fleet, and RUNNER_HEARTBEAT_FILE=none switch the liveness file off', () => {
    const config = resolveRunnerConfig(parseRunnerEnv({ RUNNER_CLASS: 'small', RUNNER_SLOTS: '8', RUNNER_HEARTBEAT_FILE: 'none' }), runtime(), facts());
    expect(config.slots).toBe(8);
    expect(config.livenessFile).toBeUndefined();
  });
});
