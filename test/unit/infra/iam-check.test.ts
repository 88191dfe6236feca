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
      // cancelling a queued task gives its concurrency slots back; nothing else on those partitions
      call('sdk', 'dynamodb:UpdateItem', table, { 'dynamodb:LeadingKeys': ['conc#K'] }),
      call('sdk', 'dynamodb:PutItem', table, { 'dynamodb:LeadingKeys': ['conc#K'] }),
      call('sdk', 's3:GetObject', 'arn:aws:s3:::BUCKET/logs/batches/01M8RW6WHN1WFT04WKE6FZ9WP9.log'),
      call('sdk', 's3:GetObject', 'arn:aws:s3:::BUCKET/results/j/t/1.json'),
      // a slot class only a test defines polls its own queue, as a deployed class's runner would
      call('runner', 'sqs:ReceiveMessage', 'arn:aws:sqs:us-east-1:000000000000:runner-slots-1024-q8aeb3l2iyg9r-huge'),
      call('ticker', 'sqs:SendMessage', 'arn:aws:sqs:us-east-1:000000000000:runner-slots-1024-q8aeb3l2iyg9r-huge'),
      call('sdk', 'dynamodb:Query', `${table}/index/sched`),
      call('ticker', 'sqs:GetQueueAttributes', 'arn:aws:sqs:us-east-1:000000000000:QUEUE-small'),
      call('ticker', 'sqs:ReceiveMessage', 'arn:aws:sqs:us-east-1:000000000000:QUEUE-small'),
      call('test', 'dynamodb:DeleteTable', table),
    ]);
    expect(report.denied.map((d) => d.replace(/ from .*$/, ''))).toEqual(
      [
        'runner (small role) s3:PutObject on arn:aws:s3:::BUCKET/reports/x.json',
        'sdk (sdk role) dynamodb:PutItem on arn:aws:dynamodb:us-east-1:000000000000:table/TABLE {"dynamodb:LeadingKeys":["conc#K"]}',
        'sdk (sdk role) s3:GetObject on arn:aws:s3:::BUCKET/results/j/t/1.json',
        'ticker (ticker role) sqs:SendMessage on arn:aws:sqs:us-east-1:000000000000:runner-slots-1024-q8aeb3l2iyg9r-huge',
        'sdk (sdk role) dynamodb:Query on arn:aws:dynamodb:us-east-1:000000000000:table/TABLE/index/sched',
        'ticker (ticker role) sqs:ReceiveMessage on arn:aws:sqs:us-east-1:000000000000:QUEUE-small',
      ].sort(),
    );
    expect(report.unused).toEqual(expect.arrayContaining(['runner (small): ecs:UpdateTaskProtection']));
  });
});
