/**
 * Classic pcap (tcpdump/libpcap savefile): both byte orders, microsecond and
 * nanosecond magic, and the "modified" (Kuznetzov, ss991029) variant with
 * 24-byte record headers. https://www.tcpdump.org/manpages/pcap-savefile.5.html
 */
import { InputError, type RecordBatch } from "./record.js";
import { FileSourceBase } from "./base.js";
import type { ChunkReader } from "./input.js";
import { maxCapLenForLinkType } from "./limits.js";

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** Alexey Kuznetzov's patched libpcap (editcap -F modpcap / rh6_1pcap). */
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

const FILE_HEADER_LEN = 24;
// File header fields.
const H_VERSION_MAJOR = 4;
const H_VERSION_MINOR = 6;
const H_SNAPLEN = 16;
const H_LINKTYPE = 20;
// Record header fields.
const R_TS_SEC = 0;
const R_TS_FRAC = 4;
const R_CAPLEN = 8;
const R_ORIGLEN = 12;

/*
 * The link-type field's upper bits (libpcap pcap/pcap.h, LT_* macros):
 * bits 0-15 the LINKTYPE_, bit 26 says an FCS length is present, bits 28-31
 * give that length in 16-bit words.
 */
const LT_LINKTYPE_MASK = 0x0000ffff;
const LT_FCS_LENGTH_PRESENT = 0x04000000;
const LT_FCS_LENGTH_SHIFT = 28;

/** Which magic (after byte order) the first four bytes are, or null. */
export function pcapMagicKind(first: Uint8Array): { littleEndian: boolean; nano: boolean; modified: boolean } | null {
  if (first.length < 4) return null;
  const le = (first[0]! | (first[1]! << 8) | (first[2]! << 16) | (first[3]! << 24)) >>> 0;
  const be = ((first[0]! << 24) | (first[1]! << 16) | (first[2]! << 8) | first[3]!) >>> 0;
  for (const [v, littleEndian] of [
    [le, true],
    [be, false],
  ] as const) {
    if (v === PCAP_MAGIC_USEC) return { littleEndian, nano: false, modified: false };
    if (v === PCAP_MAGIC_NSEC) return { littleEndian, nano: true, modified: false };
    if (v === PCAP_MAGIC_MODIFIED) return { littleEndian, nano: false, modified: true };
  }
  return null;
}

export class PcapSource extends FileSourceBase {
  readonly format = "pcap" as const;
  readonly littleEndian: boolean;
  readonly nano: boolean;
  /** LINKTYPE_ with the FCS bits removed. */
  readonly linkType: number;
  /** FCS bytes at the end of every packet, from the link-type field's FCS bits. */
  readonly fcsLen: number;
  readonly snapLen: number;
  readonly versionMajor: number;
  readonly versionMinor: number;
  private readonly recordHeaderLen: number;
  private readonly maxCapLen: number;

  private constructor(name: string, r: ChunkReader, totalBytes: number | null, batchRecords: number) {
    super(name, r, totalBytes, batchRecords);
    const kind = pcapMagicKind(r.buf.subarray(r.pos, r.pos + 4))!;
    const le = kind.littleEndian;
    const dv = r.view;
    const p = r.pos;
    this.littleEndian = le;
    this.nano = kind.nano;
    this.recordHeaderLen = kind.modified ? 24 : 16;
    this.versionMajor = dv.getUint16(p + H_VERSION_MAJOR, le);
    this.versionMinor = dv.getUint16(p + H_VERSION_MINOR, le);
    this.snapLen = dv.getUint32(p + H_SNAPLEN, le);
    const lt = dv.getUint32(p + H_LINKTYPE, le);
    this.linkType = lt & LT_LINKTYPE_MASK;
    this.fcsLen = lt & LT_FCS_LENGTH_PRESENT ? (lt >>> LT_FCS_LENGTH_SHIFT) * 2 : 0;
    this.maxCapLen = maxCapLenForLinkType(this.linkType);
    // One link type and FCS length for the whole file: written once into the
    // reused batch, not per record (consumers only read batches).
    this.batch.linkType.fill(this.linkType);
    this.batch.fcsLen.fill(this.fcsLen);
  }

  /** Read and check the file header; throws InputError if it is not a usable pcap header. */
  static async open(name: string, r: ChunkReader, totalBytes: number | null, batchRecords: number): Promise<PcapSource> {
    const start = r.offset;
    if (!(await r.fill(FILE_HEADER_LEN))) {
      const have = r.end - r.pos;
      const why = r.input.error ? `: ${r.input.error}` : "";
      throw new InputError(
        `${name}: truncated pcap file header (${have} of ${FILE_HEADER_LEN} bytes)${why} at byte ${start}`,
        name,
        start,
      );
    }
    const kind = pcapMagicKind(r.buf.subarray(r.pos, r.pos + 4));
    if (!kind) throw new InputError(`${name}: not a pcap file at byte ${start}`, name, start);
    const major = r.view.getUint16(r.pos + H_VERSION_MAJOR, kind.littleEndian);
    const minor = r.view.getUint16(r.pos + H_VERSION_MINOR, kind.littleEndian);
    // libpcap rejects major < 2 as archaic, Wireshark anything but 2.
    if (major !== 2) {
      throw new InputError(`${name}: unsupported pcap version ${major}.${minor} at byte ${start + H_VERSION_MAJOR}`, name, start + H_VERSION_MAJOR);
    }
    const src = new PcapSource(name, r, totalBytes, batchRecords);
    r.pos += FILE_HEADER_LEN;
    return src;
  }

