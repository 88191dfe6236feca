import { CfnOutput, Duration, RemovalPolicies, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { acknowledge } from './nag';
import type { Construct } from 'constructs';
import { catalogueFleet, catalogueJobRoles, resolveSettings, type JobfleetSettings } from './config';
import type { JobRoleSpec } from './constructs/job-role';
import { JobfleetCore } from './constructs/jobfleet-core';
import { Monitoring } from './constructs/monitoring';
import { RunnerFleet } from './constructs/runner-fleet';
import { StatusEvents } from './constructs/status-events';
import { Ticker } from './constructs/ticker';

export interface JobfleetStackProps extends StackProps {
  /** Overrides of the `jobfleet:*` context values (see infra/config.ts). @default context, then defaults (the fleet: jobs/catalogue.ts's) */
  readonly settings?: Partial<JobfleetSettings>;
  /** Jobs with roles of their own. @default those of jobs/catalogue.ts that declare a `role` */
  readonly jobRoles?: readonly JobRoleSpec[];
  /** @default a new VPC with public subnets only (no NAT gateway) */
  readonly vpc?: ec2.IVpc;
  /** @default runner/Dockerfile built from the repository */
  readonly runnerImage?: ecs.ContainerImage;
  /** @default an SNS action for settings.alarmTopicArn, if set */
  readonly alarmActions?: readonly cloudwatch.IAlarmAction[];
  /** The ticker's handler file (export `handler`). @default functions/ticker/handler.ts */
  readonly tickerEntry?: string;
  /** The status-event consumer's handler file (export `handler`). @default functions/status-events/handler.ts */
  readonly statusEventsEntry?: string;
}

/** The whole scheduler: core resources, the ticker, the runner fleet, the status-event consumer and monitoring. */
export class JobfleetStack extends Stack {
  public readonly settings: JobfleetSettings;
  public readonly core: JobfleetCore;
  public readonly ticker: Ticker;
  public readonly fleet: RunnerFleet;
  /** Status events from the table's stream; absent when statusEvents is 'none'. */
  public readonly statusEvents?: StatusEvents;
  public readonly monitoring: Monitoring;
  /** Every alarm notifies it (alarm and OK): settings.alarmTopicArn's, or the stack's own. */
  public readonly alarmTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: JobfleetStackProps = {}) {
    super(scope, id, props);
    const s = (this.settings = resolveSettings(this.node, props.settings, catalogueFleet()));
    this.core = new JobfleetCore(this, 'Core', { settings: s });
    this.ticker = new Ticker(this, 'Ticker', {
      core: this.core,
      fleet: s.fleet,
      tickIntervalMs: s.tickIntervalMs,
      timeout: Duration.seconds(s.tickerTimeoutSeconds),
      memorySize: s.tickerMemoryMiB,
      reservedConcurrency: s.tickerReservedConcurrency,
      logRetention: s.logRetentionDays,
      entry: props.tickerEntry,
    });
    this.fleet = new RunnerFleet(this, 'Runners', {
      core: this.core,
      classes: s.fleet.classes,
      vpc: props.vpc,
      image: props.runnerImage,
      stopTimeout: Duration.seconds(s.runnerStopTimeoutSeconds),
      jobRoles: props.jobRoles ?? catalogueJobRoles(),
      containerInsights: s.containerInsights,
      logRetention: s.logRetentionDays,
      scaleInAfterMinutes: s.scaleInAfterMinutes,
    });
    if (s.statusEvents !== 'none') {
      this.statusEvents = new StatusEvents(this, 'StatusEvents', { core: this.core, mode: s.statusEvents, logRetention: s.logRetentionDays, entry: props.statusEventsEntry });
    }
    this.alarmTopic = s.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', s.alarmTopicArn) : this.createAlarmTopic(s.alarmEmail);
    const topicActions = [new cwActions.SnsAction(this.alarmTopic)];
    this.monitoring = new Monitoring(this, 'Monitoring', {
      core: this.core,
      ticker: this.ticker,
      fleet: this.fleet,
      statusEvents: this.statusEvents,
      oldestDueLagMs: s.alarmOldestDueLagMs,
      tickerErrors: s.alarmTickerErrors,
      deadLetterMessages: s.alarmDlqMessages,
      runnerFailures: s.alarmRunnerFailures,
      alarmActions: props.alarmActions ?? topicActions,
    });
    new CfnOutput(this, 'RuntimeEnvironment', {
      description: 'JOBFLEET_* environment for SDK clients (JSON)',
      value: this.toJsonString(this.core.runtimeEnvironment),
    });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    // The console shows desired and running runners per class from ECS (JOBFLEET_FLEET_SERVICES).
    new CfnOutput(this, 'FleetServices', {
      description: 'slot class -> ECS cluster and service of its runners (JSON)',
      value: this.toJsonString(Object.fromEntries([...this.fleet.services].map(([c, s]) => [c, { cluster: this.fleet.cluster.clusterName, service: s.service.serviceName }]))),
    });
    // 'destroy' leaves nothing behind: the core handles the table and bucket, this the log groups.
    if (s.removalPolicy === 'destroy') RemovalPolicies.of(this).destroy({ applyToResourceTypes: ['AWS::Logs::LogGroup'] });
  }

  private createAlarmTopic(email: string | undefined): sns.Topic {
    const topic = new sns.Topic(this, 'Alarms', { displayName: 'jobfleet alarms', enforceSSL: true });
    acknowledge(topic, 'SNS2', 'Alarm notifications carry alarm names and states, no data; CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a customer key costs $1/month. Pass alarmTopicArn for an encrypted topic of your own.');
    if (email) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }

  /** Let another service schedule tasks with the SDK (table writes); give it `runtimeEnvironment` too. */
  public grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return this.core.grantEnqueue(grantee);
  }

  /** Let another service or an operator read task logs (SDK `readLog`/`waitForLog`, `jobfleet logs`): `s3:GetObject` on `logs/*`. */
  public grantLogReads(grantee: iam.IGrantable): iam.Grant {
    return this.core.grantLogReads(grantee);
  }

  /** Job name -> its own role, for jobs that declare one: grant it what the job touches. */
  public get jobRoles(): ReadonlyMap<string, iam.Role> {
    return this.fleet.jobRoles;
  }

  /** The JOBFLEET_* variables an SDK client needs (deploy-time values). */
  public get runtimeEnvironment(): Readonly<Record<string, string>> {
    return this.core.runtimeEnvironment;
  }
}
