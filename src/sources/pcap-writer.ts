/**
 * A small classic-pcap writer (for -w and evidence files): little-endian,
 * microsecond or nanosecond magic, records buffered and written to a file
 * descriptor in large chunks with fs.writeSync.
 */
import * as fs from "node:fs";
import { PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from "./pcap.js";
import type { RecordBatch } from "./record.js";
import { MAXIMUM_SNAPLEN } from "./limits.js";

export interface PcapWriterOptions {
  /** LINKTYPE_* of every record written. */
  linkType: number;
  /** Snapshot length for the file header (default 262144). */
  snapLen?: number;
  /** Nanosecond timestamps (magic a1b23c4d); default microseconds. */
  nano?: boolean;
  /** FCS bytes at the end of every packet (0, 2 or 4): recorded in the link-type field's FCS bits. */
  fcsLen?: number;
  /** Buffer size before a write (default 1 MiB). */
  bufferBytes?: number;
}

const FILE_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

export class PcapWriter {
  private buf: Buffer;
  private used = 0;
  private closed = false;
  /** Records written so far. */
  records = 0;
  /** Bytes handed to the file so far (header included, buffered bytes not). */
  bytesWritten = 0;
  readonly nano: boolean;

  /**
   * @param fd an open, writable file descriptor (1 for stdout)
   * @param ownsFd close the descriptor in close()
   */
  constructor(
    readonly fd: number,
    opts: PcapWriterOptions,
    private readonly ownsFd = false,
  ) {
    this.nano = opts.nano ?? false;
    this.buf = Buffer.allocUnsafe(Math.max(64 * 1024, opts.bufferBytes ?? 1024 * 1024));
    const h = this.buf;
    h.writeUInt32LE(this.nano ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8); // thiszone
    h.writeUInt32LE(0, 12); // sigfigs
    h.writeUInt32LE(opts.snapLen ?? MAXIMUM_SNAPLEN, 16);
    const fcsWords = Math.floor((opts.fcsLen ?? 0) / 2) & 0xf;
    // libpcap LT_FCS_DATALINK_EXT: FCS length in 16-bit words in bits 28-31, present flag bit 26.
    const lt = ((opts.linkType & 0xffff) | (fcsWords ? (fcsWords << 28) | 0x04000000 : 0)) >>> 0;
    h.writeUInt32LE(lt, 20);
    this.used = FILE_HEADER_LEN;
  }

  /** Create (truncate) a file and write a pcap header to it. */
  static create(path: string, opts: PcapWriterOptions): PcapWriter {
    return new PcapWriter(fs.openSync(path, "w"), opts, true);
  }

  /** Append one packet. `data[from .. from+capLen)` are the captured bytes. */
  write(data: Uint8Array, from: number, capLen: number, origLen: number, tsSec: number, tsNsec: number): void {
    if (this.closed) throw new Error("PcapWriter: write after close");
    const need = RECORD_HEADER_LEN + capLen;
    if (this.used + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    }
    const b = this.buf;
    let o = this.used;
    let sec = Math.floor(tsSec);
    let frac = this.nano ? tsNsec : Math.floor(tsNsec / 1000);
    if (frac < 0) frac = 0;
    sec = ((sec % 4294967296) + 4294967296) % 4294967296;
    b.writeUInt32LE(sec, o);
    b.writeUInt32LE(frac, o + 4);
    b.writeUInt32LE(capLen >>> 0, o + 8);
    b.writeUInt32LE(Math.max(origLen, 0) >>> 0, o + 12);
    o += RECORD_HEADER_LEN;
    if (Buffer.isBuffer(data)) data.copy(b, o, from, from + capLen);
    else b.set(data.subarray(from, from + capLen), o);
    this.used = o + capLen;
    this.records++;
  }

  /** Append record i of a batch. */
  writeRecord(batch: RecordBatch, i: number): void {
    this.write(batch.data, batch.offset[i]!, batch.capLen[i]!, batch.origLen[i]!, batch.tsSec[i]!, batch.tsNsec[i]!);
  }

  /** Write buffered bytes to the descriptor. */
  flush(): void {
    let off = 0;
    let spins = 0;
    while (off < this.used) {
      try {
        off += fs.writeSync(this.fd, this.buf, off, this.used - off);
        spins = 0;
      } catch (e) {
        // A non-blocking pipe (stdout) that is momentarily full: wait a little, bounded.
        if ((e as NodeJS.ErrnoException).code === "EAGAIN" && spins++ < 10_000) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
          continue;
        }
        throw e;
      }
    }
    this.bytesWritten += this.used;
    this.used = 0;
  }

  /** Flush, and close the descriptor if this writer opened it. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.ownsFd) fs.closeSync(this.fd);
  }
}
