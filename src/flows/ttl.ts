/**
 * What TTL (hop limit) and IP ID the packets from an address usually arrive
 * with, so that a RST which does not fit can be called out as probably
 * injected by a middlebox (firewall, IPS, load balancer) instead of sent by
 * the host it claims to come from.
 *
 * Bounded: a fixed-size table of 4-way buckets; a newcomer replaces the entry
 * with the least evidence. Fed only from non-RST packets (and only the first
 * packets of each connection, see tracker), so a forged RST never teaches it.
 */

const BUCKET_WAYS = 4;

/** Initial TTLs in use by real stacks (Linux/macOS 64, Windows 128, network gear 255, old stacks 32). */
export function initialTtl(ttl: number): number {
  if (ttl <= 32) return 32;
  if (ttl <= 64) return 64;
  if (ttl <= 128) return 128;
  return 255;
}

/** Hops a packet travelled, assuming it started at the usual initial TTL. */
export function hopsOf(ttl: number): number {
  return initialTtl(ttl) - ttl;
}

/**
 * Why a RST looks forged, in words: its TTL against the `agree` packets from
 * `addrText` that arrived with TTL `ref` (hop counts differ), and its IP ID
 * when that is far from the host's last one. (Also the text for verdicts
 * reached by the compiled flow tracker, native/flows/flows.cc.)
 */
export function forgedReason(
  addrText: string,
  rstTtl: number,
  agree: number,
  ref: number,
  ipIdFar: boolean,
  rstIpId: number,
  lastIpId: number,
): string {
  const hopsRef = hopsOf(ref);
  const hopsRst = hopsOf(rstTtl);
  const closer = hopsRst < hopsRef;
  const d = Math.abs(hopsRef - hopsRst);
  let reason =
    `TTL ${rstTtl}, but the other ${agree} packet${agree === 1 ? "" : "s"} from ${addrText} arrived with TTL ${ref}` +
    ` (${hopsRst} vs ${hopsRef} hops): sent by a device ${d} hop${d === 1 ? "" : "s"} ${closer ? "closer to" : "farther from"} the capture point`;
  if (ipIdFar) reason += `; its IP ID ${rstIpId} is also far from the host's recent IP IDs (last ${lastIpId})`;
  return reason;
}

export interface ForgedVerdict {
  suspected: boolean;
  reason: string | null;
}

/**
 * Slot layout: one 64-byte record of int32s per address (the fields a packet
 * reads and writes share a cache line; separate column arrays cost a line
 * each per packet).
 */
const F_VER = 0; // 0 = empty, 4 or 6
const F_A0 = 1; // address words F_A0..F_A0+3
const F_TTL = 5; // reference TTL (first seen)
const F_AGREE = 6; // packets with ttl == reference
const F_DISAGREE = 7; // packets with another ttl
const F_LAST_IPID = 8; // last IP ID + 1; 0 = unknown (a new table is all zeros: no start-up loop over its 64 k slots)
const F_IPID_SAMPLES = 9;
const STRIDE = 16;

export class AddressTtlTable {
  private readonly mask: number;
  private readonly t: Int32Array;

  constructor(slots = 1 << 16) {
    let n = 1024;
    while (n < slots) n <<= 1;
    this.mask = n - 1;
    this.t = new Int32Array(n * STRIDE);
  }

