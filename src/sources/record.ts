/**
 * The one record shape every source yields: file readers (pcap, pcapng, gzip,
 * stdin, merged files) and live capture batches alike.
 *
 * A batch is a struct-of-arrays over one byte buffer, so a consumer walks
 * `count` records with plain index arithmetic and allocates nothing per packet.
 * Record i's packet bytes are data[offset[i] .. offset[i] + capLen[i]).
 *
 * Ownership: a batch (its buffer and arrays) is only valid until the next call
 * to `next()` on the source that produced it. Anything kept must be copied.
 */
export interface RecordBatch {
  /** Number of valid records in this batch (arrays may be longer). */
  count: number;
  /** Backing bytes. */
  data: Uint8Array;
  /** Start of record i's packet bytes in `data`. */
  offset: Uint32Array;
  /** Bytes captured (what is in `data`). */
  capLen: Uint32Array;
  /** Bytes on the wire (original length); >= capLen unless the file lies. */
  origLen: Uint32Array;
  /** LINKTYPE_* value with the pcap FCS bits already removed. */
  linkType: Uint32Array;
  /** Trailing frame-check-sequence bytes included in the packet (0, 2 or 4). */
  fcsLen: Uint8Array;
  /** Timestamp: whole seconds since the Unix epoch (may be negative for broken files). */
  tsSec: Float64Array;
  /** Timestamp: nanoseconds within the second, 0..999_999_999. */
  tsNsec: Uint32Array;
}

/** Where and why a source stopped before the end of its input. */
export interface ReadStop {
  /** File name as the user typed it ("-" for stdin, interface name for live). */
  file: string;
  /** 1-based number of the record that could not be read (records in this file). */
  record: number;
  /** Byte offset in the (decompressed) file where the bad record/block starts. */
  offset: number;
  /** What was wrong, one line, no trailing period. */
  reason: string;
}

export interface RecordSource {
  /** File name, "-" or interface name, for messages. */
  readonly name: string;
  /** The next batch, or null at the end of input (or after damage: see `stopped`). */
  next(): Promise<RecordBatch | null>;
  /** Set when reading ended early because the input was damaged part-way. */
  readonly stopped: ReadStop | null;
  /** Bytes consumed so far from the underlying file/stream (compressed bytes for gzip). */
  readonly bytesRead: number;
  /** Total size in bytes when known (regular file), else null. For progress display. */
  readonly totalBytes: number | null;
  /** Release file descriptors / handles. Safe to call twice. */
  close(): Promise<void>;
  /** What is being read: one file's format, several files merged, or a live capture. */
  readonly format?: "pcap" | "pcapng" | "merged" | "live";
  /** Every file's stop: merged sources list each input's (`stopped` is the first), file sources `[stopped]` or []. */
  readonly stops?: readonly ReadStop[];
}

/**
 * An input that cannot be read at all (not a capture file, missing file,
 * unreadable header). The message is one line and names the file and where.
 * The CLI prints it and exits 3.
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number | null = null,
    readonly record: number | null = null,
  ) {
    super(message);
    this.name = "InputError";
  }
}

/** A growable RecordBatch, for sources that assemble batches record by record. */
export function allocBatch(capacity: number, dataBytes: number): RecordBatch {
  return {
    count: 0,
    data: new Uint8Array(dataBytes),
    offset: new Uint32Array(capacity),
    capLen: new Uint32Array(capacity),
    origLen: new Uint32Array(capacity),
    linkType: new Uint32Array(capacity),
    fcsLen: new Uint8Array(capacity),
    tsSec: new Float64Array(capacity),
    tsNsec: new Uint32Array(capacity),
  };
}
