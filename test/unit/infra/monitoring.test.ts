import { Template } from 'aws-cdk-lib/assertions';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Monitoring } from '../../../infra/constructs/monitoring';
import { RunnerFleet } from '../../../infra/constructs/runner-fleet';
import { Ticker } from '../../../infra/constructs/ticker';
import { coreFixture, FIXTURE_TICKER, TEST_IMAGE } from './support';

describe('Monitoring', () => {
  const { stack, core } = coreFixture();
  const ticker = new Ticker(stack, 'Ticker', { core, entry: FIXTURE_TICKER });
  const fleet = new RunnerFleet(stack, 'Runners', { core, classes: [...core.queues.queues.keys()].map((name) => ({ name, slotsPerRunner: 4, cpu: 512, memoryMiB: 1024, minRunners: 0, maxRunners: 2 })), image: TEST_IMAGE });
  const topic = new sns.Topic(stack, 'Pager');
  const monitoring = new Monitoring(stack, 'Monitoring', { core, ticker, fleet, oldestDueLagMs: 120_000, alarmActions: [new cwActions.SnsAction(topic)] });
  const template = Template.fromStack(stack);
  const alarm = (id: string) => {
    const found = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([logical]) => logical.startsWith(`Monitoring${id}`));
    expect(found).toHaveLength(1);
    return found[0]![1].Properties;
  };

  test('dead letters and due-task lag are watched per class', () => {
    for (const name of core.queues.queues.keys()) {
      expect(alarm(`${name}DeadLetters`)).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(alarm(`${name}OldestDueLag`)).toMatchObject({
        Namespace: 'Jobfleet',
        MetricName: 'OldestDueLagMs',
        Dimensions: [{ Name: 'SlotClass', Value: name }],
        Threshold: 120_000,
      });
    }
  });

  test('ticker errors, a stalled ticker and runner failures raise alarms', () => {
    expect(alarm('TickerErrors')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1 });
    expect(alarm('TickerStalled')).toMatchObject({ MetricName: 'Invocations', ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
    expect(alarm('RunnerFailures')).toMatchObject({ Namespace: 'Jobfleet', MetricName: 'RunnerFailures', Threshold: 1 });
    expect(monitoring.alarms).toHaveLength(core.queues.queues.size * 2 + 4);
  });

  test('every alarm notifies the given actions on ALARM and OK', () => {
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as never) };
    for (const a of monitoring.alarms) {
      const props = template.findResources('AWS::CloudWatch::Alarm')[stack.getLogicalId(a.node.defaultChild as never)]!.Properties;
      expect(props.AlarmActions).toEqual([topicRef]);
      expect(props.OKActions).toEqual([topicRef]);
    }
  });

  test('one dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
