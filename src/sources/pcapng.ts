/**
 * pcapng (draft-ietf-opsawg-pcapng): sections in either byte order, each
 * with its own interfaces; enhanced, simple and obsolete packet blocks;
 * every other block type is checked for a sane length and skipped.
 */
import { InputError, type RecordBatch } from "./record.js";
import { FileSourceBase } from "./base.js";
import type { ChunkReader } from "./input.js";
import { MAX_BLOCK_BYTES, maxCapLenForLinkType } from "./limits.js";

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
/** Obsolete Packet Block (pcapng 1.0 "Packet Block"), still written by old tools. */
export const BT_OPB = 0x00000002;
export const BT_SPB = 0x00000003;
export const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const BLOCK_MIN = 12; // type, length, trailing length
const SHB_MIN = 28;
const IDB_MIN = 20;
const EPB_MIN = 32;
const SPB_MIN = 16;
const OPB_MIN = 32;

// Packet block fields (EPB; the OPB has the same layout with a 16-bit interface id).
const P_IFACE = 8;
const P_TS_HIGH = 12;
const P_TS_LOW = 16;
const P_CAPLEN = 20;
const P_ORIGLEN = 24;
const P_DATA = 28;
// Simple packet block.
const SPB_ORIGLEN = 8;
const SPB_DATA = 12;

// Options.
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_FCSLEN = 13;
const OPT_IF_TSOFFSET = 14;
const OPT_EPB_FLAGS = 2;

// How an interface's timestamp units become seconds + nanoseconds.
const TS_DEC = 0; // 10^-k with k <= 9: exact double arithmetic
const TS_BIN = 1; // 2^-k with k <= 32: shifts
const TS_BIG = 2; // anything else: BigInt (exotic, slow, exact)

const TWO32 = 4294967296;
const MAX_INTERFACES = 1 << 20;

/**
 * Check a section header block at `pos` (at least 12 bytes present). Returns
 * its byte order and length, or the reason it is not usable.
 */
function shbHeader(dv: DataView, pos: number): { le: boolean; len: number } | string {
  const bom = dv.getUint32(pos + 8, true);
  let le: boolean;
  if (bom === BYTE_ORDER_MAGIC) le = true;
  else if (bom === 0x4d3c2b1a) le = false;
  else return `bad section header byte-order magic 0x${bom.toString(16).padStart(8, "0")}`;
  const len = dv.getUint32(pos + 4, le);
  const bad = blockLengthProblem(len, SHB_MIN);
  if (bad) return bad;
  return { le, len };
}

function blockLengthProblem(len: number, min: number): string | null {
  if (len < min) return `bad block length ${len} (less than the minimum ${min})`;
  if ((len & 3) !== 0) return `bad block length ${len} (not a multiple of 4)`;
  if (len > MAX_BLOCK_BYTES) return `bad block length ${len} (bigger than the maximum ${MAX_BLOCK_BYTES})`;
  return null;
}

/** Version check of a whole SHB; null if fine. */
function shbVersionProblem(dv: DataView, pos: number, le: boolean): string | null {
  const major = dv.getUint16(pos + 12, le);
  const minor = dv.getUint16(pos + 14, le);
  // 1.0 is current; 1.2 was written by some early tools and Wireshark accepts it.
  if (major !== 1 || (minor !== 0 && minor !== 2)) return `unsupported pcapng version ${major}.${minor}`;
  return null;
}

export class PcapngSource extends FileSourceBase {
  readonly format = "pcapng" as const;
  /** Byte order of the current section. */
  private le = true;
  /** Sections seen so far. */
  sections = 0;

  // Interfaces of the current section, indexed by interface id.
  private ifCount = 0;
  readonly ifLinkType: number[] = [];
  private readonly ifSnapLen: number[] = [];
  private readonly ifFcsLen: number[] = [];
  private readonly ifMaxCap: number[] = [];
  private readonly ifTsMode: number[] = [];
  /** TS_DEC: units per second (10^k); TS_BIN: k. */
  private readonly ifTsDiv: number[] = [];
  /** TS_DEC: nanoseconds per unit (10^(9-k)). */
  private readonly ifTsMul: number[] = [];
  private readonly ifTsBig: bigint[] = [];
  /** if_tsoffset, seconds. */
  private readonly ifTsOffset: number[] = [];

  // Out-parameters of tsSlow(), to avoid an object per packet.
  private outSec = 0;
  private outNsec = 0;

  private constructor(name: string, r: ChunkReader, totalBytes: number | null, batchRecords: number) {
    super(name, r, totalBytes, batchRecords);
  }

