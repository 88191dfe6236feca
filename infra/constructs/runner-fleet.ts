import { ArnFormat, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { SlotClass } from '../../core/config/fleet';
import { REPO_ROOT } from '../config';
import { acknowledge, acknowledgeWildcard } from '../nag';
import type { JobfleetCore } from './jobfleet-core';
import { JobRole, type JobRoleSpec } from './job-role';

/** Where the image keeps the compiled job modules (runner/Dockerfile builds them there). */
export const JOBS_ROOT_IN_IMAGE = '/app/dist/jobs';
import { METRIC, METRIC_NAMESPACE, SLOT_CLASS_DIMENSION } from '../../core/protocol/metrics';

export { METRIC_NAMESPACE };
/** Healthy while the runner's liveness file (RUNNER_HEARTBEAT_FILE) is fresh; the image's HEALTHCHECK runs the same. */
export const RUNNER_HEALTH_CHECK =
  "const f=process.env.RUNNER_HEARTBEAT_FILE||'/tmp/jobfleet-runner.heartbeat';const fs=require('fs');if(fs.existsSync(f)&&Date.now()-fs.statSync(f).mtimeMs>90000)process.exit(1)";

export interface RunnerFleetProps {
  readonly core: JobfleetCore;
  readonly classes: readonly SlotClass[];
  /** @default a new VPC: 2 AZs, public subnets only (no NAT gateway), S3 and DynamoDB gateway endpoints */
  readonly vpc?: ec2.IVpc;
  /** Subnets of the runners. @default public subnets of the new VPC, else the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Runners need a public IP to reach AWS APIs from a public subnet. @default true when the VPC is created here */
  readonly assignPublicIp?: boolean;
  /** The runner image. @default built from runner/Dockerfile (context: the repository root) */
  readonly image?: ecs.ContainerImage;
  /** SIGTERM -> SIGKILL; the runner finishes or hands back its tasks in this time. @default 120 seconds (Fargate maximum) */
  readonly stopTimeout?: Duration;
  /**
   * Jobs with a role of their own (the catalogue's `role`): one IAM role each, assumable by their
   * class's runners only. Job code never gets the runner's credentials. @default none
   */
  readonly jobRoles?: readonly JobRoleSpec[];
  /** @default false */
  readonly containerInsights?: boolean;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Minutes of zero demand before scaling in to the class minimum. @default 5 */
  readonly scaleInAfterMinutes?: number;
}

/** One class's runners. */
export interface RunnerService {
  readonly slotClass: SlotClass;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly taskRole: iam.Role;
  readonly scalableTarget: appscaling.ScalableTarget;
  /** CEIL(SlotDemand / slotsPerRunner): the runners this class needs now. */
  readonly desiredRunners: cloudwatch.IMetric;
  readonly container: ecs.ContainerDefinition;
}

/**
 * The runners: an ECS cluster with one Fargate service per slot class, each scaled on its slot
 * demand (the ticker's SlotDemand metric) between the class's min and max runners, down to zero.
 */
export class RunnerFleet extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly cluster: ecs.Cluster;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly executionRole: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** Slot class name -> its service. */
  public readonly services: ReadonlyMap<string, RunnerService>;
  /** Runner tasks that stopped on their own (crash, OOM, failed start), from ECS task state events. */
  public readonly failures: cloudwatch.Metric;
  /** Job name -> its own role (grant it what the job touches). */
  public readonly jobRoles: ReadonlyMap<string, iam.Role>;
  private readonly jobRoleMap = new Map<string, iam.Role>();

  constructor(scope: Construct, id: string, props: RunnerFleetProps) {
    super(scope, id);
    const ownVpc = props.vpc === undefined;
    this.vpc = props.vpc ?? this.createVpc();
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: props.containerInsights ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
    });
    // Runners only call out (AWS APIs); nothing calls in.
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', { vpc: this.vpc, description: 'jobfleet runners: egress only', allowAllOutbound: true });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    this.executionRole = new iam.Role(this, 'ExecutionRole', { assumedBy: this.ecsTasksPrincipal() });
    // Built for the task definitions' architecture whatever the deploying machine is (e.g. an ARM laptop).
    const image = props.image ?? ecs.ContainerImage.fromAsset(REPO_ROOT, { file: 'runner/Dockerfile', platform: Platform.LINUX_AMD64 });
    acknowledge(this.executionRole, 'IAM5[Resource::*]', 'ecr:GetAuthorizationToken (added by CDK for the image pull) cannot be scoped to a resource.');
    if (!props.containerInsights) {
      acknowledge(this.cluster, 'ECS4', 'Container Insights adds per-task custom metrics (cost); scaling uses the ticker\'s SlotDemand. Enable with -c jobfleet:containerInsights=true.');
    }

    const services = new Map<string, RunnerService>();
    for (const slotClass of props.classes) {
      services.set(slotClass.name, this.createService(slotClass, image, props, ownVpc));
    }
    this.services = services;
    this.jobRoles = this.jobRoleMap;
    this.failures = this.watchFailures();
  }

  /** A `JOB_*` variable on every runner: the jobs' own configuration, the only variables jobs see besides PATH, locale and region. */
  public addJobEnvironment(name: string, value: string): void {
    if (!/^JOB_[A-Z0-9_]+$/.test(name)) throw new Error(`job environment variables are named JOB_<NAME> (got ${name}): only those reach job code`);
    for (const s of this.services.values()) s.container.addEnvironment(name, value);
  }

  /**
   * ECS tasks, and only on behalf of this account's ECS resources in this region (the
   * confused-deputy conditions AWS documents for task and task execution roles).
   */
  private ecsTasksPrincipal(): iam.IPrincipal {
    return new iam.ServicePrincipal('ecs-tasks.amazonaws.com').withConditions({
      ArnLike: { 'aws:SourceArn': Stack.of(this).formatArn({ service: 'ecs', resource: '*' }) },
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
    });
  }

  private createVpc(): ec2.Vpc {
    // No NAT gateway (about $32/month each): runners get public IPs and no inbound rule.
    // DynamoDB and S3 traffic stays on the free gateway endpoints.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'runners', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    // Rejected traffic only: there is none in normal operation, so this costs ~nothing.
    vpc.addFlowLog('RejectedTraffic', { trafficType: ec2.FlowLogTrafficType.REJECT });
    return vpc;
  }

  private createService(slotClass: SlotClass, image: ecs.ContainerImage, props: RunnerFleetProps, ownVpc: boolean): RunnerService {
    const { core } = props;
    const name = slotClass.name;
    const taskRole = new iam.Role(this, `${name}-TaskRole`, {
      assumedBy: this.ecsTasksPrincipal(),
      description: `jobfleet runner (${name}): its own queue, the task table, logs/ in the bucket`,
    });
    core.queues.grantConsume(taskRole, name);
    core.tasks.grantWorker(taskRole);
    core.logs.grantLogWrites(taskRole);
    // Scale-in protection while the runner holds tasks (the ECS agent endpoint's task protection).
    const clusterTasks = Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${this.cluster.clusterName}/*` });
    taskRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'], resources: [clusterTasks] }));
    acknowledgeWildcard(taskRole, clusterTasks, 'A runner protects its own task, whose id is unknown until run time; limited to tasks of this cluster.');
    const jobRoles: Record<string, string> = {};
    for (const spec of (props.jobRoles ?? []).filter((j) => j.slotClass === name)) {
      const jobRole = new JobRole(this, `${spec.job}-JobRole`, { ...spec, runnerRole: taskRole });
      this.jobRoleMap.set(spec.job, jobRole.role);
      jobRoles[spec.job] = jobRole.role.roleArn;
    }

    const stopTimeout = props.stopTimeout ?? Duration.seconds(120);
    const taskDefinition = new ecs.FargateTaskDefinition(this, `${name}-Task`, {
      cpu: slotClass.cpu,
      memoryLimitMiB: slotClass.memoryMiB,
      taskRole,
      executionRole: this.executionRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const container = taskDefinition.addContainer('runner', {
      image,
      essential: true,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: name }),
      stopTimeout,
      // ECS ignores the image's HEALTHCHECK: the same check, in the task definition. Unhealthy
      // (the event loop stopped touching the liveness file for 90 s) -> ECS replaces the task.
      healthCheck: {
        command: ['CMD', 'node', '-e', RUNNER_HEALTH_CHECK],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        startPeriod: Duration.seconds(60),
        retries: 3,
      },
      // An init process as PID 1 forwards SIGTERM and reaps the job sandboxes' orphans.
      linuxParameters: new ecs.LinuxParameters(this, `${name}-Linux`, { initProcessEnabled: true }),
      environment: {
        ...core.runtimeEnvironment,
        AWS_REGION: Aws.REGION,
        RUNNER_CLASS: name,
        RUNNER_SLOTS: String(slotClass.slotsPerRunner),
        JOBFLEET_JOBS_ROOT: JOBS_ROOT_IN_IMAGE,
        // The runner's own shutdown budget after SIGTERM: 10 s less than ECS waits before SIGKILL.
        RUNNER_STOP_TIMEOUT_MS: String(Math.max(0, stopTimeout.toMilliseconds() - 10_000)),
        ...(Object.keys(jobRoles).length > 0 ? { RUNNER_JOB_ROLES: Stack.of(this).toJsonString(jobRoles) } : {}),
      },
    });

    acknowledge(taskDefinition, 'ECS2', 'The environment holds resource names, queue URLs and tuning values, no secrets.');

    const service = new ecs.FargateService(this, `${name}-Service`, {
      cluster: this.cluster,
      taskDefinition,
      // The start count; from then on the scaling policies own it (a later deploy that changes the
      // service resets it to the minimum for a minute; runners holding tasks are protected).
      desiredCount: slotClass.minRunners,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      securityGroups: [this.securityGroup],
      assignPublicIp: props.assignPublicIp ?? ownVpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ownVpc ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    const { scalableTarget, desiredRunners } = this.scaleOnDemand(slotClass, service, props.scaleInAfterMinutes ?? 5);
    return { slotClass, service, taskDefinition, taskRole, scalableTarget, desiredRunners, container };
  }

  /**
   * Runners = CEIL(SlotDemand / slotsPerRunner), clamped to [minRunners, maxRunners]. This is an
   * absolute count, so it is applied as ExactCapacity steps: target tracking needs a metric that
   * falls as capacity grows and cannot scale out from zero (no runners, no data). Alarms with
   * Auto Scaling actions re-invoke their action every minute while in ALARM, so the count follows
   * demand both ways; runners holding tasks are protected from scale-in until they finish them.
   */
  private scaleOnDemand(slotClass: SlotClass, service: ecs.FargateService, scaleInAfterMinutes: number) {
    const name = slotClass.name;
    const scalableTarget = new appscaling.ScalableTarget(this, `${name}-Scaling`, {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      resourceId: `service/${this.cluster.clusterName}/${service.serviceName}`,
      scalableDimension: 'ecs:service:DesiredCount',
      minCapacity: slotClass.minRunners,
      maxCapacity: slotClass.maxRunners,
      role: iam.Role.fromRoleArn(
        this,
        `${name}-ScalingRole`,
        Stack.of(this).formatArn({
          service: 'iam',
          region: '',
          resource: 'role/aws-service-role/ecs.application-autoscaling.amazonaws.com',
          resourceName: 'AWSServiceRoleForApplicationAutoScaling_ECSService',
        }),
      ),
    });
    const demand = new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: METRIC.slotDemand,
      dimensionsMap: { [SLOT_CLASS_DIMENSION]: name },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
    });
    // Metric ids must be unique per graph: d_<class>.
    const metricId = `d_${name.replace(/-/g, '_')}`;
    const desiredRunners = new cloudwatch.MathExpression({
      expression: `CEIL(FILL(${metricId}, 0) / ${slotClass.slotsPerRunner})`,
      usingMetrics: { [metricId]: demand },
      label: `${name} runners needed`,
      period: Duration.minutes(1),
    });

    const scaleOut = new appscaling.StepScalingAction(this, `${name}-ScaleOut`, {
      scalingTarget: scalableTarget,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
      cooldown: Duration.seconds(60),
    });
    // The alarm fires at >= 1 runner needed; step bounds are relative to that threshold.
    for (let runners = 1; runners <= slotClass.maxRunners; runners++) {
      scaleOut.addAdjustment({
        lowerBound: runners - 1,
        ...(runners < slotClass.maxRunners ? { upperBound: runners } : {}),
        adjustment: runners,
      });
    }
    new cloudwatch.Alarm(this, `${name}-DemandAlarm`, {
      metric: desiredRunners,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `jobfleet ${name}: slot demand needs runners (scales the ${name} service out)`,
    }).addAlarmAction({ bind: () => ({ alarmActionArn: scaleOut.scalingPolicyArn }) });

    const scaleIn = new appscaling.StepScalingAction(this, `${name}-ScaleIn`, {
      scalingTarget: scalableTarget,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
      cooldown: Duration.seconds(60),
    });
    scaleIn.addAdjustment({ upperBound: 0, adjustment: slotClass.minRunners });
    new cloudwatch.Alarm(this, `${name}-IdleAlarm`, {
      metric: desiredRunners,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: scaleInAfterMinutes,
      // No SlotDemand at all (nothing published) also means no demand.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `jobfleet ${name}: no slot demand for ${scaleInAfterMinutes} minutes (scales the ${name} service in to ${slotClass.minRunners})`,
    }).addAlarmAction({ bind: () => ({ alarmActionArn: scaleIn.scalingPolicyArn }) });

    return { scalableTarget, desiredRunners };
  }

  /** ECS task state events of runners that stopped on their own -> a log group -> a metric. */
  private watchFailures(): cloudwatch.Metric {
    const logGroup = new logs.LogGroup(this, 'StoppedRunners', { retention: logs.RetentionDays.ONE_MONTH });
    // Written by EventBridge; a native resource policy (the events-targets helper needs a custom-resource Lambda).
    logGroup.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const rule = new events.Rule(this, 'RunnerStopped', {
      description: 'jobfleet: a runner task stopped on its own (crash, OOM, failed start)',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [this.cluster.clusterArn],
          lastStatus: ['STOPPED'],
          // Scale-in and deployments stop tasks with ServiceSchedulerInitiated / UserInitiated.
          stopCode: ['EssentialContainerExited', 'TaskFailedToStart'],
        },
      },
    });
    const targetArn = Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', arnFormat: ArnFormat.COLON_RESOURCE_NAME, resourceName: logGroup.logGroupName });
    rule.addTarget({ bind: () => ({ arn: targetArn }) });
    new logs.MetricFilter(this, 'RunnerFailuresFilter', {
      logGroup,
      filterPattern: logs.FilterPattern.allEvents(),
      metricNamespace: METRIC_NAMESPACE,
      metricName: METRIC.runnerFailures,
      metricValue: '1',
    });
    return new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: METRIC.runnerFailures, statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) });
  }
}
