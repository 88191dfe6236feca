import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface StatusBusProps {
  /** @default - a name CloudFormation generates from the construct path */
  readonly eventBusName?: string;
}

/** The EventBridge bus task status events go to (source `jobfleet`); subscribe with rules on it. */
export class StatusBus extends Construct {
  public readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: StatusBusProps = {}) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', props.eventBusName ? { eventBusName: props.eventBusName } : {});
  }

  /** events:PutEvents on this bus only. */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['events:PutEvents'], resourceArns: [this.bus.eventBusArn] });
  }
}
