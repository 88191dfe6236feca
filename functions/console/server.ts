import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../core/errors';
import { createConsole, type ConsoleOptions } from './app';
import { isLoopback } from './auth';

export interface ServeOptions extends ConsoleOptions {
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** 0 picks a free port. @default 4680 */
  readonly port?: number;
}

export interface RunningConsole {
  readonly url: string;
  close(): Promise<void>;
}

export const DEFAULT_CONSOLE_PORT = 4680;

/** Serves the console over HTTP with Node. Beyond loopback it refuses to start without auth. */
export async function serveConsole(options: ServeOptions): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && !options.auth) {
    throw new ConfigError(`the console would listen on ${host}, beyond loopback, without authentication; set JOBFLEET_CONSOLE_TOKEN (or --token), or JOBFLEET_CONSOLE_USER and JOBFLEET_CONSOLE_PASSWORD, or listen on 127.0.0.1`);
  }
  const app = createConsole(options);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? DEFAULT_CONSOLE_PORT }, (info: AddressInfo) => {
      const shown = info.address.includes(':') ? `[${info.address}]` : info.address;
      resolve({ url: `http://${shown}:${info.port}`, close: () => new Promise<void>((r) => server.close(() => r())) });
    });
    server.once('error', reject);
  });
}
