import { simulate } from './simulation';

/**
 * A child process of a parallel run (runs.ts): simulates the worlds it is handed on stdin, one JSON line
 * per world on stdout. Worlds share nothing, so which process runs one cannot change its result.
 */
interface WorldJob {
  readonly world: number;
  readonly seed: number;
  readonly lifecycles: number;
  readonly faults: boolean;
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const jobs = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WorldJob[];
  for (const job of jobs) {
    const result = await simulate({ seed: job.seed, lifecycles: job.lifecycles, faults: job.faults });
    const line = {
      world: job.world,
      lifecycles: result.lifecycles,
      violations: result.violations,
      faults: result.faults,
      events: result.events,
      virtualMs: result.virtualMs,
      trace: result.violations.length > 0 ? result.trace() : '',
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
