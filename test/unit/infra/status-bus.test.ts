import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { StatusBus } from '../../../infra/constructs/status-bus';
import { statementsOf, testStack } from './support';

describe('StatusBus', () => {
  test('a bus, and PutEvents on it only', () => {
    const stack = testStack();
    const status = new StatusBus(stack, 'Status');
    status.grantPublish(new iam.Role(stack, 'Publisher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::EventBus', 1);
    expect(statementsOf(template, 'Publisher')).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [stack.getLogicalId(status.bus.node.defaultChild as never), 'Arn'] } },
    ]);
  });
});
