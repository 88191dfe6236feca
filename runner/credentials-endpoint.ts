import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TaskCredentials } from './sandbox/environment';

/**
 * Job-role credentials served to sandboxes the way ECS serves a container's: an HTTP endpoint
 * on loopback that every AWS SDK reads through AWS_CONTAINER_CREDENTIALS_FULL_URI, with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN as the Authorization header. Unlike credentials in the
 * environment, the SDK asks again before they expire, and each ask gets a fresh session when the
 * current one is close to its end: a role assumed by the runner lasts at most an hour (role
 * chaining), and a task may run for days.
 *
 * Each task gets its own random 256-bit token, in its sandbox's environment only (another
 * sandbox runs under another uid and cannot read it); the token answers for that task's
 * credentials alone, and stops answering when the task ends.
 */
export interface CredentialsLease {
  /** The sandbox's environment additions. */
  readonly env: Readonly<Record<string, string>>;
  /** The task has ended: its token stops answering. */
  release(): void;
}

/** A session this close to its expiry is replaced on the next ask (the SDKs ask again about 5 minutes before). */
export const REFRESH_BEFORE_MS = 10 * 60_000;

interface Session {
  current: TaskCredentials;
  refreshing?: Promise<TaskCredentials>;
  readonly assume: () => Promise<TaskCredentials>;
}

export class CredentialsEndpoint {
  private listening?: Promise<string>;
  private server?: Server;
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: { readonly now?: () => number; readonly refreshBeforeMs?: number } = {}) {}

  /** Serves `first` to one task, renewing it through `assume` as it nears its end. */
  async open(first: TaskCredentials, assume: () => Promise<TaskCredentials>): Promise<CredentialsLease> {
    const current = first;
    const url = await this.listen();
    const token = randomBytes(32).toString('hex');
    this.sessions.set(token, { current, assume });
    return {
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN: token },
      release: () => this.sessions.delete(token),
    };
  }

  /** Tasks whose token still answers. */
  get openSessions(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    this.sessions.clear();
    const server = this.server;
    this.server = undefined;
    this.listening = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private listen(): Promise<string> {
    this.listening ??= new Promise((resolve, reject) => {
      const server = createServer((req, res) => void this.answer(req, res));
      server.on('error', reject);
      // Loopback only: the SDKs accept plain HTTP for a full URI on 127.0.0.0/8.
      server.listen(0, '127.0.0.1', () => {
        this.server = server;
        server.unref();
        resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/credentials`);
      });
    });
    return this.listening;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A token is 256 random bits: a lookup's timing tells an attacker nothing useful.
    const session = req.method === 'GET' && req.url === '/credentials' ? this.sessions.get(req.headers.authorization ?? '') : undefined;
    if (!session) {
      res.writeHead(403, { 'Content-Type': 'application/json' }).end('{"message":"unknown or expired task token"}');
      return;
    }
    try {
      const c = await this.fresh(session);
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken, Expiration: new Date(c.expiration).toISOString() }));
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: `could not renew the job role session: ${(err as Error).message}` }));
    }
  }

  /** The current session, or a new one when it is close to its end (one assumption at a time; a failed renewal keeps the old one while it lasts). */
  private async fresh(session: Session): Promise<TaskCredentials> {
    const now = (this.options.now ?? Date.now)();
    if (session.current.expiration - now > (this.options.refreshBeforeMs ?? REFRESH_BEFORE_MS)) return session.current;
    session.refreshing ??= session.assume().finally(() => (session.refreshing = undefined));
    try {
      session.current = await session.refreshing;
    } catch (err) {
      if (session.current.expiration <= now) throw err;
    }
    return session.current;
  }
}
