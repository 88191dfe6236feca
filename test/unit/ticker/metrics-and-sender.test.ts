import type { SQSClient } from '@aws-sdk/client-sqs';
import { emfDocuments } from '../../../functions/ticker/metrics';
import { SqsDispatcher, dispatchBody, isRetryable } from '../../../functions/ticker/sqs-dispatcher';

describe('embedded metrics', () => {
  it('emits SlotDemand and OldestDueLagMs per slot class in the Jobfleet namespace', () => {
    const [doc] = emfDocuments([{ slotClass: 'small', slotDemand: 7, oldestDueLagMs: 1234.6 }], 1_700_000_000_000);
    expect(doc).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [{ Namespace: 'Jobfleet', Dimensions: [['SlotClass']], Metrics: [{ Name: 'SlotDemand', Unit: 'Count' }, { Name: 'OldestDueLagMs', Unit: 'Milliseconds' }] }],
      },
      SlotClass: 'small',
      SlotDemand: 7,
      OldestDueLagMs: 1235,
    });
  });
});

type SentBatch = { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] };

/** An SQS client whose SendMessageBatch answers are scripted per call. */
function fakeSqs(answers: ((batch: SentBatch) => unknown)[]) {
  const sent: SentBatch[] = [];
  const client = {
    send: async (command: { input: SentBatch }) => {
      sent.push(command.input);
      const answer = answers.shift() ?? (() => ({ Successful: command.input.Entries.map((e) => ({ Id: e.Id })) }));
      return answer(command.input);
    },
  };
  return { client: client as unknown as SQSClient, sent };
}

const throttled = () => {
  throw Object.assign(new Error('Rate exceeded'), { name: 'RequestThrottled', $metadata: { httpStatusCode: 400 } });
};

describe('the SQS dispatcher', () => {
  const messages = Array.from({ length: 23 }, (_, i) => ({ taskId: `t${i}`, token: `k${i}` }));
  const noSleep = async () => undefined;

  it('sends the shared message contract in batches of ten to the class queue', async () => {
    const sqs = fakeSqs([]);
    const result = await new SqsDispatcher(sqs.client, { small: 'http://q/small' }, { sleep: noSleep }).send('small', messages);
    expect(result).toEqual({ failed: [] });
    expect(sqs.sent.map((b) => b.Entries.length)).toEqual([10, 10, 3]);
    expect(sqs.sent.every((b) => b.QueueUrl === 'http://q/small')).toBe(true);
    expect(JSON.parse(sqs.sent[0]!.Entries[0]!.MessageBody)).toEqual({ v: 1, taskId: 't0', token: 'k0' });
    expect(dispatchBody({ taskId: 'a', token: 'b' })).toBe('{"v":1,"taskId":"a","token":"b"}');
  });

  it('retries throttling and the entries SQS failed, then reports what never got through', async () => {
    const sqs = fakeSqs([
      throttled,
      (b) => ({ Successful: b.Entries.slice(2).map((e) => ({ Id: e.Id })), Failed: b.Entries.slice(0, 2).map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })) }),
    ]);
    const result = await new SqsDispatcher(sqs.client, { small: 'q' }, { sleep: noSleep }).send('small', messages.slice(0, 10));
    expect(result.failed).toEqual([]);
    expect(sqs.sent.map((b) => b.Entries.length)).toEqual([10, 10, 2]);

    const always = fakeSqs([throttled, throttled, throttled, throttled]);
    const gaveUp = await new SqsDispatcher(always.client, { small: 'q' }, { sleep: noSleep, attempts: 4 }).send('small', messages.slice(0, 3));
    expect(gaveUp.failed).toHaveLength(3);
    expect(gaveUp.error).toMatch(/RequestThrottled/);
  });

  it('does not retry what cannot succeed', async () => {
    const missing = fakeSqs([
      () => {
        throw Object.assign(new Error('queue does not exist'), { name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
      },
    ]);
    const res = await new SqsDispatcher(missing.client, { small: 'q' }, { sleep: noSleep }).send('small', messages.slice(0, 2));
    expect(res.failed).toHaveLength(2);
    expect(missing.sent).toHaveLength(1);
    expect((await new SqsDispatcher(missing.client, { small: 'q' }).send('gpu', messages.slice(0, 1))).error).toMatch(/no queue/);
    expect(isRetryable(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
  });
});
