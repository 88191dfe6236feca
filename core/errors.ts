/**
 * Every error jobfleet throws on purpose is a JobfleetError: it names what went wrong
 * and, where the caller can do something about it, what to do next.
 */
export class JobfleetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input rejected at the edge. `field` is the path of the offending value. */
export class ValidationError extends JobfleetError {
  constructor(
    readonly field: string,
    /** What was wrong and what to pass instead, without the field. */
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export class InvalidScheduleError extends ValidationError {}

export class UnknownJobError extends ValidationError {
  constructor(readonly job: string, known: readonly string[]) {
    super('job', `unknown job "${job}". Known jobs: ${known.join(', ') || '(none)'}. Add it to the catalogue first.`);
  }
}

export class TaskNotFoundError extends JobfleetError {
  constructor(readonly taskId: string) {
    super(`task ${taskId} does not exist (or its retention expired)`);
  }
}

export class ScheduleNotFoundError extends JobfleetError {
  constructor(readonly scheduleId: string) {
    super(`schedule ${scheduleId} does not exist`);
  }
}

/** A transition the state machine forbids, e.g. completing a pending task. */
export class IllegalTransitionError extends JobfleetError {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(`a task cannot go from ${from} to ${to}`);
  }
}

/**
 * A conditional write lost: the task was no longer in the status (or held the token)
 * the caller expected. Someone else moved it first; the caller's view is stale.
 */
export class ClaimConflictError extends JobfleetError {
  constructor(
    readonly taskId: string,
    readonly expected: string,
    /** The item as the losing write found it, when the store asked for it (undefined: gone, or not asked). */
    readonly current?: Record<string, unknown>,
  ) {
    super(`task ${taskId} was not ${expected} any more: another process changed it first`);
  }
}

export class TaskTimeoutError extends JobfleetError {}

export class ConfigError extends JobfleetError {}

/** Turns anything thrown into an Error, so error paths never have to guess. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
}

/** An idempotency key reused for another job or other args: the key names one task, and this call asked for a different one. */
export class IdempotencyConflictError extends ValidationError {
  constructor(
    readonly key: string,
    readonly existingTaskId: string,
    message: string,
  ) {
    super('options.idempotencyKey', message);
  }
}

/** The job's slot class has no queue in this deployment, so no runner would ever take its tasks. */
export class SlotClassUnavailableError extends ValidationError {
  constructor(
    readonly job: string,
    readonly slotClass: string,
    readonly available: readonly string[],
  ) {
    super(
      'job',
      `job "${job}" runs in slot class "${slotClass}", which this deployment has no queue for (it has: ${available.join(', ') || 'none'}); deploy the fleet configuration that defines "${slotClass}", or give the job slots that fit one of those classes`,
    );
  }
}
