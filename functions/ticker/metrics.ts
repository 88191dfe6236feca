/**
 * Slot demand and dispatch lag as CloudWatch metrics in Embedded Metric Format: one JSON log
 * line per slot class per tick. No PutMetricData call and no IAM permission: CloudWatch Logs
 * extracts the metrics. The runner fleet scales on SlotDemand; an alarm watches OldestDueLagMs.
 */
import { METRIC, METRIC_NAMESPACE, SLOT_CLASS_DIMENSION } from '../../core/protocol/metrics';

export { METRIC_NAMESPACE };

export interface ClassMetrics {
  readonly slotClass: string;
  /** Slots of queued + running + due tasks of the class. */
  readonly slotDemand: number;
  /** How long the oldest due task of the class has waited, in ms (0 when none is due). */
  readonly oldestDueLagMs: number;
}

/** One EMF document per class. Pure: the caller writes them out. */
export function emfDocuments(metrics: readonly ClassMetrics[], now: number): Record<string, unknown>[] {
  return metrics.map((m) => ({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [[SLOT_CLASS_DIMENSION]],
          Metrics: [
            { Name: METRIC.slotDemand, Unit: 'Count' },
            { Name: METRIC.oldestDueLagMs, Unit: 'Milliseconds' },
          ],
        },
      ],
    },
    [SLOT_CLASS_DIMENSION]: m.slotClass,
    [METRIC.slotDemand]: m.slotDemand,
    [METRIC.oldestDueLagMs]: Math.max(0, Math.round(m.oldestDueLagMs)),
  }));
}

export type MetricsSink = (documents: readonly Record<string, unknown>[]) => void;

/**
 * Writes straight to stdout, one line each: Lambda's patched console would prefix the line and
 * CloudWatch would no longer read it as EMF. Independent of the log level.
 */
export const stdoutMetrics: MetricsSink = (documents) => {
  for (const d of documents) process.stdout.write(`${JSON.stringify(d)}\n`);
};

export const noMetrics: MetricsSink = () => undefined;
