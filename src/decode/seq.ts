/**
 * TCP sequence-number arithmetic (RFC 9293 section 3.4, RFC 1982 serial
 * number arithmetic): sequence numbers live on a circle of 2^32, so "a before
 * b" means the signed 32-bit distance from a to b is positive. Never compare
 * raw sequence numbers with < or >: it breaks at the wrap.
 *
 * All inputs are unsigned 32-bit numbers (0..2^32-1, as PacketView.seq/ack);
 * results of seqAdd are unsigned too. Comparing two numbers exactly 2^31 apart
 * is undefined in RFC 1982; here seqDiff gives -2^31 in both directions, so
 * each of the two counts as "before" the other. Callers never see that case
 * in practice (windows are at most 2^30 with scaling, RFC 7323).
 */

/** Signed distance b -> a: a - b mod 2^32, in -2^31 .. 2^31-1. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** a + n mod 2^32, unsigned. n may be negative. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a comes before b on the sequence circle. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a comes after b on the sequence circle. */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
