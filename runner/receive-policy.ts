import { receiveBatchSize, MAX_RECEIVE_BATCH } from './slots';

/** What the poll loop knows when it decides whether to receive now. */
export interface ReceiveState {
  readonly freeSlots: number;
  readonly capacity: number;
  readonly largestJobSlots: number;
  /** True while any slot is in use (a task runs, or a receive holds its reservation). */
  readonly busy: boolean;
  /** How long messages have fitted without being asked for (0 the first time they fit). */
  readonly waitedMs: number;
  readonly lingerMs: number;
}

export type ReceiveDecision =
  | { readonly kind: 'receive'; readonly messages: number }
  /** `forMs`: decide again then, or at the next release, whichever comes first; absent: at the next release. */
  | { readonly kind: 'wait'; readonly forMs?: number };

/**
 * When to call ReceiveMessage, and for how many. A receive costs one SQS request whatever it
 * brings, so a busy runner whose slots free one at a time waits a moment (`lingerMs`) for more to
 * free, up to half of its largest batch, then asks for all that fit. An idle runner asks at once.
 * Never more than fit if every message were the class's largest job: nothing is ever handed back.
 */
export function receiveDecision(state: ReceiveState): ReceiveDecision {
  const fits = receiveBatchSize(state.freeSlots, state.largestJobSlots);
  if (fits === 0) return { kind: 'wait' };
  const full = Math.min(MAX_RECEIVE_BATCH, Math.floor(state.capacity / state.largestJobSlots));
  if (!state.busy || fits >= Math.ceil(full / 2) || state.waitedMs >= state.lingerMs) return { kind: 'receive', messages: fits };
  return { kind: 'wait', forMs: state.lingerMs - state.waitedMs };
}