  /** Check the first section header; throws InputError if it is not usable. */
  static async open(name: string, r: ChunkReader, totalBytes: number | null, batchRecords: number): Promise<PcapngSource> {
    const start = r.offset;
    const fail = (why: string, at = start): never => {
      throw new InputError(`${name}: ${why} at byte ${at}`, name, at);
    };
    if (!(await r.fill(BLOCK_MIN))) {
      fail(`truncated pcapng section header block (${r.end - r.pos} of ${SHB_MIN} bytes)${r.input.error ? `: ${r.input.error}` : ""}`);
    }
    if (r.view.getUint32(r.pos, true) !== BT_SHB) fail("not a pcapng file");
    const h = shbHeader(r.view, r.pos);
    if (typeof h === "string") fail(`unreadable pcapng section header: ${h}`);
    const { le, len } = h as { le: boolean; len: number };
    if (!(await r.fill(len))) {
      fail(`truncated pcapng section header block (${r.end - r.pos} of ${len} bytes)${r.input.error ? `: ${r.input.error}` : ""}`);
    }
    const trailer = r.view.getUint32(r.pos + len - 4, le);
    if (trailer !== len) fail(`unreadable pcapng section header: trailing block length ${trailer} does not match ${len}`);
    const v = shbVersionProblem(r.view, r.pos, le);
    if (v) fail(v, start + 12);
    // The loop in next() reads this SHB again like any other.
    return new PcapngSource(name, r, totalBytes, batchRecords);
  }

  protected async read(): Promise<RecordBatch | null> {
    const r = this.r;
    r.shrink();
    for (;;) {
      // Ensure one whole block is in the window, then let the fast loop run.
      if (!(await r.fill(BLOCK_MIN))) {
        this.stopAtEnd(r.offset, r.end - r.pos, `truncated block header (${r.end - r.pos} of ${BLOCK_MIN} bytes)`);
        return null;
      }
      const dv = r.view;
      let len: number;
      if (dv.getUint32(r.pos, true) === BT_SHB) {
        const h = shbHeader(dv, r.pos);
        if (typeof h === "string") {
          this.stop(r.offset, h);
          return null;
        }
        len = h.len;
      } else {
        len = dv.getUint32(r.pos + 4, this.le);
        const bad = blockLengthProblem(len, BLOCK_MIN);
        if (bad) {
          this.stop(r.offset, bad);
          return null;
        }
      }
      if (!(await r.fill(len))) {
        this.stopAtEnd(r.offset, 1, `truncated block: ${r.available} of ${len} bytes`);
        return null;
      }
      const b = this.scan();
      if (b) return b;
      if (this.done) return null;
      // Only non-packet blocks were in the window: go round for more input.
    }
  }

