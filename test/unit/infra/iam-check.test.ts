import { checkCalls } from '../../support/iam/check';
import type { RecordedCall } from '../../support/iam/calls';

jest.setTimeout(120_000);

/** The IAM check of the integration suite is not vacuous: it denies what the deployed roles deny. */
describe('the IAM check (recorded calls against the synthesized roles)', () => {
  const call = (caller: RecordedCall['caller'], action: string, resource: string, context?: Record<string, string[]>): RecordedCall => ({
    caller,
    service: 'x',
    command: 'x',
    requests: [{ action, resource, ...(context ? { context } : {}) }],
  });

  it('allows what each role is granted and denies the rest', async () => {
    const table = 'arn:aws:dynamodb:us-east-1:000000000000:table/TABLE';
    const report = await checkCalls([
      call('runner', 's3:PutObject', 'arn:aws:s3:::BUCKET/logs/j/t/1.log'),
      call('runner', 's3:PutObject', 'arn:aws:s3:::BUCKET/results/j/t/1.json'),
      call('runner', 's3:PutObject', 'arn:aws:s3:::BUCKET/reports/x.json'),
      call('runner', 'sqs:ReceiveMessage', 'arn:aws:sqs:us-east-1:000000000000:QUEUE-large'),
      call('sdk', 'dynamodb:PutItem', table, { 'dynamodb:LeadingKeys': ['tasks#noop#3'] }),
      call('sdk', 'dynamodb:UpdateItem', table, { 'dynamodb:LeadingKeys': ['conc#K'] }),
      call('sdk', 'dynamodb:Query', `${table}/index/sched`),
      call('ticker', 'sqs:GetQueueAttributes', 'arn:aws:sqs:us-east-1:000000000000:QUEUE-small'),
      call('test', 'dynamodb:DeleteTable', table),
    ]);
    expect(report.denied.map((d) => d.replace(/ from .*$/, ''))).toEqual(
      [
        'runner (small role) s3:PutObject on arn:aws:s3:::BUCKET/reports/x.json',
        'sdk (sdk role) dynamodb:UpdateItem on arn:aws:dynamodb:us-east-1:000000000000:table/TABLE {"dynamodb:LeadingKeys":["conc#K"]}',
        'sdk (sdk role) dynamodb:Query on arn:aws:dynamodb:us-east-1:000000000000:table/TABLE/index/sched',
        'ticker (ticker role) sqs:GetQueueAttributes on arn:aws:sqs:us-east-1:000000000000:QUEUE-small',
      ].sort(),
    );
    expect(report.unused).toEqual(expect.arrayContaining(['runner (small): ecs:UpdateTaskProtection']));
  });
});
