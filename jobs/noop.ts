import type { JobContext } from '../core/job-contract';

/** Does nothing and completes: the smallest possible job (the bench's unit of overhead). */
export default async function noop(_args: unknown, _ctx: JobContext): Promise<void> {}
