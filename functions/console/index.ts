/** The operations console: a Fetch-style Hono app, a Node server, and a Lambda handler. */
export { createConsole, type ConsoleOptions } from './app';
export { serveConsole, DEFAULT_CONSOLE_PORT, type ServeOptions, type RunningConsole } from './server';
export { consoleLambdaHandler } from './lambda';
export type { ConsoleAuth } from './auth';
