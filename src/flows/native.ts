/**
 * The compiled flow tracker (native/flows/flows.cc): the same state machine
 * as FlowTracker (tracker.ts, the reference, and the fallback when the
 * binding is not built), behind the same methods the pipeline uses.
 *
 * Why: following flows was ~0.3 µs a packet in JavaScript, most of it memory
 * latency on flow objects and boxed numbers that had left the caches; the
 * same work on compact structs in C++ is several times faster, and it was
 * the one thing between the pipeline and 3 M packets/s.
 *
 * How: scan() hands the native side a record batch: records of the common
 * shape (Ethernet, IPv4/IPv6, TCP) are decoded and tracked there. Any other
 * is decoded in JavaScript, and packet() copies the fields the tracker reads
 * from the PacketView into two typed arrays bound to the native side
 * (numbers only, no objects), tracked before the next record scan() takes,
 * or by flush(). Finished
 * connections come back in the connection-batch layout of codec.ts, copied
 * into a ConnectionEncoder: the `--threads 2` encoder itself (the writer
 * thread reads them as before), or a private one decoded into Connection
 * objects for onConnection. Texts are made here: a forged RST's reason
 * (ttl.ts forgedReason) and an ICMP ladder step's "ICMP 3/3".
 *
 * It has the same compact tier for SYN-only connections (a SYN flood of a
 * million sources: ~250 MB peak for the whole process) and gives the same
 * connections in the same order as FlowTracker with the same options
 * (test/flows/native.test.ts).
 * Live capture keeps the JavaScript tracker (its live view walks the
 * waiting SYNs).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { packageRoot } from "../package-root.js";
import { Kind, type PacketView } from "../decode/packet.js";
import type { RecordBatch } from "../sources/record.js";
import { OUTCOMES, type Connection, type Outcome } from "./connection.js";
import { AddrTextCache, cloneConnection, ConnectionDecoder, ConnectionEncoder, type ConnectionBatch } from "./codec.js";
import { forgedReason } from "./ttl.js";
import type { FlowTrackerOptions, FlowTrackerStats } from "./tracker.js";
import { Diagnoser, type DiagnoserOptions, type DiagnoserState } from "../diagnose/diagnose.js";

// Input layout: keep in step with native/flows/flows.cc (I_*).
const IN_STRIDE = 32;
const I_KIND = 0;
const I_IPV = 1;
const I_SRC = 2;
const I_DST = 6;
const I_SPORT = 10;
const I_DPORT = 11;
const I_FLAGS = 12;
const I_SEQ = 13;
const I_ACK = 14;
const I_LEN = 15;
const I_WIN = 16;
const I_TTL = 17;
const I_IPID = 18;
const I_SIG = 19;
const I_MSS = 20;
const I_WS = 21;
const I_OPTBITS = 22;
const I_INNER_IPV = 24;
const I_INNER_PROTO = 25;
const I_INNER_BITS = 26;
const I_INNER_FLAGS = 27;
const I_INNER_DST = 28;
const S_ACTIVE = 0;
const S_PEAK = 1;
const S_EVICTED = 2;
const S_DUPLICATES = 3;
const S_OUT = 4;
const S_CONNS = 5;
const S_PATCHES = 6;
const S_LEN = 8;
const PATCH_STRIDE = 13;
const P_FORGED = 1;
// scan() counters: keep in step with native/flows/flows.cc (A_*).
export const A_PACKETS = 0;
export const A_BYTES = 1;
export const A_TCP = 2;
export const A_TRUNCATED = 3;
export const A_FIRST_SEC = 4;
export const A_FIRST_NSEC = 5;
export const A_LAST_SEC = 6;
export const A_LAST_NSEC = 7;
/** Records scan() took in its last call (all Ethernet). */
export const A_ETHERNET = 8;
/** 1 when scan() tracked the packets packet() had packed before it (it then took a record). */
const A_RAN_PENDING = 9;
/** An address's four words into an input row. */
function put4(I: Int32Array, at: number, w: Uint32Array): void {
  I[at] = w[0]!;
  I[at + 1] = w[1]!;
  I[at + 2] = w[2]!;
  I[at + 3] = w[3]!;
}

