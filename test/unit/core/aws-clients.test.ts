import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createServer, type Server, type Socket } from 'node:net';
import { loadRuntimeConfig } from '../../../core/config/runtime';
import { createAwsClients, longPollRequestTimeoutMs } from '../../../core/store/aws-clients';

/** An endpoint that accepts connections and never answers: a black hole. */
async function blackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('AWS clients', () => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(() => {
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
  });
  afterAll(() => {
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  });

  it('a call to an endpoint that never answers fails after the request timeout, instead of hanging', async () => {
    const hole = await blackHole();
    const clients = createAwsClients({ region: 'us-east-1', endpoint: hole.url, maxAttempts: 1, awsRequestTimeoutMs: 300, awsConnectTimeoutMs: 300 });
    const started = Date.now();
    try {
      await expect(
        clients.dynamodb.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } })),
      ).rejects.toMatchObject({ name: 'TimeoutError' });
      // Generous: the point is that it ends at all.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      clients.dynamodb.destroy();
      await hole.close();
    }
  });

  it('reads the timeouts from the environment, with defaults, and rejects nonsense naming the variable', () => {
    expect(loadRuntimeConfig({})).toMatchObject({ awsConnectTimeoutMs: 3000, awsRequestTimeoutMs: 10_000 });
    expect(loadRuntimeConfig({ JOBFLEET_AWS_CONNECT_TIMEOUT_MS: '500', JOBFLEET_AWS_REQUEST_TIMEOUT_MS: '2000' })).toMatchObject({ awsConnectTimeoutMs: 500, awsRequestTimeoutMs: 2000 });
    expect(() => loadRuntimeConfig({ JOBFLEET_AWS_REQUEST_TIMEOUT_MS: '-1' })).toThrow(/JOBFLEET_AWS_REQUEST_TIMEOUT_MS/);
  });

  it('gives an SQS long poll its wait time on top of the request timeout', () => {
    expect(longPollRequestTimeoutMs(20, 10_000)).toBe(30_000);
  });
});