  /** Walk whole blocks in the window, filling the batch. Null if no packet came out. */
  private scan(): RecordBatch | null {
    const r = this.r;
    const b = this.batch;
    const cap = b.offset.length;
    const dv = r.view;
    const end = r.end;
    const offset = b.offset;
    const capLens = b.capLen;
    const origLens = b.origLen;
    const linkTypes = b.linkType;
    const fcsLens = b.fcsLen;
    const tsSecs = b.tsSec;
    const tsNsecs = b.tsNsec;
    const ifTsMode = this.ifTsMode;
    const ifTsDiv = this.ifTsDiv;
    const ifTsMul = this.ifTsMul;
    const ifTsOffset = this.ifTsOffset;
    const ifMaxCap = this.ifMaxCap;
    let le = this.le;
    let pos = r.pos;
    let n = 0;
    let bad: string | null = null;

    while (n < cap) {
      const avail = end - pos;
      if (avail < BLOCK_MIN) break;
      const type = dv.getUint32(pos, le);
      let len: number;
      if (type === BT_SHB) {
        const h = shbHeader(dv, pos);
        if (typeof h === "string") {
          bad = h;
          break;
        }
        len = h.len;
        if (avail < len) break;
        if (dv.getUint32(pos + len - 4, h.le) !== len) {
          bad = `trailing block length ${dv.getUint32(pos + len - 4, h.le)} does not match leading length ${len}`;
          break;
        }
        bad = shbVersionProblem(dv, pos, h.le);
        if (bad) break;
        // A new section: new byte order, and interface ids start again at 0.
        le = h.le;
        this.le = le;
        this.ifCount = 0;
        this.sections++;
        pos += len;
        continue;
      }
      len = dv.getUint32(pos + 4, le);
      if (len < BLOCK_MIN || (len & 3) !== 0 || len > MAX_BLOCK_BYTES) {
        bad = blockLengthProblem(len, BLOCK_MIN);
        break;
      }
      if (avail < len) break;
      if (dv.getUint32(pos + len - 4, le) !== len) {
        bad = `trailing block length ${dv.getUint32(pos + len - 4, le)} does not match leading length ${len}`;
        break;
      }

      if (type === BT_EPB || type === BT_OPB) {
        if (len < (type === BT_EPB ? EPB_MIN : OPB_MIN)) {
          bad = `${type === BT_EPB ? "enhanced" : "obsolete"} packet block too short (${len} bytes)`;
          break;
        }
        const id = type === BT_EPB ? dv.getUint32(pos + P_IFACE, le) : dv.getUint16(pos + P_IFACE, le);
        if (id >= this.ifCount) {
          bad = `packet on interface ${id} but the section has ${this.ifCount} interface description block${this.ifCount === 1 ? "" : "s"}`;
          break;
        }
        const capLen = dv.getUint32(pos + P_CAPLEN, le);
        if (capLen > len - EPB_MIN) {
          bad = `packet block of ${len} bytes cannot hold caplen ${capLen}`;
          break;
        }
        if (capLen > ifMaxCap[id]!) {
          bad = `invalid caplen ${capLen}, bigger than the maximum ${ifMaxCap[id]} for link type ${this.ifLinkType[id]}`;
          break;
        }
        const high = dv.getUint32(pos + P_TS_HIGH, le);
        const low = dv.getUint32(pos + P_TS_LOW, le);
        let sec: number;
        let nsec: number;
        if (ifTsMode[id] === TS_DEC) {
          const d = ifTsDiv[id]!;
          if (high < 0x200000) {
            // high * 2^32 + low < 2^53: one exact division.
            const units = high * TWO32 + low;
            sec = Math.floor(units / d);
            nsec = (units - sec * d) * ifTsMul[id]!;
          } else {
            // Long division in 16-bit steps keeps every intermediate < 2^53.
            const a = Math.floor(high / d);
            const x = (high - a * d) * 65536 + (low >>> 16);
            const c = Math.floor(x / d);
            const y = (x - c * d) * 65536 + (low & 0xffff);
            const e = Math.floor(y / d);
            sec = a * TWO32 + c * 65536 + e;
            nsec = (y - e * d) * ifTsMul[id]!;
          }
          sec += ifTsOffset[id]!;
        } else {
          this.tsSlow(id, high, low);
          sec = this.outSec;
          nsec = this.outNsec;
        }
        let fcs = this.ifFcsLen[id]!;
        const dataEnd = pos + P_DATA + ((capLen + 3) & ~3);
        if (type === BT_EPB && dataEnd + 4 < pos + len) fcs = this.epbFlagsFcs(dv, dataEnd, pos + len - 4, le, fcs);
        offset[n] = pos + P_DATA;
        capLens[n] = capLen;
        origLens[n] = dv.getUint32(pos + P_ORIGLEN, le);
        linkTypes[n] = this.ifLinkType[id]!;
        fcsLens[n] = fcs;
        tsSecs[n] = sec;
        tsNsecs[n] = nsec;
        n++;
      } else if (type === BT_SPB) {
        if (len < SPB_MIN) {
          bad = `simple packet block too short (${len} bytes)`;
          break;
        }
        if (this.ifCount === 0) {
          bad = "simple packet block but the section has no interface description block";
          break;
        }
        // Captured length: the original length cut to interface 0's snaplen
        // (0 means unlimited) and to what the block holds.
        const origLen = dv.getUint32(pos + SPB_ORIGLEN, le);
        let capLen = origLen;
        const snap = this.ifSnapLen[0]!;
        if (snap !== 0 && capLen > snap) capLen = snap;
        if (capLen > len - SPB_MIN) capLen = len - SPB_MIN;
        if (capLen > ifMaxCap[0]!) {
          bad = `invalid caplen ${capLen}, bigger than the maximum ${ifMaxCap[0]} for link type ${this.ifLinkType[0]}`;
          break;
        }
        offset[n] = pos + SPB_DATA;
        capLens[n] = capLen;
        origLens[n] = origLen;
        linkTypes[n] = this.ifLinkType[0]!;
        fcsLens[n] = this.ifFcsLen[0]!;
        // No timestamp in a simple packet block; Wireshark shows the epoch.
        tsSecs[n] = 0;
        tsNsecs[n] = 0;
        n++;
      } else if (type === BT_IDB) {
        bad = this.addInterface(dv, pos, len, le);
        if (bad) break;
      }
      // Anything else (name resolution, statistics, decryption secrets,
      // custom, journal export...) carries no packet: skip it.
      pos += len;
    }

    r.pos = pos;
    b.count = n;
    b.data = r.buf;
    if (bad) this.stop(r.base + pos, bad, n);
    this.records += n;
    return n > 0 ? b : null;
  }

