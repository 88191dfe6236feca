import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE_INDEXES } from '../core/store/table-definition';
import { itemBytes } from './call-counter';

/**
 * DynamoDB write units as AWS bills them, measured rather than predicted: around every write
 * the meter reads the item before and after (with its own, unmetered client) and prices the
 * difference: ceil(larger size / 1 KB) x (1 + index writes), where an index entry added or
 * removed is one write, a changed index key two, and a changed projected attribute one;
 * transactions double; a failed conditional write costs one unit. The emulator's
 * consumed-capacity figures are not used. Bench only: the extra reads are not free.
 */
export interface WriteUnitMeter {
  /** Units per label ('PutItem', 'UpdateItem', 'TransactWriteItems', 'failed', ...). */
  snapshot(): Record<string, number>;
  total(): number;
}

type Key = Record<string, AttributeValue>;
interface WriteTarget {
  readonly table: string;
  readonly key: Key;
}

const KEY_ATTRIBUTES = ['pk', 'sk'];

function keyOf(item: Key): Key {
  return Object.fromEntries(KEY_ATTRIBUTES.map((k) => [k, item[k] as AttributeValue]));
}

/** The items a write command touches, from its (marshalled) input. */
function targetsOf(command: string, input: Record<string, unknown>): WriteTarget[] {
  const table = input.TableName as string;
  switch (command) {
    case 'PutItem':
      return [{ table, key: keyOf(input.Item as Key) }];
    case 'UpdateItem':
    case 'DeleteItem':
      return [{ table, key: input.Key as Key }];
    case 'TransactWriteItems':
      return (input.TransactItems as Record<string, { TableName: string; Key?: Key; Item?: Key }>[]).map((entry) => {
        const op = Object.values(entry)[0] as { TableName: string; Key?: Key; Item?: Key };
        return { table: op.TableName, key: op.Key ?? keyOf(op.Item as Key) };
      });
    case 'BatchWriteItem':
      return Object.entries(input.RequestItems as Record<string, { PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }[]>).flatMap(([t, requests]) =>
        requests.map((r) => ({ table: t, key: r.PutRequest ? keyOf(r.PutRequest.Item) : (r.DeleteRequest as { Key: Key }).Key })),
      );
    default:
      return [];
  }
}

/** Index writes caused by an item changing from `before` to `after` (either may be absent). */
export function indexWrites(before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): number {
  let writes = 0;
  for (const index of TABLE_INDEXES) {
    const keys = [index.partitionKey, index.sortKey];
    const inBefore = before !== undefined && keys.every((k) => before[k] !== undefined);
    const inAfter = after !== undefined && keys.every((k) => after[k] !== undefined);
    if (inBefore && inAfter) {
      const keyChanged = keys.some((k) => before[k] !== after[k]);
      const projectedChanged = index.include.some((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
      writes += keyChanged ? 2 : projectedChanged ? 1 : 0;
    } else if (inBefore || inAfter) writes += 1;
  }
  return writes;
}

/** Units for one item's write. */
export function itemWriteUnits(before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): number {
  const bytes = Math.max(before ? itemBytes(before) : 0, after ? itemBytes(after) : 0);
  return Math.max(1, Math.ceil(bytes / 1024)) * (1 + indexWrites(before, after));
}

/** `client`: the metered client; `reader`: an unmetered document client for the before/after reads. */
export function meterWriteUnits(client: DynamoDBClient, reader: DynamoDBDocumentClient): WriteUnitMeter {
  const units = new Map<string, number>();
  const add = (label: string, n: number) => units.set(label, (units.get(label) ?? 0) + n);
  const read = async (t: WriteTarget) => {
    // Every key attribute of the table is a string.
    const key = Object.fromEntries(Object.entries(t.key).map(([k, v]) => [k, v.S]));
    const res = await reader.send(new GetCommand({ TableName: t.table, Key: key, ConsistentRead: true }));
    return res.Item;
  };
  client.middlewareStack.add(
    ((next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const command = (context.commandName ?? '').replace(/Command$/, '');
      const targets = targetsOf(command, args.input);
      if (targets.length === 0) return next(args);
      const before = await Promise.all(targets.map(read));
      try {
        const result = await next(args);
        const after = await Promise.all(targets.map(read));
        const factor = command === 'TransactWriteItems' ? 2 : 1;
        targets.forEach((_, i) => add(command, factor * itemWriteUnits(before[i], after[i])));
        return result;
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException') add('failed conditional', targets.length * (command === 'TransactWriteItems' ? 2 : 1));
        throw err;
      }
    }) as never,
    // After the document client has marshalled its input.
    { step: 'build', name: 'jobfleetWriteUnitMeter' } as never,
  );
  return {
    snapshot: () => Object.fromEntries([...units.entries()].sort()),
    total: () => [...units.values()].reduce((a, b) => a + b, 0),
  };
}
