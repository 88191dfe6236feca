import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { ConfigError } from '../errors';
import type { RunnerCounts } from './fleet';

/** Where each slot class's runners run: the stack's FleetServices output, JOBFLEET_FLEET_SERVICES. */
export type FleetServices = Readonly<Record<string, { readonly cluster: string; readonly service: string }>>;

const FleetServicesSchema = z.record(z.string(), z.object({ cluster: z.string().min(1), service: z.string().min(1) }));

export function parseFleetServices(json: string): FleetServices {
  try {
    return FleetServicesSchema.parse(JSON.parse(json));
  } catch (err) {
    throw new ConfigError(`JOBFLEET_FLEET_SERVICES: expected a JSON object of slot class -> { cluster, service } (the stack's FleetServices output) (${(err as Error).message})`);
  }
}

/**
 * Desired and running runners per slot class from ECS. One DescribeServices call per cluster
 * serves every class, and its answer is kept for `maxAgeMs`, so a console refreshing every few
 * seconds costs at most one call per cluster per that long. A class ECS does not answer for
 * (or a failed call) shows as unknown, never as zero.
 */
export function ecsRunnerCounts(ecs: Pick<ECSClient, 'send'>, services: FleetServices, options: { maxAgeMs?: number; now?: () => number } = {}): RunnerCounts {
  const maxAgeMs = options.maxAgeMs ?? 10_000;
  const now = options.now ?? Date.now;
  const cached = new Map<string, { at: number; counts: Promise<Map<string, { desired: number; running: number }>> }>();
  const read = (cluster: string) => {
    const names = Object.values(services).filter((s) => s.cluster === cluster).map((s) => s.service);
    return ecs.send(new DescribeServicesCommand({ cluster, services: names })).then(
      (res) => new Map((res.services ?? []).map((s) => [s.serviceName ?? '', { desired: s.desiredCount ?? 0, running: s.runningCount ?? 0 }])),
      () => new Map<string, { desired: number; running: number }>(),
    );
  };
  return async (slotClass) => {
    const where = services[slotClass];
    if (!where) return undefined;
    let entry = cached.get(where.cluster);
    if (!entry || now() - entry.at > maxAgeMs) {
      entry = { at: now(), counts: read(where.cluster) };
      cached.set(where.cluster, entry);
    }
    return (await entry.counts).get(where.service);
  };
}