/** Packets per native call. */
const CAP = 4096;

interface NativeTracker {
  bind(i32: Int32Array, f64: Float64Array, stats: Float64Array): void;
  bindBatch(b: RecordBatch, acc: Float64Array): void;
  scan(i: number, pending: number): number;
  run(n: number): void;
  finishSome(max: number, endTs: number): boolean;
  drain(nums: Float64Array, at: number, outcomes: Uint8Array, patches: Float64Array): void;
}
interface Binding {
  Tracker: new (o: { synTimeoutS: number; maxFlows: number; ladderLimit: number; ladderProblemsOnly: boolean; compactAbove: number }) => NativeTracker;
}

export const FLOWS_BINDING_PATH = path.join("native", "flows", "build", "Release", "synsent_flows.node");

let binding: Binding | null | undefined;

/** The compiled tracker, or null when it was not built (or does not load): FlowTracker then. */
function load(): Binding | null {
  if (binding !== undefined) return binding;
  binding = null;
  try {
    const file = path.join(packageRoot(), FLOWS_BINDING_PATH);
    if (fs.existsSync(file)) binding = createRequire(import.meta.url)(file) as Binding;
  } catch {
    binding = null; // built for another Node, or damaged: the JavaScript tracker does the same work
  }
  return binding;
}

/** Is the compiled tracker there? (SYNSENT_TRACKER=js turns it off: comparisons, debugging.) */
export function nativeTrackerAvailable(): boolean {
  return process.env.SYNSENT_TRACKER !== "js" && load() !== null;
}

export class NativeFlowTracker {
  readonly stats: FlowTrackerStats;
  private readonly t: NativeTracker;
  private readonly i32 = new Int32Array(CAP * IN_STRIDE);
  private readonly f64 = new Float64Array(CAP * 2);
  private readonly s = new Float64Array(S_LEN);
  private n = 0;
  private readonly encoder: ConnectionEncoder;
  private readonly own: boolean;
  private readonly decoder: ConnectionDecoder | null;
  private readonly onConnection: (c: Connection, synAckTtl: number) => void;
  private readonly onEncoded: ((outcome: Outcome) => void) | null;
  private outcomes = new Uint8Array(1024);
  private patches = new Float64Array(64 * PATCH_STRIDE);
  private readonly addrs = new AddrTextCache(1024);

  constructor(opts: FlowTrackerOptions) {
    const b = load();
    if (b === null) throw new Error("NativeFlowTracker: the compiled flow tracker is not built");
    const maxFlows = Math.max(1, Math.floor(opts.maxFlows ?? 1_000_000));
    this.t = new b.Tracker({
      synTimeoutS: opts.synTimeoutS ?? 3,
      maxFlows,
      ladderLimit: Math.max(0, Math.floor(opts.ladderLimit ?? 12)),
      ladderProblemsOnly: opts.ladderFor === "problems",
      compactAbove: Math.max(0, Math.floor(opts.compactAbove ?? 8192)),
    });
    this.t.bind(this.i32, this.f64, this.s);
    this.stats = { active: 0, peak: 0, evicted: 0, duplicates: 0, maxFlows };
    this.own = opts.encoder === undefined;
    this.encoder = opts.encoder ?? new ConnectionEncoder();
    this.decoder = this.own ? new ConnectionDecoder(false) : null;
    this.onConnection = opts.onConnection ?? (() => undefined);
    this.onEncoded = opts.onEncoded ?? null;
  }

