import type { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { ConfigError } from '../../../core/errors';
import { ecsRunnerCounts, parseFleetServices } from '../../../core/ops/ecs-runners';
import type { ClassView } from '../../../core/ops/fleet';
import { fleetPage } from '../../../functions/console/fleet';

/** The console's runner counts: ECS DescribeServices, one call per cluster per refresh period. */
describe('runner counts from ECS', () => {
  const services = { small: { cluster: 'c1', service: 'svc-small' }, large: { cluster: 'c1', service: 'svc-large' } };
  /** ECS as DescribeServices answers: the services asked for, by name. */
  const ecs = (answer: Record<string, { desiredCount: number; runningCount: number }>, fail = false) => {
    const calls: { cluster?: string; services?: string[] }[] = [];
    return {
      calls,
      send: async (command: DescribeServicesCommand) => {
        calls.push(command.input);
        if (fail) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
        return { services: (command.input.services ?? []).filter((n) => answer[n]).map((n) => ({ serviceName: n, ...answer[n] })) };
      },
    };
  };

  it('answers every class of a cluster from one call, and asks again only after maxAgeMs', async () => {
    let now = 0;
    const client = ecs({ 'svc-small': { desiredCount: 3, runningCount: 2 }, 'svc-large': { desiredCount: 1, runningCount: 1 } });
    const counts = ecsRunnerCounts(client as never, services, { maxAgeMs: 10_000, now: () => now });
    expect(await counts('small')).toEqual({ desired: 3, running: 2 });
    expect(await counts('large')).toEqual({ desired: 1, running: 1 });
    expect(client.calls).toEqual([{ cluster: 'c1', services: ['svc-small', 'svc-large'] }]);
    now = 10_001;
    await counts('small');
    expect(client.calls).toHaveLength(2);
  });

  it('shows a class ECS does not answer for, or a failed call, as unknown, never as zero', async () => {
    expect(await ecsRunnerCounts(ecs({}) as never, services)('small')).toBeUndefined();
    expect(await ecsRunnerCounts(ecs({}, true) as never, services)('small')).toBeUndefined();
    expect(await ecsRunnerCounts(ecs({}) as never, services)('huge')).toBeUndefined();
  });

  it('reads the stack output, and refuses a malformed one naming the variable', () => {
    expect(parseFleetServices(JSON.stringify(services))).toEqual(services);
    expect(() => parseFleetServices('{"small":{"cluster":""}}')).toThrow(ConfigError);
    expect(() => parseFleetServices('not json')).toThrow(/^JOBFLEET_FLEET_SERVICES: expected a JSON object/);
  });

  it('puts desired / running on the fleet page, and n/a where ECS did not answer', () => {
    const view = (name: string, runners?: { desired: number; running: number }): ClassView => ({ name, slotsPerRunner: 4, minRunners: 0, maxRunners: 5, dueSlots: 0, queuedSlots: 0, runningSlots: 0, demandSlots: 0, ...(runners ? { runners } : {}) });
    const text = String(fleetPage([view('small', { desired: 3, running: 2 }), view('large')]));
    expect(text).toMatch(/<tr data-class="small">[\s\S]*?3 \/ 2[\s\S]*?<\/tr>/);
    expect(text).toMatch(/<tr data-class="large">[\s\S]*?n\/a[\s\S]*?<\/tr>/);
  });
});
