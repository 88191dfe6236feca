/** jobfleet's public API: the SDK client, the catalogue, and the types they use. */
export { JobfleetClient, type JobfleetClientOptions, type ListOptions, type TaskPage } from './sdk/client';
export { RecurringSchedules, type SyncReport } from './sdk/recurring';
export type { ScheduleOptions, RecurringOptions, TimeInput } from './sdk/validation';
export { defineCatalogue, type Catalogue, type JobDefinition, type DeclaredSchedule, type ResolvedJob } from './catalogue';
export { DEFAULT_FLEET, validateFleet, type FleetConfig, type SlotClass } from './config/fleet';
export { loadRuntimeConfig, type RuntimeConfig } from './config/runtime';
export { createServices, type Services } from './services';
export { createAwsClients, type AwsClients } from './store/aws-clients';
export * from './errors';
export type { TaskRecord, TaskStatus, ScheduleRecord, ScheduleSpec, TaskError, FailureReason, MissedRunPolicy } from './model/task';
export { defineJob, type JobContext, type JobHandler, type JobModule, type NextRun } from './job-contract';
export type { TaskLogRead } from './logs/read-log';
export { LOG_UPLOAD_DEADLINE_MS, type LogLocation, type LogRange } from './logs/log-location';
