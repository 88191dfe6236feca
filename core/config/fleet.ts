import { ConfigError } from '../errors';

/**
 * The fleet: slot classes shared by the SDK (reject a job that fits no class), the ticker
 * (routing, headroom, demand) and the CDK app (one Fargate service per class).
 */
export interface SlotClass {
  readonly name: string;
  /** Slots one runner of this class offers. A job needing more can never run here. */
  readonly slotsPerRunner: number;
  /** Fargate CPU units (256 = 0.25 vCPU). */
  readonly cpu: number;
  /** Fargate memory in MiB. */
  readonly memoryMiB: number;
  readonly minRunners: number;
  readonly maxRunners: number;
}

export interface FleetConfig {
  readonly classes: readonly SlotClass[];
}

export const DEFAULT_FLEET: FleetConfig = {
  classes: [
    { name: 'small', slotsPerRunner: 4, cpu: 512, memoryMiB: 1024, minRunners: 0, maxRunners: 4 },
    { name: 'large', slotsPerRunner: 16, cpu: 2048, memoryMiB: 4096, minRunners: 0, maxRunners: 2 },
  ],
};

/** Valid Fargate CPU -> memory (MiB) combinations. */
const FARGATE_MEMORY: Record<number, (m: number) => boolean> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
  8192: (m) => m >= 16384 && m <= 61440 && m % 4096 === 0,
  16384: (m) => m >= 32768 && m <= 122880 && m % 8192 === 0,
};

/** Collects every problem in a fleet configuration and throws once, naming each. */
export function validateFleet(fleet: FleetConfig): FleetConfig {
  const problems: string[] = [];
  const names = new Set<string>();
  if (fleet.classes.length === 0) problems.push('classes: at least one slot class is required');
  fleet.classes.forEach((c, i) => {
    const at = `classes[${i}] (${c.name})`;
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(c.name)) problems.push(`${at}.name: use lowercase letters, digits and dashes`);
    if (names.has(c.name)) problems.push(`${at}.name: duplicate class name`);
    names.add(c.name);
    if (!Number.isInteger(c.slotsPerRunner) || c.slotsPerRunner < 1) problems.push(`${at}.slotsPerRunner: must be a positive integer`);
    const memOk = FARGATE_MEMORY[c.cpu];
    if (!memOk) problems.push(`${at}.cpu: ${c.cpu} is not a Fargate CPU size (256, 512, 1024, 2048, 4096, 8192, 16384)`);
    else if (!memOk(c.memoryMiB)) problems.push(`${at}.memoryMiB: ${c.memoryMiB} MiB is not valid with ${c.cpu} CPU units on Fargate`);
    if (!Number.isInteger(c.minRunners) || c.minRunners < 0) problems.push(`${at}.minRunners: must be an integer >= 0`);
    if (!Number.isInteger(c.maxRunners) || c.maxRunners < Math.max(1, c.minRunners)) problems.push(`${at}.maxRunners: must be >= max(1, minRunners)`);
  });
  if (problems.length > 0) throw new ConfigError(`invalid fleet configuration:\n  - ${problems.join('\n  - ')}`);
  return fleet;
}

/** The smallest class whose runners can hold a job of `slots`, or undefined if none can. */
export function classForSlots(fleet: FleetConfig, slots: number): SlotClass | undefined {
  return [...fleet.classes].sort((a, b) => a.slotsPerRunner - b.slotsPerRunner).find((c) => c.slotsPerRunner >= slots);
}
