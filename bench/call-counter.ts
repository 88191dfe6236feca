import type { AwsClients } from '../core/store/aws-clients';

/**
 * Counts every AWS call by service and operation with SDK middleware, and DynamoDB capacity the
 * way AWS bills it (computed from item sizes; the emulator's consumed-capacity figures are not
 * trusted). Used by the benchmarks only.
 */
export interface CallCounts {
  readonly calls: Map<string, number>;
  reset(): void;
  total(prefix?: string): number;
  snapshot(): Record<string, number>;
}

export function countCalls(clients: AwsClients): CallCounts {
  const calls = new Map<string, number>();
  const instrument = (service: string, client: { middlewareStack: { add: (mw: never, opts: never) => void } }) => {
    client.middlewareStack.add(
      ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const key = `${service}.${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return next(args);
      }) as never,
      { step: 'initialize', name: `jobfleetCallCounter${service}` } as never,
    );
  };
  instrument('DynamoDB', clients.dynamodb as never);
  instrument('SQS', clients.sqs as never);
  instrument('S3', clients.s3 as never);
  instrument('EventBridge', clients.events as never);
  return {
    calls,
    reset: () => calls.clear(),
    total: (prefix = '') => [...calls.entries()].filter(([k]) => k.startsWith(prefix)).reduce((a, [, n]) => a + n, 0),
    snapshot: () => Object.fromEntries([...calls.entries()].sort()),
  };
}

/** Read units for items of the given sizes in bytes: 4 KB per unit, eventually consistent reads halve it. */
export function readUnits(totalBytes: number, consistent: boolean): number {
  const units = Math.ceil(totalBytes / 4096) || 0;
  return consistent ? units : units / 2;
}

/** Approximate DynamoDB item size: attribute names plus values, as AWS sizes them. */
export function itemBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [k, v] of Object.entries(item)) size += Buffer.byteLength(k) + valueBytes(v);
  return size;
}

function valueBytes(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'number') return 21;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (v instanceof Set) return [...v].reduce((a: number, x) => a + valueBytes(x), 3);
  if (Array.isArray(v)) return v.reduce((a: number, x) => a + valueBytes(x) + 1, 3);
  if (typeof v === 'object') return itemBytes(v as Record<string, unknown>) + 3;
  return 8;
}
