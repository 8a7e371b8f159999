/**
 * Several files read as one capture, records in timestamp order the way
 * mergecap does it (chronological; ties keep the order the files were given),
 * so rotated captures (tcpdump -C / -G) and per-interface files read as one.
 *
 * Records are copied into the merged source's own batch buffer because each
 * input's batch dies when that input's next() is called.
 */
import { allocBatch, type ReadStop, type RecordBatch, type RecordSource } from "./record.js";
import { DEFAULT_BATCH_RECORDS } from "./limits.js";

export class MergedSource implements RecordSource {
  readonly format = "merged" as const;
  readonly name: string;
  /** Every input's stop, in the order they happened. */
  readonly stops: ReadStop[] = [];
  private readonly cur: (RecordBatch | null)[];
  private readonly idx: Int32Array;
  /** Binary min-heap of input indices, ordered by their current record's timestamp. */
  private readonly heap: Int32Array;
  private heapSize = 0;
  private started = false;
  private readonly batch: RecordBatch;
  private closed = false;

  constructor(
    readonly inputs: RecordSource[],
    batchRecords = DEFAULT_BATCH_RECORDS,
    dataBytes = 4 * 1024 * 1024,
  ) {
    this.name = inputs.length === 1 ? inputs[0]!.name : `${inputs[0]!.name} (+${inputs.length - 1} more)`;
    this.cur = inputs.map(() => null);
    this.idx = new Int32Array(inputs.length);
    this.heap = new Int32Array(inputs.length);
    this.batch = allocBatch(batchRecords, dataBytes);
  }

  /** The first input stop (all of them are in `stops`). */
  get stopped(): ReadStop | null {
    return this.stops[0] ?? null;
  }

  get bytesRead(): number {
    let n = 0;
    for (const s of this.inputs) n += s.bytesRead;
    return n;
  }

  get totalBytes(): number | null {
    let n = 0;
    for (const s of this.inputs) {
      if (s.totalBytes === null) return null;
      n += s.totalBytes;
    }
    return n;
  }

  /** Earlier timestamp first; equal timestamps in input order (stable, as mergecap). */
  private less(i: number, j: number): boolean {
    const a = this.cur[i]!;
    const b = this.cur[j]!;
    const ai = this.idx[i]!;
    const bi = this.idx[j]!;
    const as = a.tsSec[ai]!;
    const bs = b.tsSec[bi]!;
    if (as !== bs) return as < bs;
    const an = a.tsNsec[ai]!;
    const bn = b.tsNsec[bi]!;
    if (an !== bn) return an < bn;
    return i < j;
  }

  private siftDown(k: number): void {
    const h = this.heap;
    const n = this.heapSize;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= n) return;
      let m = l;
      if (l + 1 < n && this.less(h[l + 1]!, h[l]!)) m = l + 1;
      if (!this.less(h[m]!, h[k]!)) return;
      const t = h[k]!;
      h[k] = h[m]!;
      h[m] = t;
      k = m;
    }
  }

  private siftUp(k: number): void {
    const h = this.heap;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.less(h[k]!, h[p]!)) return;
      const t = h[k]!;
      h[k] = h[p]!;
      h[p] = t;
      k = p;
    }
  }

  /** Fetch input i's next batch; false when it has no more records. */
  private async refill(i: number): Promise<boolean> {
    const s = this.inputs[i]!;
    const b = await s.next();
    if (b && b.count > 0) {
      this.cur[i] = b;
      this.idx[i] = 0;
      return true;
    }
    this.cur[i] = null;
    if (s.stopped) this.stops.push(s.stopped);
    return false;
  }

  async next(): Promise<RecordBatch | null> {
    if (this.closed) return null;
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.inputs.length; i++) {
        if (await this.refill(i)) {
          this.heap[this.heapSize++] = i;
          this.siftUp(this.heapSize - 1);
        }
      }
    }
    const out = this.batch;
    const cap = out.offset.length;
    let n = 0;
    let at = 0;
    while (n < cap && this.heapSize > 0) {
      const i = this.heap[0]!;
      const src = this.cur[i]!;
      const j = this.idx[i]!;
      // The input on top keeps the lead until its records pass the runner-up's
      // current one: take that whole run with one copy (rotated files are one
      // long run each) instead of a heap operation per record.
      let other = -1;
      if (this.heapSize > 1) {
        other = this.heap[1]!;
        if (this.heapSize > 2 && this.less(this.heap[2]!, other)) other = this.heap[2]!;
      }
      const limSec = other >= 0 ? this.cur[other]!.tsSec[this.idx[other]!]! : Infinity;
      const limNsec = other >= 0 ? this.cur[other]!.tsNsec[this.idx[other]!]! : 0;
      const tieTakes = other >= 0 && i < other;
      const spanStart = src.offset[j]!;
      if (src.capLen[j]! > out.data.length - at) {
        if (n > 0) break;
        out.data = new Uint8Array(Math.max(src.capLen[j]!, out.data.length * 2));
      }
      const room = out.data.length - at;
      const tsSec = src.tsSec;
      const tsNsec = src.tsNsec;
      const offs = src.offset;
      const caps = src.capLen;
      let spanEnd = spanStart + caps[j]!;
      let k = j + 1;
      const kMax = Math.min(src.count, j + (cap - n));
      while (k < kMax) {
        const s = tsSec[k]!;
        if (s > limSec) break;
        if (s === limSec) {
          const ns = tsNsec[k]!;
          if (ns > limNsec || (ns === limNsec && !tieTakes)) break;
        }
        const o = offs[k]!;
        const e = o + caps[k]!;
        if (o < spanEnd || e - spanStart > room) break;
        spanEnd = e;
        k++;
      }
      copyBytes(src.data, spanStart, spanEnd, out.data, at);
      const shift = at - spanStart;
      for (let r = j; r < k; r++) {
        out.offset[n] = offs[r]! + shift;
        out.capLen[n] = caps[r]!;
        out.origLen[n] = src.origLen[r]!;
        out.linkType[n] = src.linkType[r]!;
        out.fcsLen[n] = src.fcsLen[r]!;
        out.tsSec[n] = tsSec[r]!;
        out.tsNsec[n] = tsNsec[r]!;
        n++;
      }
      at += spanEnd - spanStart;
      if (k < src.count) {
        this.idx[i] = k;
        this.siftDown(0);
      } else if (await this.refill(i)) {
        this.siftDown(0);
      } else {
        this.heap[0] = this.heap[--this.heapSize]!;
        this.siftDown(0);
      }
    }
    out.count = n;
    return n > 0 ? out : null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.inputs) await s.close();
  }
}

/** Copy without allocating a subarray view per record. */
function copyBytes(src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number): void {
  if (to - from >= 64 && Buffer.isBuffer(src)) {
    src.copy(dst, at, from, to);
    return;
  }
  for (let k = from; k < to; k++) dst[at++] = src[k]!;
}