  /** A decoded TCP or ICMP-unreachable packet (as FlowTracker.packet). */
  packet(v: PacketView, frame: number, tsSec: number, tsNsec: number): void {
    const n = this.n;
    const I = this.i32;
    const o = n * IN_STRIDE;
    this.f64[2 * n] = tsSec + tsNsec * 1e-9;
    this.f64[2 * n + 1] = frame;
    I[o + I_IPV] = v.ipVersion;
    put4(I, o + I_SRC, v.src);
    I[o + I_TTL] = v.ttl;
    if (v.kind === Kind.TCP) {
      I[o + I_KIND] = 1;
      put4(I, o + I_DST, v.dst);
      I[o + I_SPORT] = v.srcPort;
      I[o + I_DPORT] = v.dstPort;
      I[o + I_FLAGS] = v.flags;
      I[o + I_SEQ] = v.seq;
      I[o + I_ACK] = v.ack;
      I[o + I_LEN] = v.payloadLen;
      I[o + I_WIN] = v.window;
      I[o + I_IPID] = v.ipId;
      I[o + I_SIG] = v.hasTimestamps ? v.tsVal : v.sackBlocks > 0 ? v.sackEdges[1]! : -1;
      I[o + I_MSS] = v.mss;
      I[o + I_WS] = v.windowScale;
      I[o + I_OPTBITS] = (v.sackPermitted ? 1 : 0) | (v.hasTimestamps ? 2 : 0);
    } else {
      I[o + I_KIND] = 2;
      I[o + I_FLAGS] = v.icmpType;
      I[o + I_SEQ] = v.icmpCode;
      I[o + I_INNER_IPV] = v.innerIpVersion;
      I[o + I_INNER_PROTO] = v.innerProto;
      I[o + I_INNER_BITS] = (v.innerHasPorts ? 1 : 0) | (v.innerHasSeq ? 2 : 0);
      I[o + I_INNER_FLAGS] = v.innerFlags;
      put4(I, o + I_DST, v.innerSrc);
      put4(I, o + I_INNER_DST, v.innerDst);
      I[o + I_SPORT] = v.innerSrcPort;
      I[o + I_DPORT] = v.innerDstPort;
      I[o + I_ACK] = v.innerSeq;
    }
    this.n = n + 1;
    if (this.n === CAP) this.flush();
  }

  /** The counters scan() keeps (A_*): the caller puts its own in before and reads them back after. */
  readonly acc = new Float64Array(10);
  private bound: RecordBatch | null = null;

  /**
   * Decode and track records of `b` from `i` on in the compiled side, as long
   * as they take decode.ts's common path (Ethernet, IPv4/IPv6, TCP): what
   * decodePacket + packet() would do for each, and the pipeline's counters
   * in `acc`. Returns the first record it did not take (decode that one in
   * JavaScript and give it to packet()), or b.count.
   */
  scan(b: RecordBatch, i: number): number {
    if (this.bound !== b) {
      this.t.bindBatch(b, this.acc);
      this.bound = b;
    }
    // Packets given to packet() before record i are tracked first, by scan()
    // itself, if it takes a record; else they wait for more (flush()).
    const j = this.t.scan(i, this.n);
    if (this.acc[A_RAN_PENDING] === 1) this.n = 0;
    this.collect();
    return j;
  }

  /** The batch is done with (its arrays are the reader's to reuse). */
  endBatch(): void {
    this.bound = null;
  }

  /** Track the packets given so far and hand on the connections they finished. */
  flush(): void {
    if (this.n > 0) {
      this.t.run(this.n);
      this.n = 0;
    }
    this.collect();
  }

  /** As FlowTracker.finishSome (packets given before it are tracked first). */
  finishSome(max: number, captureEndTs?: number): boolean {
    this.flush();
    const done = this.t.finishSome(max, captureEndTs ?? NaN);
    this.collect();
    return done;
  }

  finish(captureEndTs?: number): void {
    this.finishSome(Infinity, captureEndTs);
  }

