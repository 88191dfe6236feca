import type { RuntimeConfig } from './config/runtime';
import type { LifecycleDeps } from './lifecycle/finish';
import { createAwsClients, type AwsClients } from './store/aws-clients';
import { DynamoTable } from './store/dynamo-table';
import { ScheduleStore } from './store/schedule-store';
import { TaskStore } from './store/task-store';

/** What the SDK, the ticker and the runner share: clients, stores and the finish path's dependencies. */
export interface Services extends LifecycleDeps {
  readonly config: RuntimeConfig;
  readonly clients: AwsClients;
}

export function createServices(config: RuntimeConfig, clients: AwsClients = createAwsClients(config)): Services {
  const storeOptions = { tableName: config.tableName, shards: config.shards };
  const table = new DynamoTable(clients.doc, config.tableName);
  return {
    config,
    clients,
    store: new TaskStore(table, storeOptions),
    schedules: new ScheduleStore(table, storeOptions),
    shards: config.shards,
    graceMs: config.graceMs,
  };
}
