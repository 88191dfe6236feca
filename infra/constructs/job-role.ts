import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { JobRoleDefinition } from '../../core/catalogue';

/** What the CDK app needs to know of a job that declares a role (core/catalogue.ts `role`). */
export interface JobRoleSpec {
  readonly job: string;
  readonly slotClass: string;
  readonly role: JobRoleDefinition;
}

export interface JobRoleProps extends JobRoleSpec {
  /** The task role of the runners that run the job (its slot class's). */
  readonly runnerRole: iam.Role;
}

/**
 * A job's own IAM role (AWS Batch's jobRoleArn). Only its class's runner role may assume it, with
 * session tags naming the task (`taskId`, `job`, `attempt`, the job tag pinned to this job), so
 * its policies can scope resources per task with ${aws:PrincipalTag/taskId}. The runner hands
 * the session's credentials to that task's sandbox alone. A chained role session (task role ->
 * job role) lasts one hour at most.
 */
export class JobRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: JobRoleProps) {
    super(scope, id);
    const trust = new iam.ArnPrincipal(props.runnerRole.roleArn).withConditions({ StringEquals: { 'aws:RequestTag/job': props.job } }).withSessionTags();
    this.role = new iam.Role(this, 'Role', {
      assumedBy: trust,
      description: `jobfleet job "${props.job}": what its code may touch; assumed per task by the ${props.slotClass} runners`,
      maxSessionDuration: Duration.hours(1),
      managedPolicies: (props.role.managedPolicyArns ?? []).map((arn, i) => iam.ManagedPolicy.fromManagedPolicyArn(this, `Managed${i}`, arn)),
    });
    for (const s of props.role.statements ?? []) this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...s.actions], resources: [...s.resources] }));
    props.runnerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [this.role.roleArn] }));
  }
}