  private static hash(w0: number, w1: number, w2: number, w3: number): number {
    let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ w1 ^ (h >>> 13), 0xc2b2ae35);
    h = Math.imul(h ^ w2 ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ w3 ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private find(v: number, a: Uint32Array, create: boolean): number {
    const base = (AddressTtlTable.hash(a[0]!, a[1]!, a[2]!, a[3]!) & this.mask) & ~(BUCKET_WAYS - 1);
    const T = this.t;
    let victim = -1;
    let victimScore = Infinity;
    for (let i = 0; i < BUCKET_WAYS; i++) {
      const s = base + i;
      if (this.holds(s, v, a)) return s;
      const o = s * STRIDE;
      const score = T[o + F_VER] === 0 ? -1 : T[o + F_AGREE]! + T[o + F_DISAGREE]!;
      if (score < victimScore) {
        victimScore = score;
        victim = s;
      }
    }
    if (!create) return -1;
    const s = victim;
    const o = s * STRIDE;
    T[o + F_VER] = v;
    T[o + F_A0] = a[0]! | 0;
    T[o + F_A0 + 1] = a[1]! | 0;
    T[o + F_A0 + 2] = a[2]! | 0;
    T[o + F_A0 + 3] = a[3]! | 0;
    T[o + F_TTL] = 0;
    T[o + F_AGREE] = 0;
    T[o + F_DISAGREE] = 0;
    T[o + F_LAST_IPID] = 0;
    T[o + F_IPID_SAMPLES] = 0;
    return s;
  }

  /** Learn from one non-RST packet sent by `a`. */
  learn(v: number, a: Uint32Array, ttl: number, ipId: number): void {
    this.learnAt(this.find(v, a, true), ttl, ipId);
  }

  /**
   * learn(), with the slot this address had last time (`hint`, -1 = none) to
   * try first: the next packets of a connection come from the same address.
   * Returns the address's slot, for the next call.
   */
  learnHinted(hint: number, v: number, a: Uint32Array, ttl: number, ipId: number): number {
    let s = hint;
    if (s < 0 || !this.holds(s, v, a)) s = this.find(v, a, true);
    this.learnAt(s, ttl, ipId);
    return s;
  }

  private holds(s: number, v: number, a: Uint32Array): boolean {
    const o = s * STRIDE;
    const T = this.t;
    return (
      T[o + F_VER] === v &&
      T[o + F_A0] === (a[0]! | 0) &&
      T[o + F_A0 + 1] === (a[1]! | 0) &&
      T[o + F_A0 + 2] === (a[2]! | 0) &&
      T[o + F_A0 + 3] === (a[3]! | 0)
    );
  }

  private learnAt(s: number, ttl: number, ipId: number): void {
    const T = this.t;
    const o = s * STRIDE;
    const agree = T[o + F_AGREE]!;
    const disagree = T[o + F_DISAGREE]!;
    if (agree === 0 && disagree === 0) {
      T[o + F_TTL] = ttl;
      T[o + F_AGREE] = 1;
    } else if (T[o + F_TTL] === ttl) {
      // saturating: an int32 counter must not wrap on a huge capture
      if (agree < 0x7fffffff) T[o + F_AGREE] = agree + 1;
    } else {
      const d = disagree < 0x7fffffff ? disagree + 1 : disagree;
      T[o + F_DISAGREE] = d;
      // The reference was the odd one out: adopt the majority.
      if (d > agree * 2) {
        T[o + F_TTL] = ttl;
        T[o + F_AGREE] = 1;
        T[o + F_DISAGREE] = 0;
      }
    }
    if (ipId >= 0) {
      T[o + F_LAST_IPID] = ipId + 1;
      const n = T[o + F_IPID_SAMPLES]!;
      if (n < 0x7fffffff) T[o + F_IPID_SAMPLES] = n + 1;
    }
  }

  /**
   * Judge a RST that claims to come from `a`. Careful by design: it needs at
   * least `minEvidence` other packets from that address, nearly all with one
   * TTL, and the RST's TTL must imply a different hop count (a different
   * initial TTL alone, e.g. 128 vs 64 with the same hops, is not evidence).
   */
  judgeRst(v: number, a: Uint32Array, addrText: string, rstTtl: number, rstIpId: number, minEvidence = 3): ForgedVerdict {
    const s = this.find(v, a, false);
    if (s < 0) return { suspected: false, reason: null };
    const T = this.t;
    const o = s * STRIDE;
    const agree = T[o + F_AGREE]!;
    const disagree = T[o + F_DISAGREE]!;
    const ref = T[o + F_TTL]!;
    if (agree < minEvidence || disagree * 10 > agree) return { suspected: false, reason: null };
    if (ref === rstTtl) return { suspected: false, reason: null };
    const hopsRef = hopsOf(ref);
    const hopsRst = hopsOf(rstTtl);
    if (hopsRef === hopsRst) return { suspected: false, reason: null };
    const last = T[o + F_LAST_IPID]! - 1;
    let ipIdFar = false;
    if (v === 4 && rstIpId >= 0 && last >= 0 && T[o + F_IPID_SAMPLES]! >= minEvidence) {
      const dist = Math.min((rstIpId - last) & 0xffff, (last - rstIpId) & 0xffff);
      ipIdFar = dist > 1024;
    }
    const reason = forgedReason(addrText, rstTtl, agree, ref, ipIdFar, rstIpId, last);
    return { suspected: true, reason };
  }
}
