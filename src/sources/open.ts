/**
 * Front door of the capture readers: a path (or "-" for stdin) becomes a
 * RecordSource. The format is decided from the first bytes, never from the
 * file name: gzip (1f 8b) is unwrapped first, then pcap or pcapng.
 */
import { createReadStream, fstatSync, open as fsOpen, type Stats } from "node:fs";
import { Socket, type SocketConstructorOpts } from "node:net";
import { open as openHandle, stat } from "node:fs/promises";
import { InputError, type RecordSource } from "./record.js";
import { ChunkReader, FileBytes, StreamBytes, gunzipBytes, type ByteStream } from "./input.js";
import { DEFAULT_BATCH_RECORDS, DEFAULT_CHUNK_BYTES, hexBytes } from "./limits.js";
import { PcapSource, pcapMagicKind } from "./pcap.js";
import { BT_SHB, PcapngSource } from "./pcapng.js";
import { MergedSource } from "./merge.js";

export { PcapSource } from "./pcap.js";
export { PcapngSource } from "./pcapng.js";
export { MergedSource } from "./merge.js";

export interface OpenOptions {
  /** Bytes per read and initial buffer size (default 4 MiB). */
  chunkBytes?: number;
  /** Stream read for "-" (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Records per batch (default 4096). */
  batchRecords?: number;
  /**
   * When several files are merged, the total buffer budget shared by them
   * (default 64 MiB), so a day of rotated files does not need a day of memory.
   */
  mergeBudgetBytes?: number;
}

/** A file source: pcap or pcapng, possibly gzip-compressed, possibly stdin. */
export type FileSource = PcapSource | PcapngSource;

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** One path, or several merged in timestamp order. */
export async function openCapture(paths: string[], opts: OpenOptions = {}): Promise<RecordSource & { format: "pcap" | "pcapng" | "merged" }> {
  if (paths.length === 0) throw new InputError("no capture file given", "", null);
  if (paths.length === 1) return openFile(paths[0]!, opts);
  if (paths.filter((p) => p === "-").length > 1) throw new InputError("-: stdin can be given only once", "-", null);
  const budget = opts.mergeBudgetBytes ?? 64 * 1024 * 1024;
  const chunkBytes = Math.max(64 * 1024, Math.min(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, Math.floor(budget / paths.length)));
  const sources: FileSource[] = [];
  try {
    for (const p of paths) sources.push(await openFile(p, { ...opts, chunkBytes }));
  } catch (e) {
    for (const s of sources) await s.close();
    throw e;
  }
  return new MergedSource(sources, opts.batchRecords ?? DEFAULT_BATCH_RECORDS);
}

function stdinStat(): Stats | null {
  try {
    return fstatSync(0);
  } catch {
    return null;
  }
}

/** A pipe or FIFO (stdin from `cmd |`, <(cmd)) or a socket: read as a stream of unknown length. */
function isPipe(st: Stats): boolean {
  return st.isFIFO() || st.isSocket();
}

/**
 * A pipe, FIFO or socket read by the event loop as data arrives, holding up
 * to 1 MB read ahead (process.stdin stops at 16 KB: then each batch of packets
 * is one 64 KB read, ~750 packets, and the writer waits for the parser).
 */
function pipeSocket(fd: number): Socket {
  // readableHighWaterMark goes on to stream.Duplex (net.Socket passes its options through; @types/node omits it).
  const opts = { fd, readable: true, writable: false, readableHighWaterMark: PIPE_AHEAD_BYTES };
  return new Socket(opts as SocketConstructorOpts);
}
const PIPE_AHEAD_BYTES = 1 << 20;

