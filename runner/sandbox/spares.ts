/**
 * How many warm spares to keep: enough to cover the sandboxes the runner will take while a new
 * one boots, judged from recent demand. Pure: times are arguments.
 *
 * spares = ceil(takes per ms over the window x boot ms x 2), within [min, max]. The factor of two
 * covers bursts; an idle runner falls back to `min` once the window holds no takes.
 */
export interface SpareDemand {
  /** When sandboxes were taken (epoch ms), any order. */
  readonly takes: readonly number[];
  readonly now: number;
  readonly windowMs: number;
  /** Recent time from fork to ready. */
  readonly bootMs: number;
  readonly min: number;
  readonly max: number;
}

export function sparesFor(d: SpareDemand): number {
  const recent = d.takes.filter((t) => t > d.now - d.windowMs && t <= d.now).length;
  const wanted = Math.ceil((recent / d.windowMs) * d.bootMs * 2);
  return Math.max(d.min, Math.min(d.max, wanted));
}