  private collect(): void {
    const S = this.s;
    this.stats.active = S[S_ACTIVE]!;
    this.stats.peak = S[S_PEAK]!;
    this.stats.evicted = S[S_EVICTED]!;
    this.stats.duplicates = S[S_DUPLICATES]!;
    const conns = S[S_CONNS]!;
    if (conns === 0) return;
    const len = S[S_OUT]!;
    const np = S[S_PATCHES]!;
    const enc = this.encoder;
    const nums = enc.room(len);
    const at = enc.n;
    if (this.outcomes.length < conns) this.outcomes = new Uint8Array(Math.max(conns, this.outcomes.length * 2));
    if (this.patches.length < np * PATCH_STRIDE) this.patches = new Float64Array(Math.max(np, 2 * this.patches.length / PATCH_STRIDE) * PATCH_STRIDE);
    this.t.drain(nums, at, this.outcomes, this.patches);
    const P = this.patches;
    for (let k = 0; k < np; k++) {
      const o = k * PATCH_STRIDE;
      let text: string;
      if (P[o + 1] === P_FORGED) {
        // ipv, address words, rst TTL, agree, reference TTL, IP ID far, rst IP ID, last IP ID
        const ip = this.addrs.get(P[o + 2]!, P[o + 3]!, P[o + 4]!, P[o + 5]!, P[o + 6]!);
        text = forgedReason(ip, P[o + 7]!, P[o + 8]!, P[o + 9]!, P[o + 10] === 1, P[o + 11]!, P[o + 12]!);
      } else {
        text = `ICMP ${P[o + 2]!}/${P[o + 3]!}`;
      }
      nums[at + P[o]!] = -1 - enc.stringId(text);
    }
    enc.committedMany(at + len, conns);
    if (this.own) {
      const b = enc.take();
      this.decoder!.decode(b, this.onConnection);
      enc.recycle(b.nums);
    } else if (this.onEncoded !== null) {
      const oc = this.outcomes;
      for (let k = 0; k < conns; k++) this.onEncoded(OUTCOMES[oc[k]!]!);
    }
  }
}

/** Where connection text goes: JsonReportWriter and NdjsonReportWriter (report/). */
export interface ConnectionTextSink {
  /** Connections written so far. */
  readonly connections: number;
  connectionsBytes(text: Uint8Array, connections: number): void;
}

interface NativeJson {
  strings(base: number, reset: boolean, texts: string[]): void;
  write(nums: Float64Array, length: number, count: number, ndjson: boolean, first: boolean, state: Float64Array): Buffer;
}

/**
 * The JSON text of connection batches (codec.ts layout), made by the compiled
 * side (native/flows/flows.cc JsonWriter): the same bytes as json.ts's
 * connection text (JSON.stringify(connectionJson(c))), without decoding the
 * batch into objects. The writer thread's largest cost in JavaScript.
 */
export class NativeConnectionText {
  private readonly st = new Float64Array(3);

  private constructor(private readonly w: NativeJson) {}

  /** null when the compiled side is not built (or SYNSENT_TRACKER=js). */
  static create(): NativeConnectionText | null {
    if (!nativeTrackerAvailable()) return null;
    const b = load() as unknown as { JsonWriter: new () => NativeJson };
    return new NativeConnectionText(new b.JsonWriter());
  }

  /**
   * The batch's connections as UTF-8 text, to `sink` in pieces of ~256 KB
   * (each valid during the call) with the number of connections in each:
   * for json each after "," (the report's first after '{"connections":['
   * when `first`), for ndjson one '{"type":"connection",...}' line each.
   */
  write(b: ConnectionBatch, ndjson: boolean, first: boolean, sink: (text: Uint8Array, connections: number) => void): void {
    // Strings go over as JSON text: escaping stays JSON.stringify's own.
    if (b.resetStrings || b.strings.length > 0) this.w.strings(b.stringBase, b.resetStrings, b.strings.map((s) => JSON.stringify(s)));
    const st = this.st;
    st[0] = 0;
    st[1] = 0;
    while (st[1]! < b.count) {
      const text = this.w.write(b.nums, b.length, b.count, ndjson, first && st[1] === 0, st);
      if (st[2] === 0) throw new Error("NativeConnectionText: no progress in a batch (damaged batch)");
      sink(text, st[2]!);
    }
  }

