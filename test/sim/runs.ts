import { spawn } from 'node:child_process';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Rng } from './rng';
import { simulate } from './simulation';
import type { Violation } from './invariants';

export const LIFECYCLES_PER_WORLD = 500;

export interface RunsOptions {
  readonly seed: number;
  readonly lifecycles: number;
  /** Only this world (a replay). */
  readonly only?: number;
  readonly faults?: boolean;
  readonly echo?: boolean;
  readonly progress?: (line: string) => void;
  /**
   * Child processes to spread the worlds over (each world is the same whichever runs it). 1 runs
   * them in this process. Children need a TypeScript loader in this process's execArgv (tsx).
   * @default 1
   */
  readonly workers?: number;
  /** The children's program: compiled JavaScript (run by plain node) is about a third faster than tsx. @default world-worker next to this file */
  readonly workerScript?: string;
}

export interface RunsReport {
  readonly lifecycles: number;
  readonly violations: number;
  readonly worlds: number;
  readonly faults: number;
  readonly events: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly failures: { world: number; worldSeed: number; violations: readonly Violation[]; trace: string }[];
}

interface WorldPlan {
  readonly world: number;
  readonly seed: number;
  readonly lifecycles: number;
}

interface WorldResult {
  readonly world: number;
  readonly lifecycles: number;
  readonly violations: readonly Violation[];
  readonly faults: number;
  readonly events: number;
  readonly virtualMs: number;
  readonly trace: string;
}

/** Splits a run into worlds of a few hundred lifecycles, each with its own seed drawn from `seed`. */
export async function runSimulations(options: RunsOptions): Promise<RunsReport> {
  const count = Math.ceil(options.lifecycles / LIFECYCLES_PER_WORLD);
  const seeds = new Rng(options.seed);
  const plans: WorldPlan[] = [];
  for (let w = 0; w < count; w++) {
    const seed = Math.floor(seeds.next() * 2 ** 31);
    if (options.only !== undefined && options.only !== w) continue;
    plans.push({ world: w, seed, lifecycles: Math.min(LIFECYCLES_PER_WORLD, options.lifecycles - w * LIFECYCLES_PER_WORLD) });
  }
  const started = Date.now();
  const report = { lifecycles: 0, violations: 0, worlds: 0, faults: 0, events: 0, virtualMs: 0, wallMs: 0, failures: [] as RunsReport['failures'] };
  const add = (plan: WorldPlan, result: WorldResult) => {
    report.worlds++;
    report.lifecycles += result.lifecycles;
    report.violations += result.violations.length;
    report.faults += result.faults;
    report.events += result.events;
    report.virtualMs += result.virtualMs;
    if (result.violations.length > 0) report.failures.push({ world: plan.world, worldSeed: plan.seed, violations: result.violations, trace: result.trace });
    options.progress?.(`world ${plan.world}: ${result.lifecycles} lifecycles, ${result.violations.length} violations, ${result.faults} faults, ${(result.virtualMs / 1000).toFixed(0)} s simulated`);
  };
  const workers = Math.min(options.workers ?? 1, plans.length);
  if (workers > 1 && !options.echo) {
    // Round robin: neighbouring worlds are about the same size, so the children finish together.
    const shares = Array.from({ length: workers }, (_, i) => plans.filter((_p, j) => j % workers === i));
    const script = options.workerScript ?? join(__dirname, `world-worker${extname(__filename)}`);
    await Promise.all(shares.map((share) => runInChild(script, share, options.faults ?? true, (r) => add(share.find((p) => p.world === r.world)!, r))));
    report.failures.sort((a, b) => a.world - b.world);
  } else {
    for (const plan of plans) {
      const result = await simulate({ seed: plan.seed, lifecycles: plan.lifecycles, ...(options.faults !== undefined ? { faults: options.faults } : {}), ...(options.echo ? { echo: true } : {}) });
      add(plan, { world: plan.world, lifecycles: result.lifecycles, violations: result.violations, faults: result.faults, events: result.events, virtualMs: result.virtualMs, trace: result.violations.length > 0 ? result.trace() : '' });
    }
  }
  report.wallMs = Date.now() - started;
  return report;
}

/** Runs worlds in a child process (world-worker.ts), handing each result on as its line arrives. */
function runInChild(script: string, plans: readonly WorldPlan[], faults: boolean, onResult: (r: WorldResult) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const jobs = plans.map((p) => ({ ...p, faults }));
    const loader = script.endsWith('.ts') ? process.execArgv : [];
    // The worlds go in on stdin: a million lifecycles are 2,000 worlds, too long for one argument.
    const child = spawn(process.execPath, [...loader, script], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.end(JSON.stringify(jobs));
    let seen = 0;
    createInterface({ input: child.stdout }).on('line', (line) => {
      seen++;
      onResult(JSON.parse(line) as WorldResult);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && seen === plans.length) resolve();
      else reject(new Error(`a simulation worker exited ${code} after ${seen} of ${plans.length} worlds (worlds ${plans.map((p) => p.world).join(', ')})`));
    });
  });
}
