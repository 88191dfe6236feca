/**
 * One AWS call as IAM sees it: which process made it, the IAM action(s) it needs, on which
 * resource, with which request context (DynamoDB's leading keys). Resource names are normalized
 * to the synthesized stack's placeholders (TABLE, BUCKET, QUEUE-<class>, BUS, JOBROLE-<job>),
 * since each test has its own uniquely named resources and the stack has one of each.
 */
export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';

/** The processes whose roles we deploy, and 'test' for the tests' own setup calls (not checked). */
export type Caller = 'runner' | 'ticker' | 'status-events' | 'sdk' | 'test';

/** Local stand-ins for what AWS runs for us (the stream poller plays Lambda's event source mapping): not deployed code. */
const LOCAL_ONLY = /\/functions\/status-events\/local-poller\.ts$/;

export interface RecordedCall {
  readonly caller: Caller;
  readonly service: string;
  readonly command: string;
  /** Where in the code (the deciding frame), for the report. */
  readonly site?: string;
  readonly requests: readonly IamRequest[];
}

export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** e.g. dynamodb:LeadingKeys */
  readonly context?: Readonly<Record<string, string | string[]>>;
}

const PROCESS_DIRS: [RegExp, Caller][] = [
  [/\/runner\//, 'runner'],
  [/\/functions\/ticker\//, 'ticker'],
  [/\/functions\/status-events\//, 'status-events'],
  [/\/core\/(sdk\/|cli\.ts)/, 'sdk'],
];

/** The outermost frame in one of the deployed processes' code decides (the ticker's schedule sync goes through the SDK, and is the ticker's). */
export function callerOf(stack: string, root: string): { caller: Caller; site?: string } {
  const frames = stack
    .split('\n')
    .map((l) => /\(?([^()\s]+\.ts):\d+:\d+\)?$/.exec(l.trim())?.[1])
    .filter((f): f is string => Boolean(f) && (f as string).startsWith(root) && !(f as string).includes('/node_modules/') && !(f as string).includes('/test/'));
  if (frames.some((f) => LOCAL_ONLY.test(f))) return { caller: 'test', site: 'local stand-in' };
  for (let i = frames.length - 1; i >= 0; i--) {
    const frame = (frames[i] as string).slice(root.length);
    for (const [re, caller] of PROCESS_DIRS) if (re.test(`/${frame.replace(/^\//, '')}`)) return { caller, site: frame };
  }
  return { caller: 'test' };
}

const tableArn = (name: string | undefined) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name === undefined ? '?' : 'TABLE'}`;

/** The partition key values a DynamoDB item request touches (document or raw attribute values). */
function leadingKey(key: unknown): string | undefined {
  const pk = (key as Record<string, unknown> | undefined)?.pk;
  const raw = typeof pk === 'string' ? pk : pk && typeof pk === 'object' && typeof (pk as { S?: unknown }).S === 'string' ? (pk as { S: string }).S : undefined;
  // Idempotency keys and concurrency scopes are unbounded: one representative value each.
  return raw?.replace(/^(idem|conc)#.*/, '$1#K');
}

function itemRequest(action: string, table: string | undefined, key: unknown): IamRequest {
  const lk = leadingKey(key);
  return { action: `dynamodb:${action}`, resource: tableArn(table), ...(lk !== undefined ? { context: { 'dynamodb:LeadingKeys': [lk] } } : {}) };
}

const DOC_NAMES: Record<string, string> = {
  Put: 'PutItem',
  Get: 'GetItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactWrite: 'TransactWriteItems',
  TransactGet: 'TransactGetItems',
};

function queueArn(url: string | undefined, classes: readonly string[]): string {
  const name = url?.split('/').pop() ?? '?';
  const cls = classes.find((c) => name.endsWith(`-${c}`));
  return `arn:aws:sqs:${REGION}:${ACCOUNT}:${cls ? `QUEUE-${cls}` : name}`;
}

const s3Object = (input: Record<string, unknown>) => `arn:aws:s3:::BUCKET/${String(input.Key ?? '')}`;

/** The IAM requests one SDK call makes. */
export function iamRequests(service: string, command: string, input: Record<string, unknown>, classes: readonly string[]): IamRequest[] {
  const op = command.replace(/Command$/, '');
  switch (service) {
    case 'DynamoDB': {
      const action = DOC_NAMES[op] ?? op;
      const table = input.TableName as string | undefined;
      if (action === 'Query' || action === 'Scan') {
        const index = input.IndexName as string | undefined;
        return [{ action: `dynamodb:${action}`, resource: `${tableArn(table)}${index ? `/index/${index}` : ''}` }];
      }
      if (action === 'TransactWriteItems' || action === 'TransactGetItems') {
        const kinds: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
        return ((input.TransactItems as Record<string, Record<string, unknown>>[]) ?? []).flatMap((item) =>
          Object.entries(item).map(([kind, body]) => itemRequest(kinds[kind] ?? kind, body.TableName as string, body.Key ?? body.Item)),
        );
      }
      if (action === 'BatchGetItem' || action === 'BatchWriteItem') {
        return Object.entries((input.RequestItems as Record<string, unknown>) ?? {}).flatMap(([t, v]) => {
          const keys = action === 'BatchGetItem' ? ((v as { Keys?: unknown[] }).Keys ?? []) : ((v as Record<string, { Key?: unknown; Item?: unknown }>[]) ?? []).map((r) => Object.values(r)[0]?.Key ?? Object.values(r)[0]?.Item);
          const sub = action === 'BatchGetItem' ? 'BatchGetItem' : 'BatchWriteItem';
          return keys.map((k) => itemRequest(sub, t, k));
        });
      }
      return [itemRequest(action, table, input.Key ?? input.Item)];
    }
    case 'DynamoDB Streams':
      return [{ action: `dynamodb:${op}`, resource: `${tableArn('x')}/stream/STREAM` }];
    case 'SQS':
      return [{ action: `sqs:${op.replace(/Batch$/, '')}`, resource: queueArn(input.QueueUrl as string | undefined, classes) }];
    case 'S3': {
      const put = ['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload'];
      if (put.includes(op)) return [{ action: 's3:PutObject', resource: s3Object(input) }];
      if (op === 'GetObject' || op === 'HeadObject') return [{ action: 's3:GetObject', resource: s3Object(input) }];
      if (op === 'AbortMultipartUpload') return [{ action: 's3:AbortMultipartUpload', resource: s3Object(input) }];
      if (op === 'ListObjectsV2') return [{ action: 's3:ListBucket', resource: 'arn:aws:s3:::BUCKET' }];
      return [{ action: `s3:${op}`, resource: 'arn:aws:s3:::BUCKET' }];
    }
    case 'EventBridge':
      return [{ action: `events:${op}`, resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/BUS` }];
    case 'STS': {
      if (op !== 'AssumeRole') return [{ action: `sts:${op}`, resource: '*' }];
      const job = ((input.Tags as { Key: string; Value: string }[]) ?? []).find((t) => t.Key === 'job')?.Value ?? '?';
      const resource = `arn:aws:iam::${ACCOUNT}:role/JOBROLE-${job}`;
      return [{ action: 'sts:AssumeRole', resource }, ...(input.Tags ? [{ action: 'sts:TagSession', resource }] : [])];
    }
    case 'ECS':
      return [{ action: `ecs:${op}`, resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/CLUSTER/${String(input.tasks ?? '')}` }];
    default:
      return [{ action: `${service.toLowerCase()}:${op}`, resource: '*' }];
  }
}
