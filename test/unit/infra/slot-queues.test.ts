import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_FLEET } from '../../../core/config/fleet';
import { SlotQueues } from '../../../infra/constructs/slot-queues';
import { testStack } from './support';

describe('SlotQueues', () => {
  const stack = testStack();
  const queues = new SlotQueues(stack, 'Queues', { classes: DEFAULT_FLEET.classes, maxReceiveCount: 3 });
  const template = Template.fromStack(stack);

  test('one queue and one dead-letter queue per slot class, all encrypted', () => {
    expect([...queues.queues.keys()]).toEqual(DEFAULT_FLEET.classes.map((c) => c.name));
    template.resourceCountIs('AWS::SQS::Queue', DEFAULT_FLEET.classes.length * 2);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    for (const name of queues.queues.keys()) {
      const dlq = stack.getLogicalId(queues.deadLetterQueues.get(name)!.node.defaultChild as never);
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 3 },
      });
    }
  });

  test('every queue denies non-SSL access', () => {
    template.resourceCountIs('AWS::SQS::QueuePolicy', DEFAULT_FLEET.classes.length * 2);
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  test('JOBFLEET_QUEUES is a JSON object of class -> queue URL', () => {
    const resolved = JSON.stringify(Stack.of(queues).resolve(queues.queueUrlsJson));
    for (const [name, q] of queues.queues) {
      expect(resolved).toContain(`\\"${name}\\":\\"`);
      expect(resolved).toContain(stack.getLogicalId(q.node.defaultChild as never));
    }
  });

  test('an unknown class is an error that lists the known ones', () => {
    expect(() => queues.queue('huge')).toThrow('no queue for slot class "huge" (classes: small, large)');
  });
});