  private addInterface(dv: DataView, pos: number, len: number, le: boolean): string | null {
    if (len < IDB_MIN) return `interface description block too short (${len} bytes)`;
    const id = this.ifCount;
    // Each interface costs a few numbers; a file of nothing but IDBs must not cost gigabytes.
    if (id >= MAX_INTERFACES) return `more than ${MAX_INTERFACES} interface description blocks in one section`;
    const linkType = dv.getUint16(pos + 8, le);
    let tsresol = 6;
    let fcsLen = 0;
    let tsOffset = 0;
    const optEnd = pos + len - 4;
    let o = pos + 16;
    // Options: a malformed one ends option parsing, keeping the defaults.
    while (o + 4 <= optEnd) {
      const code = dv.getUint16(o, le);
      const olen = dv.getUint16(o + 2, le);
      if (code === OPT_ENDOFOPT || o + 4 + olen > optEnd) break;
      if (code === OPT_IF_TSRESOL && olen >= 1) tsresol = dv.getUint8(o + 4);
      else if (code === OPT_IF_FCSLEN && olen >= 1) {
        // The spec says bits, some writers put bytes; 16/32 can only be bits.
        const v = dv.getUint8(o + 4);
        fcsLen = v === 16 || v === 32 ? v / 8 : v;
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) tsOffset = Number(dv.getBigInt64(o + 4, le));
      o += 4 + ((olen + 3) & ~3);
    }
    this.ifLinkType[id] = linkType;
    this.ifSnapLen[id] = dv.getUint32(pos + 12, le);
    this.ifFcsLen[id] = fcsLen;
    this.ifMaxCap[id] = maxCapLenForLinkType(linkType);
    this.ifTsOffset[id] = tsOffset;
    this.ifTsBig[id] = 0n;
    this.ifTsDiv[id] = 0;
    this.ifTsMul[id] = 0;
    if (tsresol & 0x80) {
      const k = tsresol & 0x7f;
      if (k <= 32) {
        this.ifTsMode[id] = TS_BIN;
        this.ifTsDiv[id] = k;
      } else {
        this.ifTsMode[id] = TS_BIG;
        this.ifTsBig[id] = 1n << BigInt(k);
      }
    } else if (tsresol <= 9) {
      this.ifTsMode[id] = TS_DEC;
      this.ifTsDiv[id] = 10 ** tsresol;
      this.ifTsMul[id] = 10 ** (9 - tsresol);
    } else {
      this.ifTsMode[id] = TS_BIG;
      this.ifTsBig[id] = 10n ** BigInt(tsresol);
    }
    this.ifCount = id + 1;
    return null;
  }

  /** Timestamps in binary fractions or exotic units; sets outSec/outNsec. */
  private tsSlow(id: number, high: number, low: number): void {
    if (this.ifTsMode[id] === TS_BIN) {
      const k = this.ifTsDiv[id]!;
      let sec: number;
      let frac: number;
      if (k === 32) {
        sec = high;
        frac = low;
      } else {
        sec = high * 2 ** (32 - k) + Math.floor(low / 2 ** k);
        frac = low % 2 ** k;
      }
      // floor(frac * 1e9 / 2^k), with 1e9 = 2^9 * 1953125 to stay below 2^53.
      const nsec = k >= 9 ? Math.floor((frac * 1953125) / 2 ** (k - 9)) : Math.floor((frac * 1e9) / 2 ** k);
      this.outSec = sec + this.ifTsOffset[id]!;
      this.outNsec = nsec;
      return;
    }
    const d = this.ifTsBig[id]!;
    const units = (BigInt(high) << 32n) | BigInt(low);
    this.outSec = Number(units / d) + this.ifTsOffset[id]!;
    this.outNsec = Number(((units % d) * 1_000_000_000n) / d);
  }

  /** epb_flags bits 5-8: FCS length in octets for this packet, overriding if_fcslen. */
  private epbFlagsFcs(dv: DataView, o: number, optEnd: number, le: boolean, fcs: number): number {
    while (o + 4 <= optEnd) {
      const code = dv.getUint16(o, le);
      const olen = dv.getUint16(o + 2, le);
      if (code === OPT_ENDOFOPT || o + 4 + olen > optEnd) break;
      if (code === OPT_EPB_FLAGS && olen >= 4) {
        const f = (dv.getUint32(o + 4, le) >>> 5) & 0xf;
        return f !== 0 ? f : fcs;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    return fcs;
  }
}
