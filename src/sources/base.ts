/**
 * What the pcap and pcapng readers share: the byte window, the reused batch
 * whose `data` is the reader's own buffer (zero copy), and the stop record.
 */
import { allocBatch, type ReadStop, type RecordBatch, type RecordSource } from "./record.js";
import type { ChunkReader } from "./input.js";

export type CaptureFormat = "pcap" | "pcapng" | "merged";

export abstract class FileSourceBase implements RecordSource {
  abstract readonly format: CaptureFormat;
  stopped: ReadStop | null = null;
  /** Records yielded so far (the next record is number `records + 1`). */
  records = 0;
  protected done = false;
  protected readonly batch: RecordBatch;
  private closed = false;

  constructor(
    readonly name: string,
    protected readonly r: ChunkReader,
    readonly totalBytes: number | null,
    batchRecords: number,
  ) {
    this.batch = allocBatch(batchRecords, 0);
  }

  /** This file's stop as a list, so callers can treat single and merged sources alike. */
  get stops(): readonly ReadStop[] {
    return this.stopped ? [this.stopped] : [];
  }

  get bytesRead(): number {
    return this.r.input.rawBytesRead;
  }

  /** The format's own batch reader; null at the end or after damage. */
  protected abstract read(): Promise<RecordBatch | null>;

  async next(): Promise<RecordBatch | null> {
    if (this.done) {
      if (!this.closed) await this.close();
      return null;
    }
    const b = await this.read();
    // Give the descriptor back as soon as the input is finished: a merge of
    // many rotated files should not hold them all open to the end.
    if (!b && !this.closed) await this.close();
    return b;
  }

  /** Damage: keep what was yielded, remember where and why, yield nothing more. */
  protected stop(offset: number, reason: string, pendingRecords = 0): void {
    if (this.stopped) return;
    this.stopped = { file: this.name, record: this.records + pendingRecords + 1, offset, reason };
    this.done = true;
  }

  /**
   * The input ended with `have` bytes of an incomplete item at `offset`. A
   * stream error (damaged gzip) is the better explanation when there is one.
   */
  protected stopAtEnd(offset: number, have: number, what: string): void {
    const err = this.r.input.error;
    if (err) this.stop(offset, err);
    else if (have > 0) this.stop(offset, what);
    else this.done = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.done = true;
    await this.r.input.close();
  }
}
