/**
 * What the runner can prove about a task's lease, as pure functions of when heartbeats were
 * sent. DynamoDB writes `leaseUntil = sentAt + leaseMs` with the runner's own `sentAt`, so a
 * beat's success proves the lease until then, measured from when the beat was SENT (never from
 * when its answer arrived: the write may have landed at any moment in between).
 */

/**
 * The lease end proven after a beat sent at `sentAt` succeeded. A beat sent earlier whose call
 * has not settled yet may still land after this one and write its older, shorter lease: until it
 * settles, the proof cannot go past that earlier beat's lease. (A call that has settled, with
 * whatever result, writes nothing more.)
 */
export function provenLeaseEnd(current: number, sentAt: number, unsettledSentAts: Iterable<number>, leaseMs: number): number {
  let floor = sentAt;
  for (const earlier of unsettledSentAts) if (earlier < floor) floor = earlier;
  return Math.max(current, floor + leaseMs);
}

/**
 * When the runner stops a script whose lease it cannot prove, and when the script's sandbox ends
 * itself if the runner cannot (it is frozen). Both strictly before the lease ends: the reaper
 * fails the task at lease end + grace, and a retry may start then.
 * - the runner stops it `marginMs` before the lease ends;
 * - the sandbox's own deadline is half that margin before the lease ends: later than the runner's
 *   stop (so a healthy runner always acts first, and says why), early enough to cover the delay of
 *   the message that carries it.
 */
export function fenceTimes(leaseUntil: number, marginMs: number): { readonly stopAt: number; readonly sandboxDeadlineAt: number } {
  return { stopAt: leaseUntil - marginMs, sandboxDeadlineAt: leaseUntil - marginMs / 2 };
}