/** Open one capture file ("-" = stdin). Throws InputError when it cannot be read at all. */
export async function openFile(path: string, opts: OpenOptions = {}): Promise<FileSource> {
  const chunkBytes = Math.max(256, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const batchRecords = Math.max(1, opts.batchRecords ?? DEFAULT_BATCH_RECORDS);
  let raw: ByteStream;
  let totalBytes: number | null = null;
  if (path === "-") {
    if (opts.stdin !== undefined) raw = new StreamBytes(opts.stdin);
    else {
      const st = stdinStat();
      // `synsent analyze - < file.pcap`: stdin is the file, its size known
      // (progress shows time left, and the second thread is chosen as for a file).
      if (st?.isFile()) {
        totalBytes = st.size;
        // Read on from where stdin stands, 1 MB a read (process.stdin: 64 KB).
        raw = new StreamBytes(createReadStream("", { fd: 0, autoClose: false, highWaterMark: PIPE_AHEAD_BYTES }));
      } else {
        raw = new StreamBytes(st !== null && isPipe(st) ? pipeSocket(0) : process.stdin);
      }
    }
  } else {
    let regular: boolean;
    let pipe: boolean;
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw new InputError(`${path}: is a directory, not a capture file`, path, null);
      regular = st.isFile();
      pipe = isPipe(st);
      totalBytes = regular ? st.size : null;
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`${path}: ${fsReason(e)}`, path, null);
    }
    try {
      if (pipe) {
        // A FIFO (<(zcat f.gz), /dev/stdin on a pipe): read like stdin, by the
        // event loop as data arrives. A file stream (one thread-pool read at a
        // time, each waited for) took 1.4-1.9 s for the 200k bench file through
        // <(cat F), against 1.0 s this way and 0.8 s from the file itself.
        const fd = await new Promise<number>((resolve, reject) => fsOpen(path, "r", (e, n) => (e ? reject(e) : resolve(n))));
        raw = new StreamBytes(pipeSocket(fd));
      } else {
        const fh = await openHandle(path, "r");
        // A device (a terminal, /dev/zero) cannot take positional reads.
        raw = regular ? new FileBytes(fh) : new StreamBytes(fh.createReadStream({ highWaterMark: Math.min(chunkBytes, 1024 * 1024) }));
      }
    } catch (e) {
      throw new InputError(`${path}: ${fsReason(e)}`, path, null);
    }
  }
  try {
    return await openBytes(path, raw, totalBytes, chunkBytes, batchRecords);
  } catch (e) {
    await raw.close().catch(() => {});
    throw e;
  }
}

async function openBytes(
  name: string,
  raw: ByteStream,
  totalBytes: number | null,
  chunkBytes: number,
  batchRecords: number,
): Promise<FileSource> {
  let first = await raw.sniff(4);
  let input = raw;
  let gzip = false;
  if (first.length >= 2 && first[0] === GZIP_MAGIC_0 && first[1] === GZIP_MAGIC_1) {
    gzip = true;
    input = gunzipBytes(raw, chunkBytes);
    first = await input.sniff(4);
    if (first.length < 4 && input.error) {
      throw new InputError(`${name}: ${input.error} at byte 0 of the decompressed data`, name, 0);
    }
  }
  const what = gzip ? "gzip-compressed data is not a pcap or pcapng file" : "not a pcap or pcapng file";
  if (first.length === 0) {
    throw new InputError(`${name}: ${gzip ? "gzip-compressed data is empty" : "empty file"}, not a pcap or pcapng file at byte 0`, name, 0);
  }
  // A small file needs no 4 MiB buffer; a compressed or streamed one might.
  const initial = totalBytes !== null && !gzip ? Math.min(chunkBytes, Math.max(4096, totalBytes + 64)) : chunkBytes;
  const reader = new ChunkReader(input, chunkBytes, initial);
  if (first.length >= 4 && pcapMagicKind(first)) return PcapSource.open(name, reader, totalBytes, batchRecords);
  if (first.length >= 4 && ((first[0]! | (first[1]! << 8) | (first[2]! << 16) | (first[3]! << 24)) >>> 0) === BT_SHB) {
    return PcapngSource.open(name, reader, totalBytes, batchRecords);
  }
  if (first.length < 4 && couldBeCapture(first)) {
    throw new InputError(`${name}: truncated file header (${first.length} bytes) at byte 0`, name, 0);
  }
  throw new InputError(`${name}: ${what} (first bytes ${hexBytes(first)}) at byte 0`, name, 0);
}

/** Whether a file shorter than a magic number starts like one of ours. */
function couldBeCapture(first: Uint8Array): boolean {
  const magics = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x34, 0xcd, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xcd, 0x34],
    [0x0a, 0x0d, 0x0d, 0x0a],
  ];
  return magics.some((m) => first.every((b, i) => b === m[i]));
}

function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory, not a capture file";
    case "ELOOP":
      return "too many levels of symbolic links";
    default:
      return e instanceof Error ? e.message.split("\n")[0]! : String(e);
  }
}
