import type { RuntimeConfig } from '../../../core/config/runtime';
import { defineCatalogue } from '../../../core/catalogue';
import { TaskTimeoutError, ValidationError } from '../../../core/errors';
import { JobfleetClient } from '../../../core/sdk/client';
import type { AwsClients } from '../../../core/store/aws-clients';
import { ManualClock, settle } from '../../support/manual-clock';
import { memoryServices } from '../../support/memory-services';

/** waitFor and waitForLog wait on the client's clock, with validated options. */
describe('waiting for a task', () => {
  const catalogue = defineCatalogue({ root: '/jobs', jobs: [{ name: 'work', module: 'work.js', maxExecutionTime: 10_000 }] });
  const config = { tableName: 'memory', bucket: 'logs', queueUrls: { small: 'https://sqs.local/small' }, shards: 4, graceMs: 500 } as unknown as RuntimeConfig;
  const setup = () => {
    const clock = new ManualClock(Date.UTC(2027, 0, 4));
    const { lifecycle } = memoryServices(clock);
    const client = new JobfleetClient({ catalogue, services: { ...lifecycle, config, clients: {} as AwsClients } });
    return { clock, client };
  };

  it('times out on the virtual clock after exactly timeoutMs, polling every pollMs', async () => {
    const { clock, client } = setup();
    const task = await client.schedule('work');
    let outcome: unknown;
    void client.waitFor(task.id, { timeoutMs: 5000, pollMs: 1000 }).then(
      (t) => (outcome = t),
      (err: unknown) => (outcome = err),
    );
    await clock.advance(4999);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    await settle();
    expect(outcome).toBeInstanceOf(TaskTimeoutError);
    expect((outcome as Error).message).toBe(`task ${task.id} is still pending after 5000 ms`);
  });

  it('returns the task once it has ended', async () => {
    const { clock, client } = setup();
    const task = await client.schedule('work');
    const waiting = client.waitFor(task.id, { timeoutMs: '1 minute', pollMs: '1s' } as never);
    await clock.advance(2000);
    await client.cancel(task.id);
    await clock.advance(1000);
    expect((await waiting).status).toBe('cancelled');
  });

  it.each([
    [{ timeoutMs: Number.NaN }, 'options.timeoutMs: is NaN'],
    [{ pollMs: 0 }, 'options.pollMs: 0 ms is shorter than the minimum of 50 ms'],
    [{ pollMs: -5 }, 'options.pollMs: -5 ms is negative'],
    [{ timeout: 5 }, 'options'],
  ])('waitFor and waitForLog refuse %p', async (options, message) => {
    const { client } = setup();
    const task = await client.schedule('work');
    await expect(client.waitFor(task.id, options as never)).rejects.toThrow(ValidationError);
    await expect(client.waitFor(task.id, options as never)).rejects.toThrow(message);
    await expect(client.waitForLog(task.id, options as never)).rejects.toThrow(ValidationError);
  });

  it('waitForLog checks the task id by shape before any read', async () => {
    const { client } = setup();
    await expect(client.waitForLog('x'.repeat(5000))).rejects.toThrow(ValidationError);
  });
});
