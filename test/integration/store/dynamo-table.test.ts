import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoTable } from '../../../core/store/dynamo-table';
import { awsClients, uniqueName } from '../../support/aws';
import { createTable } from '../../support/resources';
import { describeTableContract } from '../../support/table-contract';

describeTableContract('DynamoDB (the local AWS)', async () => {
  const clients = awsClients();
  const name = uniqueName('contract');
  await createTable(clients, name);
  return {
    table: new DynamoTable(clients.doc, name),
    async eventually(check) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          return await check();
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    cleanup: async () => {
      await clients.dynamodb.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
    },
  };
});
