import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, type IConstruct } from 'constructs';

/**
 * Accepts a cdk-nag AwsSolutions finding on `scope` (and everything under it), with the reason
 * written next to the resource that causes it. cdk-nag 3 reports findings through CDK's
 * Validations; any finding left unacknowledged fails `cdk synth`.
 */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/**
 * Accepts the IAM5 finding for one wildcard resource ARN granted to `grantee`, identified the
 * way cdk-nag names it (the ARN's CloudFormation form, flattened), so no other wildcard on the
 * same role slips through with it.
 */
export function acknowledgeWildcard(grantee: iam.IGrantable, resourceArn: string, reason: string): void {
  if (!Construct.isConstruct(grantee)) return;
  const flat = flattenCfnReference(Stack.of(grantee).resolve(resourceArn));
  acknowledge(grantee, `IAM5[Resource::${flat}]`, reason);
}
