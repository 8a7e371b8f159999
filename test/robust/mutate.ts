/**
 * A seeded, structure-aware mutator for capture files: it knows where pcap
 * records and pcapng blocks start, so it can lie in exactly the length fields
 * a reader trusts, duplicate and reorder blocks, and cut files at every kind
 * of boundary. Same seed => same case.
 */

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** xorshift32 */
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

export interface Region {
  /** Start of the record/block. */
  start: number;
  /** Length of the whole record/block. */
  len: number;
  /** Offsets of 32-bit length fields inside it (absolute), trusted by readers. */
  lengthFields: number[];
  /** pcapng block type field offset, or -1. */
  typeField: number;
}

export interface Layout {
  format: "pcap" | "pcapng" | "other";
  little: boolean;
  headerLen: number;
  regions: Region[];
}

function u32(b: Uint8Array, o: number, little: boolean): number {
  return little
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function layout(b: Uint8Array): Layout {
  if (b.length >= 24) {
    const m = u32(b, 0, true);
    if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xd4c3b2a1 || m === 0x4d3cb2a1) {
      const little = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
      const regions: Region[] = [];
      let o = 24;
      while (o + 16 <= b.length && regions.length < 100_000) {
        const cap = u32(b, o + 8, little);
        if (o + 16 + cap > b.length) break;
        regions.push({ start: o, len: 16 + cap, lengthFields: [o + 8, o + 12], typeField: -1 });
        o += 16 + cap;
      }
      return { format: "pcap", little, headerLen: 24, regions };
    }
    if (u32(b, 0, true) === 0x0a0d0d0a && b.length >= 12) {
      const little = u32(b, 8, true) === 0x1a2b3c4d;
      const regions: Region[] = [];
      let o = 0;
      while (o + 12 <= b.length && regions.length < 100_000) {
        const type = u32(b, o, little);
        const len = u32(b, o + 4, little);
        if (len < 12 || len % 4 !== 0 || o + len > b.length) break;
        const fields = [o + 4, o + len - 4];
        if (type === 6 && len >= 32) fields.push(o + 20, o + 24); // EPB captured/original length
        if (type === 3 && len >= 16) fields.push(o + 8); // SPB original length
        if (type === 1 && len >= 20) fields.push(o + 12); // IDB snaplen
        regions.push({ start: o, len, lengthFields: fields, typeField: o });
        o += len;
      }
      return { format: "pcapng", little, headerLen: 0, regions };
    }
  }
  return { format: "other", little: true, headerLen: 0, regions: [] };
}

const LIES = [0, 1, 2, 3, 4, 7, 12, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffc, 0x10000, 0x40000, 0x1000000, 65535, 262144];
const BLOCK_TYPES = [0x0a0d0d0a, 1, 2, 3, 4, 5, 6, 0x0a, 0x0bad, 0x40000bad, 0x80000001, 0];

function put32(b: Uint8Array, o: number, v: number, little: boolean): void {
  if (o < 0 || o + 4 > b.length) return;
  if (little) {
    b[o] = v & 0xff;
    b[o + 1] = (v >>> 8) & 0xff;
    b[o + 2] = (v >>> 16) & 0xff;
    b[o + 3] = (v >>> 24) & 0xff;
  } else {
    b[o] = (v >>> 24) & 0xff;
    b[o + 1] = (v >>> 16) & 0xff;
    b[o + 2] = (v >>> 8) & 0xff;
    b[o + 3] = v & 0xff;
  }
}

