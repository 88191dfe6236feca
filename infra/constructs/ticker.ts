import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULT_FLEET, type FleetConfig } from '../../core/config/fleet';
import { bundledFunction } from './bundled-function';
import type { JobfleetCore } from './jobfleet-core';

export interface TickerProps {
  readonly core: JobfleetCore;
  /** The slot classes the ticker routes to and reports demand for (JOBFLEET_FLEET); the runner services must match. @default DEFAULT_FLEET */
  readonly fleet?: FleetConfig;
  /** Pause between ticks inside one invocation (JOBFLEET_TICK_INTERVAL_MS). @default 1000 */
  readonly tickIntervalMs?: number;
  /** The handler loops until its remaining time runs low, so this is also the loop's length; longer than the minute between invocations so they overlap rather than leave a gap. @default 70 seconds */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Bounds overlapping invocations (one finishing, one starting); 0 = no reservation. @default 2 */
  readonly reservedConcurrency?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default functions/ticker/handler.ts (export `handler`) */
  readonly entry?: string;
  /** @default every minute */
  readonly schedule?: events.Schedule;
}

/**
 * The ticker Lambda: started every minute by an EventBridge rule, it claims due tasks, dispatches
 * them, reaps expired leases and publishes SlotDemand / OldestDueLagMs as embedded metrics.
 * Bundled locally with esbuild (no Docker).
 */
export class Ticker extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: TickerProps) {
    super(scope, id);
    const { core } = props;
    const timeout = props.timeout ?? Duration.seconds(70);
    const reserved = props.reservedConcurrency ?? 2;

    const bundled = bundledFunction(this, 'Function', {
      entry: props.entry ?? 'functions/ticker/handler.ts',
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      memorySize: props.memorySize ?? 256,
      timeout,
      environment: {
        ...core.runtimeEnvironment,
        JOBFLEET_TICK_INTERVAL_MS: String(props.tickIntervalMs ?? 1000),
        JOBFLEET_FLEET: JSON.stringify({ classes: (props.fleet ?? DEFAULT_FLEET).classes }),
      },
      extra: {
        ...(reserved > 0 ? { reservedConcurrentExecutions: reserved } : {}),
        // A missed minute is covered by the next invocation; a retry would only overlap it.
        retryAttempts: 0,
      },
    });
    this.function = bundled.fn;
    this.role = bundled.role;
    this.logGroup = bundled.logGroup;
    // Metrics need no permission: they are embedded metric format lines in the log.
    core.tasks.grantWorker(this.role);
    core.queues.grantDispatch(this.role);

    this.rule = new events.Rule(this, 'EveryMinute', {
      schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
