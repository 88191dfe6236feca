import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_FLEET } from '../../../core/config/fleet';
import { RunnerFleet } from '../../../infra/constructs/runner-fleet';
import { actionsOf, coreFixture, statementsOf, TEST_IMAGE } from './support';

describe('RunnerFleet', () => {
  const { stack, core } = coreFixture();
  const classes = DEFAULT_FLEET.classes;
  const fleet = new RunnerFleet(stack, 'Runners', {
    core,
    classes,
    image: TEST_IMAGE,
    stopTimeout: Duration.seconds(120),
    jobRoles: [{ job: 'report', slotClass: 'small', role: { statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::reports/*'] }] } }],
  });
  const template = Template.fromStack(stack);
  const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);

  test('a task definition per class with its CPU, memory, slots and graceful stop', () => {
    for (const c of classes) {
      const props = template.findResources('AWS::ECS::TaskDefinition')[logicalId(fleet.services.get(c.name)!.taskDefinition)]!.Properties;
      expect(props).toMatchObject({ Cpu: String(c.cpu), Memory: String(c.memoryMiB), RequiresCompatibilities: ['FARGATE'] });
      const [container, ...others] = props.ContainerDefinitions;
      expect(others).toEqual([]);
      expect(container).toMatchObject({ StopTimeout: 120, LinuxParameters: { InitProcessEnabled: true }, LogConfiguration: { LogDriver: 'awslogs' } });
      const env = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
      expect(env).toMatchObject({ RUNNER_CLASS: c.name, RUNNER_SLOTS: String(c.slotsPerRunner), JOBFLEET_JOBS_ROOT: '/app/dist/jobs', JOBFLEET_SHARDS: '4', RUNNER_STOP_TIMEOUT_MS: '110000' });
      for (const key of ['JOBFLEET_TABLE', 'JOBFLEET_BUCKET', 'JOBFLEET_QUEUES', 'JOBFLEET_EVENT_BUS', 'JOBFLEET_LEASE_MS', 'JOBFLEET_GRACE_MS', 'AWS_REGION']) {
        expect(env[key]).toBeDefined();
      }
    }
  });

  test('a service per class, scalable between its min and max runners', () => {
    template.resourceCountIs('AWS::ECS::Service', classes.length);
    for (const c of classes) {
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        MinCapacity: c.minRunners,
        MaxCapacity: c.maxRunners,
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [logicalId(fleet.services.get(c.name)!.service), 'Name'] }])] },
      });
    }
  });

  test('scales to CEIL(SlotDemand / slotsPerRunner) runners, and back to the minimum when idle', () => {
    const small = classes[0]!;
    const policies = Object.entries(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'));
    const out = policies.find(([id]) => id.startsWith(`Runners${small.name}ScaleOut`))![1].Properties.StepScalingPolicyConfiguration;
    expect(out.AdjustmentType).toBe('ExactCapacity');
    expect(out.StepAdjustments.map((s: { ScalingAdjustment: number }) => s.ScalingAdjustment)).toEqual(Array.from({ length: small.maxRunners }, (_, i) => i + 1));
    const scaleIn = policies.find(([id]) => id.startsWith(`Runners${small.name}ScaleIn`))![1].Properties.StepScalingPolicyConfiguration;
    expect(scaleIn.StepAdjustments).toEqual([{ MetricIntervalUpperBound: 0, ScalingAdjustment: small.minRunners }]);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: `CEIL(FILL(d_${small.name}, 0) / ${small.slotsPerRunner})` }),
        Match.objectLike({
          Id: `d_${small.name}`,
          MetricStat: Match.objectLike({ Metric: { Namespace: 'Jobfleet', MetricName: 'SlotDemand', Dimensions: [{ Name: 'SlotClass', Value: small.name }] }, Stat: 'Maximum' }),
        }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      Threshold: 0,
      EvaluationPeriods: 5,
      TreatMissingData: 'breaching',
    });
  });

  test('each runner role consumes only its own queue', () => {
    for (const c of classes) {
      const statements = statementsOf(template, `Runners${c.name}TaskRole`);
      const sqs = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
      expect(sqs).toHaveLength(1);
      expect(actionsOf(sqs[0]!).sort()).toEqual(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']);
      expect(sqs[0]!.Resource).toEqual({ 'Fn::GetAtt': [logicalId(core.queues.queue(c.name)), 'Arn'] });
    }
  });

  test('runners can PutObject under logs/ and results/ only, and nothing else in S3 (jobs get their own roles)', () => {
    const statements = statementsOf(template, `Runners${classes[0]!.name}TaskRole`);
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    const puts = s3.filter((s) => actionsOf(s).includes('s3:PutObject'));
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]!.Resource)).toMatch(/"\/logs\/\*"\]\]\},.*"\/results\/\*"\]\]\}\]$/);
    expect(s3.filter((s) => !puts.includes(s))).toEqual([]);
  });

  test('a job with a role gets one, assumable by its class\'s runner role only, tagged with its own job name', () => {
    const role = fleet.jobRoles.get('report')!;
    const props = template.findResources('AWS::IAM::Role')[logicalId(role)]!.Properties;
    const small = logicalId(fleet.services.get('small')!.taskRole);
    expect(props.MaxSessionDuration).toBe(3600);
    expect(props.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Principal: { AWS: { 'Fn::GetAtt': [small, 'Arn'] } }, Condition: { StringEquals: { 'aws:RequestTag/job': 'report' } } },
    ]);
    expect(statementsOf(template, logicalId(role))).toEqual([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }]);
    const assume = statementsOf(template, `Runners${'small'}TaskRole`).find((s) => actionsOf(s).includes('sts:AssumeRole'))!;
    expect(assume.Resource).toEqual({ 'Fn::GetAtt': [logicalId(role), 'Arn'] });
    const env = template.findResources('AWS::ECS::TaskDefinition')[logicalId(fleet.services.get('small')!.taskDefinition)]!.Properties.ContainerDefinitions[0].Environment;
    expect(env.find((e: { Name: string }) => e.Name === 'RUNNER_JOB_ROLES')).toBeDefined();
    expect(statementsOf(template, 'RunnerslargeTaskRole').some((s) => actionsOf(s).includes('sts:AssumeRole'))).toBe(false);
  });

  test('runners may set scale-in protection on tasks of their own cluster only', () => {
    const statements = statementsOf(template, `Runners${classes[0]!.name}TaskRole`);
    const protection = statements.find((s) => actionsOf(s).includes('ecs:UpdateTaskProtection'))!;
    expect(protection.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-west-1:123456789012:task/', { Ref: logicalId(fleet.cluster) }, '/*']],
    });
  });

  test('no NAT gateway: public subnets, egress-only security group, free gateway endpoints', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    template.hasResourceProperties('AWS::ECS::Service', { NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) } });
    const sg = Object.values(template.findResources('AWS::EC2::SecurityGroup'))[0]!;
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('unexpected runner stops are counted from ECS task state events', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.ecs'], detail: Match.objectLike({ lastStatus: ['STOPPED'], stopCode: ['EssentialContainerExited', 'TaskFailedToStart'] }) }),
    });
    template.hasResourceProperties('AWS::Logs::MetricFilter', { MetricTransformations: [Match.objectLike({ MetricNamespace: 'Jobfleet', MetricName: 'RunnerFailures' })] });
  });
});
