import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { LogsBucket } from '../../../infra/constructs/logs-bucket';
import { statementsOf, testStack } from './support';

describe('LogsBucket', () => {
  test('private, encrypted, SSL only, lifecycle on logs/, retained', () => {
    const stack = testStack();
    new LogsBucket(stack, 'Logs', { infrequentAccessAfterDays: 45, expireAfterDays: 400 });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'task-logs',
              Prefix: 'logs/',
              Status: 'Enabled',
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 45 }],
              ExpirationInDays: 400,
            },
            { Id: 'old-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 }, ExpiredObjectDeleteMarker: true },
          ],
        },
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('0 turns the transition and the expiry off', () => {
    const stack = testStack();
    new LogsBucket(stack, 'Logs', { infrequentAccessAfterDays: 0, expireAfterDays: 0 });
    const rule = Object.values(Template.fromStack(stack).findResources('AWS::S3::Bucket'))[0]!.Properties.LifecycleConfiguration.Rules[0];
    expect(rule.Transitions).toBeUndefined();
    expect(rule.ExpirationInDays).toBeUndefined();
  });

  test('log writers may put objects under logs/ and results/ only (large results go to results/)', () => {
    const stack = testStack();
    const logs = new LogsBucket(stack, 'Logs');
    logs.grantLogWrites(new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') }));
    const [statement, ...rest] = statementsOf(Template.fromStack(stack), 'Writer');
    expect(rest).toEqual([]);
    expect(statement!.Action).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
    expect(statement!.Resource).toEqual(['/logs/*', '/results/*'].map((p) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^LogsBucket/), 'Arn'] }, p]] })));
  });
});
