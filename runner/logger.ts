import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * The runner's own log: JSON lines on stdout (CloudWatch via the container's log driver), with
 * the service name and runner id on every line. Task output never comes here: it goes to each
 * task's own log file.
 */
export function createRunnerLogger(runnerId: string, level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'jobfleet-runner', runnerId }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
