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

export interface ForgedVerdict {
  suspected: boolean;
  reason: string | null;
}

export class AddressTtlTable {
  private readonly mask: number;
  private readonly ver: Uint8Array;
  private readonly addr: Uint32Array; // 4 words per slot
  private readonly ttl: Uint8Array; // reference TTL (first seen)
  private readonly agree: Uint32Array; // packets with ttl == reference
  private readonly disagree: Uint32Array; // packets with another ttl
  private readonly lastIpId: Int32Array; // -1 unknown
  private readonly ipIdSamples: Uint32Array;

  constructor(slots = 1 << 16) {
    let n = 1024;
    while (n < slots) n <<= 1;
    this.mask = n - 1;
    this.ver = new Uint8Array(n);
    this.addr = new Uint32Array(n * 4);
    this.ttl = new Uint8Array(n);
    this.agree = new Uint32Array(n);
    this.disagree = new Uint32Array(n);
    this.lastIpId = new Int32Array(n).fill(-1);
    this.ipIdSamples = new Uint32Array(n);
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
    let victim = -1;
    let victimScore = Infinity;
    for (let i = 0; i < BUCKET_WAYS; i++) {
      const s = base + i;
      const o = s * 4;
      if (
        this.ver[s] === v &&
        this.addr[o] === a[0] &&
        this.addr[o + 1] === a[1] &&
        this.addr[o + 2] === a[2] &&
        this.addr[o + 3] === a[3]
      ) {
        return s;
      }
      const score = this.ver[s] === 0 ? -1 : this.agree[s]! + this.disagree[s]!;
      if (score < victimScore) {
        victimScore = score;
        victim = s;
      }
    }
    if (!create) return -1;
    const s = victim;
    const o = s * 4;
    this.ver[s] = v;
    this.addr[o] = a[0]!;
    this.addr[o + 1] = a[1]!;
    this.addr[o + 2] = a[2]!;
    this.addr[o + 3] = a[3]!;
    this.ttl[s] = 0;
    this.agree[s] = 0;
    this.disagree[s] = 0;
    this.lastIpId[s] = -1;
    this.ipIdSamples[s] = 0;
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
    const o = s * 4;
    const A = this.addr;
    return this.ver[s] === v && A[o] === a[0] && A[o + 1] === a[1] && A[o + 2] === a[2] && A[o + 3] === a[3];
  }

  private learnAt(s: number, ttl: number, ipId: number): void {
    if (this.agree[s] === 0 && this.disagree[s] === 0) {
      this.ttl[s] = ttl;
      this.agree[s] = 1;
    } else if (this.ttl[s] === ttl) {
      this.agree[s]!++;
    } else {
      this.disagree[s]!++;
      // The reference was the odd one out: adopt the majority.
      if (this.disagree[s]! > this.agree[s]! * 2) {
        this.ttl[s] = ttl;
        this.agree[s] = 1;
        this.disagree[s] = 0;
      }
    }
    if (ipId >= 0) {
      this.lastIpId[s] = ipId;
      this.ipIdSamples[s]!++;
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
    const agree = this.agree[s]!;
    const disagree = this.disagree[s]!;
    const ref = this.ttl[s]!;
    if (agree < minEvidence || disagree * 10 > agree) return { suspected: false, reason: null };
    if (ref === rstTtl) return { suspected: false, reason: null };
    const hopsRef = hopsOf(ref);
    const hopsRst = hopsOf(rstTtl);
    if (hopsRef === hopsRst) return { suspected: false, reason: null };
    const closer = hopsRst < hopsRef;
    const d = Math.abs(hopsRef - hopsRst);
    let reason =
      `TTL ${rstTtl}, but the other ${agree} packet${agree === 1 ? "" : "s"} from ${addrText} arrived with TTL ${ref}` +
      ` (${hopsRst} vs ${hopsRef} hops): sent by a device ${d} hop${d === 1 ? "" : "s"} ${closer ? "closer to" : "farther from"} the capture point`;
    const last = this.lastIpId[s]!;
    if (v === 4 && rstIpId >= 0 && last >= 0 && this.ipIdSamples[s]! >= minEvidence) {
      const dist = Math.min((rstIpId - last) & 0xffff, (last - rstIpId) & 0xffff);
      if (dist > 1024) reason += `; its IP ID ${rstIpId} is also far from the host's recent IP IDs (last ${last})`;
    }
    return { suspected: true, reason };
  }
}
