import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE_INDEXES } from './table-definition';
import { ConditionFailed, TransactionCancelled, type Item, type ItemKey, type QueryPage, type QueryRequest, type Table, type TableWrite } from './table';
import { buildExpressions } from './update-expression';

const IF_ABSENT = 'attribute_not_exists(pk)';

/** The Table port on DynamoDB, through the document client. AWS's condition errors become ConditionFailed / TransactionCancelled. */
export class DynamoTable implements Table {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async get(key: ItemKey, consistent = true): Promise<Item | undefined> {
    return (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: consistent }))).Item;
  }

  async getMany(keys: readonly ItemKey[]): Promise<Item[]> {
    const found: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100).map((k) => ({ pk: k.pk, sk: k.sk }));
      while (pending && pending.length) {
        const res = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }));
        found.push(...(res.Responses?.[this.tableName] ?? []));
        pending = res.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return found;
  }

  async put(item: Item, options: { ifAbsent?: boolean } = {}): Promise<void> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ...(options.ifAbsent ? { ConditionExpression: IF_ABSENT, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } : {}) }));
    } catch (err) {
      throw conditionError(err) ?? err;
    }
  }

  async update(key: ItemKey, change: Parameters<Table['update']>[1], guard: Parameters<Table['update']>[2], returnNew = true): Promise<Item | undefined> {
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          ReturnValues: returnNew ? 'ALL_NEW' : 'NONE',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...buildExpressions(change, guard),
        }),
      );
      return res.Attributes;
    } catch (err) {
      throw conditionError(err) ?? err;
    }
  }

  async transact(writes: readonly TableWrite[]): Promise<void> {
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = writes.map((w) =>
      'put' in w
        ? { Put: { TableName: this.tableName, Item: w.put, ...(w.ifAbsent ? { ConditionExpression: IF_ABSENT } : {}) } }
        : { Update: { TableName: this.tableName, Key: w.update, ...buildExpressions(w.change, w.guard) } as never },
    );
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      const name = (err as { name?: string })?.name;
      if (name !== 'TransactionCanceledException') throw err;
      // Reasons come in the order of the writes.
      const codes = ((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code);
      throw new TransactionCancelled(writes.map((_, i) => codes[i] === 'ConditionalCheckFailed'));
    }
  }

  async query(request: QueryRequest): Promise<QueryPage> {
    const index = request.index === undefined ? undefined : TABLE_INDEXES.find((i) => i.name === request.index);
    if (request.index !== undefined && !index) throw new Error(`the table has no index "${request.index}"`);
    const pkName = index?.partitionKey ?? 'pk';
    const skName = index?.sortKey ?? 'sk';
    const range = request.skAtMost !== undefined ? ' AND #sk <= :sk' : request.skBelow !== undefined ? ' AND #sk < :sk' : '';
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ...(index ? { IndexName: index.name } : {}),
        KeyConditionExpression: `#pk = :pk${range}`,
        ExpressionAttributeNames: { '#pk': pkName, ...(range ? { '#sk': skName } : {}) },
        ExpressionAttributeValues: { ':pk': request.pk, ...(range ? { ':sk': request.skAtMost ?? request.skBelow } : {}) },
        ScanIndexForward: request.ascending ?? true,
        ...(request.limit !== undefined ? { Limit: request.limit } : {}),
        ...(request.startKey ? { ExclusiveStartKey: request.startKey } : {}),
        ...(request.consistent && !index ? { ConsistentRead: true } : {}),
      }),
    );
    return { items: res.Items ?? [], ...(res.LastEvaluatedKey ? { next: res.LastEvaluatedKey } : {}) };
  }
}

function conditionError(err: unknown): ConditionFailed | undefined {
  if ((err as { name?: string })?.name !== 'ConditionalCheckFailedException') return undefined;
  const old = (err as { Item?: Record<string, AttributeValue> }).Item;
  return new ConditionFailed(old ? unmarshall(old) : undefined);
}
