import { handle } from 'hono/aws-lambda';
import { createConsole, type ConsoleOptions } from './app';

/**
 * The console behind a Lambda function URL (or API Gateway): build it once per container with
 * your catalogue and an SDK client, and export the result as your function's handler. Give it
 * `auth` (a token or basic auth): a function URL is reachable beyond loopback.
 *
 *   export const handler = consoleLambdaHandler({ client, catalogue, aggregates, auth: { token: process.env.JOBFLEET_CONSOLE_TOKEN! } });
 */
export function consoleLambdaHandler(options: ConsoleOptions & Required<Pick<ConsoleOptions, 'auth'>>): ReturnType<typeof handle> {
  return handle(createConsole(options));
}
