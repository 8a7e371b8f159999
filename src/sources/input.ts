/**
 * Byte inputs for the capture readers: a regular file, a stream (stdin), or
 * either of those gunzipped on the fly. One `ChunkReader` on top gives the
 * parsers a window over a reused buffer that is refilled in large chunks, so
 * memory stays constant whatever the file size.
 */
import type { FileHandle } from "node:fs/promises";
import { Readable, pipeline } from "node:stream";
import * as zlib from "node:zlib";
import * as fs from "node:fs";

/**
 * Bytes per millisecond below which a file read came from the device, not
 * the page cache: 1 GB/s (copies from memory run at several GB/s; a fast
 * NVMe drive at the threshold costs little either way).
 */
const READ_AHEAD_BELOW = 1_000_000;
/** Reads smaller than this say nothing about the rate (fixed costs dominate). */
const READ_AHEAD_MIN_BYTES = 1 << 20;

/** Where bytes come from. `read` returns 0 at the end of input (or after an error: see `error`). */
export interface ByteStream {
  read(into: Uint8Array, at: number, max: number): Promise<number>;
  /** Up to n bytes from the current position, not consumed (fewer only at end of input). */
  sniff(n: number): Promise<Uint8Array>;
  /** Bytes taken from the underlying file or stream so far (compressed bytes for gzip). */
  readonly rawBytesRead: number;
  /** Set when input ended because of an error rather than a clean end, e.g. a damaged gzip stream. */
  readonly error: string | null;
  /** Current size of the underlying file, for inputs that have one (not streams, not gzip). */
  size?(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A regular file read with positional reads, in whatever sizes the reader asks for.
 *
 * From memory, synchronously: a file in the page cache (the usual case: just
 * written, or read before) is copied straight into the reader's buffer by
 * the kernel, with nothing in between. Measured on the 200k bench file (two
 * cores, the writer thread busy on the other): the read-ahead below cost the
 * parsing thread 14-23 ms of waiting plus a 4 MB copy per chunk; synchronous
 * reads took 20-25 ms less in all.
 *
 * From the disk, with read-ahead: once two reads in a row come in slower than
 * memory does (READ_AHEAD_BELOW bytes/ms: the data came from the device), the next
 * chunk is read in the background (on libuv's thread pool) while the caller
 * parses what it got; the next read() then copies it from memory instead of
 * waiting for the disk. A read-ahead that finds nothing (end of a file that
 * may still be growing) is forgotten, and the next read asks the file again.
 */
export class FileBytes implements ByteStream {
  private position = 0;
  /** Reads wait for the device: read ahead from now on. */
  private fromDisk = false;
  private slowReads = 0;
  error: string | null = null;
  private closed = false;
  /** Bytes read ahead: ahead[aheadOff .. aheadLen) are the file's bytes from `position` on. */
  private ahead: Uint8Array | null = null;
  private aheadOff = 0;
  private aheadLen = 0;
  /** The read-ahead in flight (into `ahead` from 0, at file offset `position` when it started). */
  private inflight: Promise<number> | null = null;

  /** readAhead "always": as if the file were on a slow device from the start (tests). */
  constructor(
    private readonly fh: FileHandle,
    opts: { readAhead?: "auto" | "always" } = {},
  ) {
    this.fromDisk = opts.readAhead === "always";
  }

  get rawBytesRead(): number {
    return this.position;
  }

  private startAhead(size: number): void {
    if (this.closed || size <= 0) return;
    if (this.ahead === null || this.ahead.length < size) this.ahead = new Uint8Array(size);
    const buf = this.ahead;
    this.aheadOff = 0;
    this.aheadLen = 0;
    this.inflight = this.fh.read(buf, 0, size, this.position).then(
      (r) => r.bytesRead,
      (e: unknown) => {
        this.error = errorText(e);
        return 0;
      },
    );
  }

  async read(into: Uint8Array, at: number, max: number): Promise<number> {
    if (this.closed || max <= 0) return 0;
    if (!this.fromDisk) {
      const n = this.readNow(into, at, max);
      // One turn of the event loop per chunk, as an asynchronous read gave:
      // signals (SIGINT ends the reading), the progress bar and the writer
      // thread's messages are handled between chunks, not after the file.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return n;
    }
    if (this.inflight !== null) {
      const p = this.inflight;
      this.inflight = null;
      this.aheadLen = await p;
      this.aheadOff = 0;
      if (this.error !== null) return 0;
    }
    if (this.aheadLen > this.aheadOff) {
      const n = Math.min(max, this.aheadLen - this.aheadOff);
      into.set(this.ahead!.subarray(this.aheadOff, this.aheadOff + n), at);
      this.aheadOff += n;
      this.position += n;
      if (this.aheadOff === this.aheadLen) this.startAhead(max);
      return n;
    }
    try {
      const { bytesRead } = await this.fh.read(into, at, max, this.position);
      this.position += bytesRead;
      if (bytesRead > 0) this.startAhead(max);
      return bytesRead;
    } catch (e) {
      this.error = errorText(e);
      return 0;
    }
  }

  /** A synchronous read; notes when it was as slow as a device. */
  private readNow(into: Uint8Array, at: number, max: number): number {
    try {
      const t0 = performance.now();
      const n = fs.readSync(this.fh.fd, into, at, max, this.position);
      const ms = performance.now() - t0;
      this.position += n;
      // Two in a row: one can be slow for other reasons (a fresh buffer's page faults, the thread descheduled).
      if (n >= READ_AHEAD_MIN_BYTES) this.slowReads = n / ms < READ_AHEAD_BELOW ? this.slowReads + 1 : 0;
      if (this.slowReads >= 2) this.fromDisk = true;
      return n;
    } catch (e) {
      this.error = errorText(e);
      return 0;
    }
  }

  async sniff(n: number): Promise<Uint8Array> {
    const b = new Uint8Array(n);
    // What was read ahead comes first (sniffing happens before any read in practice).
    const have = this.inflight === null ? this.aheadLen - this.aheadOff : 0;
    if (have > 0) {
      const k = Math.min(n, have);
      b.set(this.ahead!.subarray(this.aheadOff, this.aheadOff + k), 0);
      if (k === n) return b;
      const { bytesRead } = await this.fh.read(b, k, n - k, this.position + k);
      return b.subarray(0, k + bytesRead);
    }
    if (this.inflight !== null) {
      const p = this.inflight;
      this.inflight = null;
      this.aheadLen = await p;
      this.aheadOff = 0;
      return this.sniff(n);
    }
    const { bytesRead } = await this.fh.read(b, 0, n, this.position);
    return b.subarray(0, bytesRead);
  }

  async size(): Promise<number> {
    // Asked afresh each time: the file may still be growing (tcpdump -w).
    return (await this.fh.stat()).size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A read still in flight must finish before its file handle closes.
    if (this.inflight !== null) await this.inflight.catch(() => 0);
    this.inflight = null;
    this.ahead = null;
    await this.fh.close();
  }
}

/** A Node readable stream (stdin, a gunzip stream) consumed through its async iterator. */
export class StreamBytes implements ByteStream {
  private readonly it: AsyncIterator<unknown>;
  private pending: Uint8Array | null = null;
  private pendingPos = 0;
  private ended = false;
  private consumed = 0;
  error: string | null = null;

  /**
   * @param stream the stream to read
   * @param counter where raw bytes are counted: for a gunzip stream, the
   *   compressed input below it, so progress is in file bytes
   * @param destroyOnClose false for a stream we do not own outright
   * @param errorPrefix prepended to stream error messages ("gzip data damaged: ")
   */
  constructor(
    private readonly stream: NodeJS.ReadableStream,
    private readonly counter: { readonly rawBytesRead: number } | null = null,
    private readonly destroyOnClose = true,
    private readonly errorPrefix = "",
  ) {
    this.it = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  }

  get rawBytesRead(): number {
    return this.counter ? this.counter.rawBytesRead : this.consumed;
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    try {
      for (;;) {
        const r = await this.it.next();
        if (r.done) {
          this.ended = true;
          return false;
        }
        const v = r.value;
        const chunk = typeof v === "string" ? Buffer.from(v) : (v as Uint8Array);
        if (chunk.length === 0) continue;
        if (this.pending && this.pendingPos < this.pending.length) {
          // Only sniff() keeps unread bytes while asking for more.
          const rest = this.pending.subarray(this.pendingPos);
          const joined = new Uint8Array(rest.length + chunk.length);
          joined.set(rest, 0);
          joined.set(chunk, rest.length);
          this.pending = joined;
        } else {
          this.pending = chunk;
        }
        this.pendingPos = 0;
        this.consumed += chunk.length;
        return true;
      }
    } catch (e) {
      this.ended = true;
      this.error = this.errorPrefix + errorText(e);
      return false;
    }
  }

  async read(into: Uint8Array, at: number, max: number): Promise<number> {
    if (max <= 0) return 0;
    if (!this.pending || this.pendingPos >= this.pending.length) {
      if (!(await this.more())) return 0;
    }
    let got = 0;
    for (;;) {
      const p = this.pending!;
      const n = Math.min(max - got, p.length - this.pendingPos);
      into.set(p.subarray(this.pendingPos, this.pendingPos + n), at + got);
      this.pendingPos += n;
      got += n;
      // Also take what the stream has already buffered (a pipe delivers 64 KB
      // at a time; a batch of one chunk is ~750 packets, each batch with its
      // fixed costs), but never wait for more once there is something to parse.
      if (got >= max || this.pendingPos < p.length || this.readableLength() === 0) return got;
      if (!(await this.more())) return got;
    }
  }

  /** Bytes the stream holds, read from its source and not yet taken (0 if it cannot tell). */
  private readableLength(): number {
    const n = (this.stream as { readableLength?: number }).readableLength;
    return typeof n === "number" && !this.ended ? n : 0;
  }

  async sniff(n: number): Promise<Uint8Array> {
    while (!this.pending || this.pending.length - this.pendingPos < n) {
      if (!(await this.more())) break;
    }
    if (!this.pending) return new Uint8Array(0);
    return this.pending.slice(this.pendingPos, Math.min(this.pending.length, this.pendingPos + n));
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.destroyOnClose) {
      const s = this.stream as NodeJS.ReadableStream & { destroy?: () => void };
      s.destroy?.();
    }
  }
}

/**
 * Gunzip a byte stream on the fly. Errors of the compressed data (truncated
 * member, bad CRC) end the output with `error` set, so the parser above
 * reports damage at the decompressed offset it reached.
 */
export function gunzipBytes(raw: ByteStream, chunkBytes: number): ByteStream {
  const chunk = Math.max(4096, Math.min(chunkBytes, 1024 * 1024));
  const source = new Readable({
    highWaterMark: 0,
    read() {
      const b = Buffer.allocUnsafe(chunk);
      raw.read(b, 0, chunk).then(
        (n) => {
          if (n > 0) this.push(b.subarray(0, n));
          else if (raw.error) this.destroy(new Error(raw.error));
          else this.push(null);
        },
        (e: unknown) => this.destroy(e instanceof Error ? e : new Error(String(e))),
      );
    },
  });
  const gunzip = zlib.createGunzip({ chunkSize: 64 * 1024 });
  // The error also reaches the iterator of `gunzip`; the callback only keeps
  // pipeline from treating it as unhandled.
  pipeline(source, gunzip, () => {});
  const inner = new StreamBytes(gunzip, raw, true, "gzip data damaged: ");
  const close = inner.close.bind(inner);
  inner.close = async () => {
    await close();
    source.destroy();
    await raw.close();
  };
  return inner;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "Z_BUF_ERROR" || /unexpected end of file/i.test(e.message)) return "unexpected end of compressed data";
    return e.message.split("\n")[0]!;
  }
  return String(e);
}

