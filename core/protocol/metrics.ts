/**
 * The CloudWatch metrics scaling and alarms depend on, named once: the ticker publishes them (in
 * Embedded Metric Format), the CDK app scales runners and raises alarms on them, the bench reads them.
 */
export const METRIC_NAMESPACE = 'Jobfleet';

export const METRIC = {
  /** Slots of queued + running + due tasks, per slot class: what the runner fleet scales on. */
  slotDemand: 'SlotDemand',
  /** How long the oldest due task of a class has waited (ms). */
  oldestDueLagMs: 'OldestDueLagMs',
  /** Runners that stopped on their own (from ECS task state events). */
  runnerFailures: 'RunnerFailures',
} as const;

/** The dimension of the per-class metrics. */
export const SLOT_CLASS_DIMENSION = 'SlotClass';
