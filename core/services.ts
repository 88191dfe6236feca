import type { RuntimeConfig } from './config/runtime';
import type { LifecycleDeps } from './lifecycle/finish';
import { createAwsClients, type AwsClients } from './store/aws-clients';
import { ScheduleStore } from './store/schedule-store';
import { TaskStore } from './store/task-store';

/** What the SDK, the ticker and the runner share: clients, stores and the finish path's dependencies. */
export interface Services extends LifecycleDeps {
  readonly config: RuntimeConfig;
  readonly clients: AwsClients;
}

export function createServices(config: RuntimeConfig, clients: AwsClients = createAwsClients(config)): Services {
  const storeOptions = { tableName: config.tableName, shards: config.shards };
  return {
    config,
    clients,
    store: new TaskStore(clients.doc, storeOptions),
    schedules: new ScheduleStore(clients.doc, storeOptions),
    shards: config.shards,
    graceMs: config.graceMs,
  };
}