/**
 * A window over input bytes in a reused buffer. The parser walks
 * `buf[pos..end)`; `base` is the input offset of `buf[0]`, so a record at
 * `pos` starts at input byte `base + pos`.
 *
 * `fill` may move the unread bytes to the front of the buffer (or into a
 * bigger one), which invalidates every index into the old window: callers
 * only fill between batches, after the previous batch is dead.
 */
export class ChunkReader {
  buf: Buffer;
  view: DataView;
  pos = 0;
  end = 0;
  base = 0;
  /** True once the input returned 0 bytes. */
  eof = false;
  /**
   * Set when fill() refused to grow the buffer for an item that would run
   * past the current end of the file: that end, as an input offset.
   */
  truncatedAt: number | null = null;

  constructor(
    readonly input: ByteStream,
    private readonly chunkBytes: number,
    initialBytes = chunkBytes,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialBytes));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Unread bytes there are for the item at `pos` (after a failed fill: up to the end of the file). */
  get available(): number {
    return this.truncatedAt !== null ? this.truncatedAt - this.offset : this.end - this.pos;
  }

  /** Input offset of buf[pos]. */
  get offset(): number {
    return this.base + this.pos;
  }

  /**
   * Make at least `n` unread bytes available at `pos`. Returns false when the
   * input ends first (then `end - pos` bytes are all there is). Reads in big
   * chunks; grows the buffer only as data actually arrives, so a hostile
   * length costs at most about twice the bytes really present.
   */
  async fill(n: number): Promise<boolean> {
    if (this.end - this.pos >= n) return true;
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    while (this.end < n) {
      if (this.eof) return false;
      if (this.end === this.buf.length) {
        // A length past the end of a regular file is known damage: do not
        // read (and buffer) everything up to the end only to find that out.
        if (this.input.size) {
          const size = await this.input.size();
          if (this.base + n > size) {
            this.truncatedAt = size;
            return false;
          }
        }
        const grown = Math.min(Math.max(n, this.chunkBytes), Math.max(this.buf.length * 2, this.chunkBytes));
        const nb = Buffer.allocUnsafe(grown);
        this.buf.copy(nb, 0, 0, this.end);
        this.buf = nb;
        this.view = new DataView(nb.buffer, nb.byteOffset, nb.byteLength);
      }
      const got = await this.input.read(this.buf, this.end, this.buf.length - this.end);
      if (got === 0) {
        this.eof = true;
        return false;
      }
      this.end += got;
    }
    return true;
  }

  /** After a huge record, go back to the normal chunk size (constant memory). */
  shrink(): void {
    if (this.buf.length > this.chunkBytes && this.end - this.pos <= this.chunkBytes) {
      const nb = Buffer.allocUnsafe(this.chunkBytes);
      this.buf.copy(nb, 0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
      this.buf = nb;
      this.view = new DataView(nb.buffer, nb.byteOffset, nb.byteLength);
    }
  }
}