  protected async read(): Promise<RecordBatch | null> {
    const r = this.r;
    const H = this.recordHeaderLen;
    const le = this.littleEndian;

    r.shrink();
    // Make sure one whole record is in the window (this may move the window,
    // which is fine: the previous batch died when next() was called).
    if (!(await r.fill(H))) {
      this.stopAtEnd(r.offset, r.end - r.pos, `truncated record header (${r.end - r.pos} of ${H} bytes)`);
      return null;
    }
    const capLen = r.view.getUint32(r.pos + R_CAPLEN, le);
    if (capLen > this.maxCapLen) {
      this.stopBadCapLen(r.offset, capLen);
      return null;
    }
    if (!(await r.fill(H + capLen))) {
      const have = r.available - H;
      this.stopAtEnd(r.offset, 1, `truncated record: caplen ${capLen} but only ${have} bytes of packet data`);
      return null;
    }

    const b = this.batch;
    const n = le ? this.scanLE(b, r.view, r.pos, r.end) : this.scanBE(b, r.view, r.pos, r.end);
    if (!this.stopped) r.pos = this.scanPos;
    this.records += n;
    b.count = n;
    b.data = r.buf;
    if (n === 0) return null;
    return b;
  }

  /** Where the last scan stopped (the first record not taken). */
  private scanPos = 0;

  /*
   * The record loop, twice: once per byte order, so that every DataView read
   * has a constant endianness (V8 then emits a plain load, plus a byte swap
   * for big-endian files). Records are taken while they are whole in the
   * window [pos, end); a bad caplen stops the source.
   */
  private scanLE(b: RecordBatch, dv: DataView, pos: number, end: number): number {
    const H = this.recordHeaderLen;
    const cap = b.offset.length;
    const nano = this.nano;
    const maxCap = this.maxCapLen;
    const offset = b.offset;
    const capLens = b.capLen;
    const origLens = b.origLen;
    const tsSec = b.tsSec;
    const tsNsec = b.tsNsec;
    let n = 0;
    while (n < cap && end - pos >= H) {
      const capLen = dv.getUint32(pos + R_CAPLEN, true);
      if (capLen > maxCap) {
        this.r.pos = pos;
        this.stopBadCapLen(this.r.base + pos, capLen, n);
        break;
      }
      if (end - pos - H < capLen) break;
      let sec = dv.getUint32(pos + R_TS_SEC, true);
      let nsec = dv.getUint32(pos + R_TS_FRAC, true);
      if (!nano) nsec *= 1000;
      if (nsec >= 1_000_000_000) {
        // A broken writer's fraction of a second that is not below one second.
        const carry = Math.floor(nsec / 1_000_000_000);
        sec += carry;
        nsec -= carry * 1_000_000_000;
      }
      offset[n] = pos + H;
      capLens[n] = capLen;
      origLens[n] = dv.getUint32(pos + R_ORIGLEN, true);
      tsSec[n] = sec;
      tsNsec[n] = nsec;
      n++;
      pos += H + capLen;
    }
    this.scanPos = pos;
    return n;
  }

  private scanBE(b: RecordBatch, dv: DataView, pos: number, end: number): number {
    const H = this.recordHeaderLen;
    const cap = b.offset.length;
    const nano = this.nano;
    const maxCap = this.maxCapLen;
    const offset = b.offset;
    const capLens = b.capLen;
    const origLens = b.origLen;
    const tsSec = b.tsSec;
    const tsNsec = b.tsNsec;
    let n = 0;
    while (n < cap && end - pos >= H) {
      const capLen = dv.getUint32(pos + R_CAPLEN, false);
      if (capLen > maxCap) {
        this.r.pos = pos;
        this.stopBadCapLen(this.r.base + pos, capLen, n);
        break;
      }
      if (end - pos - H < capLen) break;
      let sec = dv.getUint32(pos + R_TS_SEC, false);
      let nsec = dv.getUint32(pos + R_TS_FRAC, false);
      if (!nano) nsec *= 1000;
      if (nsec >= 1_000_000_000) {
        const carry = Math.floor(nsec / 1_000_000_000);
        sec += carry;
        nsec -= carry * 1_000_000_000;
      }
      offset[n] = pos + H;
      capLens[n] = capLen;
      origLens[n] = dv.getUint32(pos + R_ORIGLEN, false);
      tsSec[n] = sec;
      tsNsec[n] = nsec;
      n++;
      pos += H + capLen;
    }
    this.scanPos = pos;
    return n;
  }

  private stopBadCapLen(offset: number, capLen: number, pending = 0): void {
    // libpcap: "invalid packet capture length N, bigger than maximum of M".
    // A caplen above the file's snaplen but within the maximum is accepted
    // (libpcap salvages it, Wireshark reads it whole; so do we).
    this.stop(offset, `invalid caplen ${capLen}, bigger than the maximum ${this.maxCapLen} for link type ${this.linkType}`, pending);
  }
}