export const MUTATIONS = ["bitflip", "truncate", "lengthLie", "duplicate", "reorder", "blockType", "insert", "zeroRun"] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** One mutated copy of `orig`; `applied` says what was done (for regression file names). */
export function mutate(orig: Uint8Array, rng: Rng): { bytes: Uint8Array; applied: string[] } {
  let b = new Uint8Array(orig);
  const applied: string[] = [];
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const L = layout(b);
    const regions = L.regions;
    const m: Mutation = rng.pick(MUTATIONS);
    const region = regions.length ? rng.pick(regions) : null;
    switch (m) {
      case "bitflip": {
        const flips = 1 + rng.int(8);
        for (let i = 0; i < flips && b.length; i++) {
          // Headers are where the interesting decisions are: bias towards them.
          const o = region && rng.int(2) ? region.start + rng.int(Math.min(region.len, 64)) : rng.int(b.length);
          if (o < b.length) b[o] ^= 1 << rng.int(8);
        }
        applied.push(`bitflip${flips}`);
        break;
      }
      case "truncate": {
        let cut: number;
        if (region) {
          const where = rng.int(4);
          cut = where === 0 ? region.start + rng.int(16) : where === 1 ? region.start + rng.int(region.len) : where === 2 ? region.start + region.len - 1 - rng.int(4) : region.start;
        } else cut = rng.int(b.length + 1);
        b = b.slice(0, Math.max(0, Math.min(b.length, cut)));
        applied.push(`truncate@${cut}`);
        break;
      }
      case "lengthLie": {
        if (!region || region.lengthFields.length === 0) {
          put32(b, rng.int(Math.max(1, b.length - 4)), rng.pick(LIES), L.little);
          applied.push("lengthLie-blind");
        } else {
          const f = rng.pick(region.lengthFields);
          const v = rng.int(3) === 0 ? (u32(b, f, L.little) + rng.int(9) - 4) >>> 0 : rng.pick(LIES);
          put32(b, f, v, L.little);
          applied.push(`lengthLie@${f}=${v}`);
        }
        break;
      }
      case "duplicate": {
        if (!region) break;
        const copies = 1 + rng.int(3);
        const blk = b.slice(region.start, region.start + region.len);
        const parts = [b.subarray(0, region.start + region.len)];
        for (let i = 0; i < copies; i++) parts.push(blk);
        parts.push(b.subarray(region.start + region.len));
        b = Buffer.concat(parts);
        applied.push(`duplicate${copies}@${region.start}`);
        break;
      }
      case "reorder": {
        if (regions.length < 2) break;
        const i = rng.int(regions.length);
        const j = rng.int(regions.length);
        if (i === j) break;
        const [x, y] = i < j ? [regions[i], regions[j]] : [regions[j], regions[i]];
        b = Buffer.concat([
          b.subarray(0, x.start),
          b.subarray(y.start, y.start + y.len),
          b.subarray(x.start + x.len, y.start),
          b.subarray(x.start, x.start + x.len),
          b.subarray(y.start + y.len),
        ]);
        applied.push(`reorder@${x.start},${y.start}`);
        break;
      }
      case "blockType": {
        if (!region || region.typeField < 0) {
          // pcap: lie in the link type or the magic instead.
          put32(b, rng.int(2) ? 20 : 0, rng.pick([0, 1, 101, 113, 276, 0x10000001, 0xffffffff, 0xa1b2c3d4, 0x0a0d0d0a]), L.little);
          applied.push("headerLie");
        } else {
          const t = rng.pick(BLOCK_TYPES);
          put32(b, region.typeField, t, L.little);
          applied.push(`blockType@${region.start}=${t}`);
        }
        break;
      }
      case "insert": {
        const at = region ? region.start + rng.int(region.len) : rng.int(b.length + 1);
        const junk = new Uint8Array(1 + rng.int(64));
        for (let i = 0; i < junk.length; i++) junk[i] = rng.int(256);
        b = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
        applied.push(`insert${junk.length}@${at}`);
        break;
      }
      case "zeroRun": {
        const at = region ? region.start : rng.int(b.length);
        const n = Math.min(b.length - at, 1 + rng.int(32));
        b.fill(rng.int(2) ? 0 : 0xff, at, at + n);
        applied.push(`fill${n}@${at}`);
        break;
      }
    }
  }
  return { bytes: b, applied };
}
