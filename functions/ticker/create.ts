import pino, { type DestinationStream, type Logger } from 'pino';
import { createServices, type Services } from '../../core/services';
import { loadTickerSettings, type TickerSettings } from './config';
import { runLoop, sleep, type LoopSummary } from './loop';
import { noMetrics, stdoutMetrics, type MetricsSink } from './metrics';
import { SqsDispatcher } from './sqs-dispatcher';
import { Ticker } from './tick';

/** The ticker's log: JSON lines with the service name on each. */
export function createTickerLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'jobfleet-ticker' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

export interface TickerProcess {
  readonly ticker: Ticker;
  readonly settings: TickerSettings;
  readonly services: Services;
  readonly logger: Logger;
}

/** Wires a ticker from the environment: config, clients, stores, SQS adapter, logger, metrics. Once per process. */
export function createTickerFromEnv(env: Record<string, string | undefined>, overrides: { metrics?: MetricsSink; logger?: Logger } = {}): TickerProcess {
  const settings = loadTickerSettings(env);
  const services = createServices(settings.runtime);
  const logger = overrides.logger ?? createTickerLogger(settings.logLevel);
  const ticker = new Ticker({
    lifecycle: services,
    config: settings.runtime,
    fleet: settings.fleet,
    sender: new SqsDispatcher(services.clients.sqs, settings.runtime.queueUrls),
    logger,
    metrics: overrides.metrics ?? (settings.metrics === 'emf' ? stdoutMetrics : noMetrics),
    options: settings.options,
  });
  return { ticker, settings, services, logger };
}

/**
 * The loop with the real clock, ticking until `shouldContinue` says no or `signal` aborts; then
 * the messages still held for tasks claimed ahead of time go out at their due time (at most the
 * look-ahead from now).
 */
export async function runTicker(p: TickerProcess, shouldContinue: (now: number, longestTickMs: number) => boolean, signal?: AbortSignal): Promise<LoopSummary & { released: number }> {
  const summary = await runLoop({
    tick: (now) => p.ticker.tick(now),
    clock: Date.now,
    sleep,
    intervalMs: p.ticker.options.tickIntervalMs,
    minGapMs: p.ticker.options.minTickGapMs,
    shouldContinue,
    onError: (err) => p.logger.error({ err }, 'tick failed; the next tick starts over'),
    ...(signal ? { signal } : {}),
  });
  const released = await p.ticker.releaseRemaining();
  return { ...summary, released };
}
