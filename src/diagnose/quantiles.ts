import type { Percentiles } from "./types.js";

/** Exact below this many samples; a sparse log histogram above. */
const EXACT_MAX = 64;
/**
 * Histogram bins come from the float's bits (HdrHistogram-style): exponent
 * plus the top 6 mantissa bits, i.e. 64 bins per power of two, each at most
 * 1.6 % wide; a value is reported as its bin's midpoint (within 0.8 %).
 */
const MANTISSA_BITS = 6;
const KEY_SHIFT = 20 - MANTISSA_BITS;
/** Smallest value told apart (ms); smaller values share one bin. */
const FLOOR = 1e-4;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // high word index (endianness)

function binOf(v: number): number {
  f64[0] = v > FLOOR ? v : FLOOR;
  return u32[HI]! >>> KEY_SHIFT;
}

function binMid(key: number): number {
  u32[HI] = (key << KEY_SHIFT) >>> 0;
  u32[1 - HI] = 0;
  const lo = f64[0]!;
  u32[HI] = ((key + 1) << KEY_SHIFT) >>> 0;
  const hi = f64[0]!;
  return (lo + hi) / 2;
}

/** A Quantiles' whole state (the compiled diagnoser's export: native/flows/diagnose.cc). */
export interface QuantilesState {
  count: number;
  min: number;
  max: number;
  /** The samples while exact, else null. */
  exact: number[] | null;
  lo: number;
  counts: Uint32Array | null;
}

/**
 * Bounded percentile estimator for handshake RTTs (ms). Exact (nearest rank)
 * while it holds at most 64 samples, then a logarithmic histogram (64 bins
 * per power of two) covering only the range of keys seen: at most ~2 600
 * bins (10 KiB) from 1e-4 ms to 1e7 ms, usually a few hundred bytes since
 * handshake times cluster. min and max are always exact.
 */
export class Quantiles {
  count = 0;
  min = Infinity;
  max = -Infinity;
  private exact: number[] | null = [];
  /** Dense counts for keys lo .. lo + counts.length - 1, grown to the keys seen (RTTs cluster: usually < 1 KiB). */
  private counts: Uint32Array | null = null;
  private lo = 0;

  add(v: number): void {
    if (!Number.isFinite(v)) return;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (this.exact !== null) {
      if (this.exact.length < EXACT_MAX) {
        this.exact.push(v);
        return;
      }
      const k = binOf(v);
      this.lo = k - 32;
      this.counts = new Uint32Array(64);
      for (const x of this.exact) this.addBin(x);
      this.exact = null;
    }
    this.addBin(v);
  }

  /** Take this state (made by the same algorithm elsewhere) in place of this one's. */
  load(s: QuantilesState): void {
    this.count = s.count;
    this.min = s.min;
    this.max = s.max;
    this.exact = s.exact === null ? null : s.exact.slice();
    this.lo = s.lo;
    this.counts = s.counts;
  }

  private addBin(v: number): void {
    const k = binOf(v);
    let c = this.counts!;
    let i = k - this.lo;
    if (i < 0 || i >= c.length) {
      const lo = Math.min(this.lo, k - 16);
      const hi = Math.max(this.lo + c.length, k + 17);
      const n = new Uint32Array(hi - lo);
      n.set(c, this.lo - lo);
      this.counts = c = n;
      this.lo = lo;
      i = k - lo;
    }
    c[i]!++;
  }

  /** Nearest-rank percentile p (0..100): the value at rank ceil(p/100 * n). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (this.exact !== null) {
      const s = this.exact.slice().sort((a, b) => a - b);
      return s[rank - 1]!;
    }
    const c = this.counts!;
    let seen = 0;
    for (let i = 0; i < c.length; i++) {
      seen += c[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, binMid(this.lo + i)));
    }
    return this.max;
  }

  summary(): Percentiles | null {
    if (this.count === 0) return null;
    return {
      count: this.count,
      min: this.min,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.max,
    };
  }
}