  /** The batch's connections to a report writer, after those it has written. */
  writeTo(b: ConnectionBatch, ndjson: boolean, w: ConnectionTextSink): void {
    this.write(b, ndjson, w.connections === 0, (t, n) => w.connectionsBytes(t, n));
  }
}

interface NativeDiag {
  strings(base: number, reset: boolean, texts: string[]): void;
  add(nums: Float64Array, length: number, count: number): number[] | undefined;
  state(): DiagnoserState;
}

/** What diagnoses connection batches: the compiled diagnoser, or the JavaScript one over decoded connections. */
export interface BatchDiagnoser {
  add(b: ConnectionBatch): void;
  finish(): ReturnType<Diagnoser["finish"]>;
}

/**
 * Diagnoser.add() over connection batches, compiled (native/flows/diagnose.cc):
 * the aggregates are made from the batch numbers, and only the connections
 * kept as examples are decoded into objects. finish() hands the aggregates to
 * Diagnoser.restore(): the findings are diagnose.ts's own. On the writer
 * thread, decoding every connection and diagnosing it in JavaScript was most
 * of its work (and most of its garbage).
 */
export class NativeDiagnoser implements BatchDiagnoser {
  private readonly decoder = new ConnectionDecoder();
  private readonly examples: Connection[] = [];

  private constructor(
    private readonly d: NativeDiag,
    private readonly opts: DiagnoserOptions,
  ) {}

  /** null when the compiled side is not built (or SYNSENT_TRACKER=js). */
  static create(opts: DiagnoserOptions): NativeDiagnoser | null {
    if (!nativeTrackerAvailable()) return null;
    const b = load() as unknown as { Diagnoser: new (maxExamplesPerKind: number, maxDestinations: number) => NativeDiag };
    // The options as Diagnoser clamps them.
    const { maxExamplesPerKind, maxDestinations } = Diagnoser.limits(opts);
    return new NativeDiagnoser(new b.Diagnoser(maxExamplesPerKind, maxDestinations), opts);
  }

  add(b: ConnectionBatch): void {
    if (b.resetStrings || b.strings.length > 0) this.d.strings(b.stringBase, b.resetStrings, b.strings);
    // The decoder's string table follows every batch (examples may use any string seen so far).
    this.decoder.decode({ ...b, count: 0 }, () => {});
    const keep = this.d.add(b.nums, b.length, b.count);
    if (keep === undefined) return;
    for (const at of keep) {
      const row: ConnectionBatch = { nums: b.nums.subarray(at), length: b.length - at, count: 1, strings: [], stringBase: 0, resetStrings: false };
      this.decoder.decode(row, (c) => this.examples.push(cloneConnection(c)));
    }
  }

  finish(): ReturnType<Diagnoser["finish"]> {
    return Diagnoser.restore(this.opts, this.d.state(), this.examples).finish();
  }
}

/** The JavaScript diagnoser over batches: each connection decoded, then Diagnoser.add(). */
class DecodingDiagnoser implements BatchDiagnoser {
  private readonly decoder = new ConnectionDecoder();
  private readonly diagnoser: Diagnoser;
  private readonly each: (c: Connection, synAckTtl: number) => void;

  constructor(opts: DiagnoserOptions) {
    const d = (this.diagnoser = new Diagnoser(opts));
    this.each = (c, synAckTtl) => d.add(c, synAckTtl);
  }

  add(b: ConnectionBatch): void {
    this.decoder.decode(b, this.each);
  }

  finish(): ReturnType<Diagnoser["finish"]> {
    return this.diagnoser.finish();
  }
}

/** The compiled diagnoser when built, else the JavaScript one: the same result. */
export function batchDiagnoser(opts: DiagnoserOptions): BatchDiagnoser {
  return NativeDiagnoser.create(opts) ?? new DecodingDiagnoser(opts);
}
