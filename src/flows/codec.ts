/**
 * Connections as numbers, for crossing threads: `--threads 2` writes the
 * json/ndjson report on a worker thread, and a million Connection objects
 * built on one thread and rebuilt on the other were the largest cost of a big
 * capture (objects, strings, garbage collection on both sides).
 *
 * A batch is one Float64Array (transferred, not copied) plus the few strings
 * first used in it. The flow tracker writes its finished flows straight into
 * a batch (FlowTracker option `encoder`), without building Connection
 * objects; `ConnectionEncoder.add` writes a Connection object the same way
 * (anonymized reports, tests). `ConnectionDecoder` reads a batch back into
 * Connection objects, by default into one reused object per field so that
 * decoding allocates nothing per connection.
 *
 * Every field round-trips exactly: numbers as float64; addresses as their
 * 32-bit words (text made once per address by a small cache) or, for any text
 * that is not an address the tracker made, as a string; enumerated strings
 * (outcome, Zeek state, ladder side, flags, note) as their index, or as a
 * string when they are not one of the known values.
 *
 * Layout of one connection (in order):
 *   id, ipVersion, outcome*, zeekState*, client address+, client port,
 *   server address+, server port, syn, synAck, bits
 *   [rst: ts, frame, ttl, forgedReason*?]            when bits & B_RST
 *   [icmp: type, code, from address+, ts, frame]     when bits & B_ICMP
 *   data retransmissions, duplicates
 *   [synToSynAck, synAckToAck, total]                 when bits & B_RTT
 *   [mss, windowScale]                                when bits & B_OPTS
 *   packets client, packets server, bytes client, bytes server, firstTs, lastTs,
 *   frame count, frames..., step count,
 *   steps: frame, ts, from*, flags*, seq, ack, len, ttl, note*?
 *   synAckTtl
 * `*` = enumerated string (index >= 0, or -1 - string id);
 * `*?` = the same with index 0 meaning null;
 * a step's flags: the TCP flag bits (>= 0; text by flagsText), or -1 - string id
 * for other text ("ICMP 3/3");
 * `+` = address: 4 then one word, 6 then four words, or -1 then a string id.
 * SYN/SYN-ACK retransmission counts are syn-1 / synAck-1 (never sent).
 */
import { formatAddr } from "../decode/addr.js";
import { TcpFlag } from "../decode/packet.js";
import { OUTCOMES, type Connection, type LadderStep, type Outcome } from "./connection.js";

export const ZEEK_STATES: readonly string[] = ["S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"];
export const SIDES: readonly string[] = ["client", "server", "icmp"];
/** Ladder notes; index 0 is null. */
export const NOTES: readonly (string | null)[] = [null, "retransmission", "duplicate", "keep-alive", "out-of-order"];

export const B_RST = 1;
export const B_RST_SERVER = 2;
export const B_FORGED = 4;
export const B_ICMP = 8;
export const B_RTT = 16;
export const B_OPTS = 32;
export const B_MSS_NULL = 64;
export const B_WS_NULL = 128;
export const B_SACK = 256;
export const B_TS = 512;
export const B_TRUNC = 1024;
export const B_EVICTED = 2048;

const FLAG_NAMES: [number, string][] = [
  [TcpFlag.FIN, "FIN"],
  [TcpFlag.SYN, "SYN"],
  [TcpFlag.RST, "RST"],
  [TcpFlag.PSH, "PSH"],
  [TcpFlag.ACK, "ACK"],
  [TcpFlag.URG, "URG"],
  [TcpFlag.ECE, "ECE"],
  [TcpFlag.CWR, "CWR"],
  [TcpFlag.NS, "NS"],
];
const FLAG_TEXT: string[] = [];
const FLAG_BITS = new Map<string, number>();
for (let f = 0; f < 512; f++) {
  const parts: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (f & bit) parts.push(name);
  const t = parts.length ? parts.join(",") : "none";
  FLAG_TEXT.push(t);
  if (!FLAG_BITS.has(t)) FLAG_BITS.set(t, f);
}

/** Flags as text in Wireshark's order, e.g. "SYN,ACK", "FIN,PSH,ACK"; "none" when no flag is set. */
export function flagsText(flags: number): string {
  return FLAG_TEXT[flags & 0x1ff]!;
}

const OUTCOME_INDEX = new Map<string, number>(OUTCOMES.map((o, i) => [o, i]));
const ZEEK_INDEX = new Map<string, number>(ZEEK_STATES.map((z, i) => [z, i]));
const SIDE_INDEX = new Map<string, number>(SIDES.map((s, i) => [s, i]));
const NOTE_INDEX = new Map<string, number>();
for (let i = 1; i < NOTES.length; i++) NOTE_INDEX.set(NOTES[i]!, i);

/** Strings are sent once and then referred to by number; the table restarts past this size. */
const CODEC_MAX_STRINGS = 65_536;

export interface ConnectionBatch {
  nums: Float64Array;
  length: number;
  count: number;
  /** Strings first used in this batch, numbered from `stringBase`. */
  strings: string[];
  stringBase: number;
  /** The receiver clears its table before reading this batch. */
  resetStrings: boolean;
}

export class ConnectionEncoder {
  /** The numbers; writers call room(k) first, write from `n`, then set `n` and call committed(). */
  nums: Float64Array;
  n = 0;
  private count = 0;
  private ids = new Map<string, number>();
  private nextStringId = 0;
  private strings: string[] = [];
  private stringBase = 0;
  private reset = false;
  private readonly spare: Float64Array[] = [];

  constructor(initial = 1 << 15) {
    this.nums = new Float64Array(initial);
  }

  get connections(): number {
    return this.count;
  }

  get size(): number {
    return this.n;
  }

  /** Make room for k more numbers (`nums` may be replaced). */
  room(k: number): Float64Array {
    if (this.n + k <= this.nums.length) return this.nums;
    let len = this.nums.length * 2;
    while (len < this.n + k) len *= 2;
    const a = new Float64Array(len);
    a.set(this.nums.subarray(0, this.n));
    this.nums = a;
    return a;
  }

  /** One connection was written up to `end`. */
  committed(end: number): void {
    this.n = end;
    this.count++;
  }

  /** `count` connections were written up to `end` (the compiled tracker copies them in at once). */
  committedMany(end: number, count: number): void {
    this.n = end;
    this.count += count;
  }

  /** The string's id (sent with the batch the first time). */
  stringId(v: string): number {
    let id = this.ids.get(v);
    if (id === undefined) {
      if (this.nextStringId >= CODEC_MAX_STRINGS && this.strings.length === 0 && this.count === 0) {
        // Only at a batch boundary: the receiver resets before this batch.
        this.ids.clear();
        this.nextStringId = 0;
        this.stringBase = 0;
        this.reset = true;
      }
      id = this.nextStringId++;
      this.ids.set(v, id);
      this.strings.push(v);
    }
    return id;
  }

  private en(v: string, index: ReadonlyMap<string, number>): number {
    const k = index.get(v);
    return k !== undefined ? k : -1 - this.stringId(v);
  }

  private enNull(v: string | null, index: ReadonlyMap<string, number>): number {
    if (v === null) return 0;
    const k = index.get(v);
    return k !== undefined ? k : -1 - this.stringId(v);
  }

  /** An address as text: always as a string (exact whatever the text). */
  private addr(a: Float64Array, i: number, ip: string): number {
    a[i++] = -1;
    a[i++] = this.stringId(ip);
    return i;
  }

  /** `synAckTtl`: what the flow tracker passes along for the diagnoser (-1 = none). */
  add(c: Connection, synAckTtl = -1): void {
    const L = c.ladder;
    const a = this.room(48 + c.frames.length + L.length * 9);
    let i = this.n;
    a[i++] = c.id;
    a[i++] = c.ipVersion;
    a[i++] = this.en(c.outcome, OUTCOME_INDEX);
    a[i++] = this.en(c.zeekState, ZEEK_INDEX);
    i = this.addr(a, i, c.client.ip);
    a[i++] = c.client.port;
    i = this.addr(a, i, c.server.ip);
    a[i++] = c.server.port;
    a[i++] = c.syn;
    a[i++] = c.synAck;
    const r = c.rst;
    const ic = c.icmp;
    const h = c.handshakeRttMs;
    const o = c.synOptions;
    let bits = 0;
    if (r !== null) bits |= B_RST | (r.from === "server" ? B_RST_SERVER : 0) | (r.suspectedForged ? B_FORGED : 0);
    if (ic !== null) bits |= B_ICMP;
    if (h !== null) bits |= B_RTT;
    if (o !== null) {
      bits |= B_OPTS | (o.mss === null ? B_MSS_NULL : 0) | (o.windowScale === null ? B_WS_NULL : 0);
      bits |= (o.sackPermitted ? B_SACK : 0) | (o.timestamps ? B_TS : 0);
    }
    if (c.ladderTruncated) bits |= B_TRUNC;
    if (c.evicted) bits |= B_EVICTED;
    a[i++] = bits;
    if (r !== null) {
      if (r.from !== "client" && r.from !== "server") throw new Error(`ConnectionEncoder: rst.from ${String(r.from)}`);
      a[i++] = r.ts;
      a[i++] = r.frame;
      a[i++] = r.ttl;
      a[i++] = r.forgedReason === null ? 0 : -1 - this.stringId(r.forgedReason);
    }
    if (ic !== null) {
      a[i++] = ic.type;
      a[i++] = ic.code;
      i = this.addr(a, i, ic.from);
      a[i++] = ic.ts;
      a[i++] = ic.frame;
    }
    a[i++] = c.retransmissions.data;
    // syn/synAck retransmissions are derived; a Connection that says otherwise would not round-trip.
    if (c.retransmissions.syn !== (c.syn > 1 ? c.syn - 1 : 0) || c.retransmissions.synAck !== (c.synAck > 1 ? c.synAck - 1 : 0)) {
      throw new Error("ConnectionEncoder: retransmissions.syn/synAck must be syn-1/synAck-1");
    }
    a[i++] = c.duplicates;
    if (h !== null) {
      a[i++] = h.synToSynAck;
      a[i++] = h.synAckToAck;
      a[i++] = h.total;
    }
    if (o !== null) {
      a[i++] = o.mss ?? 0;
      a[i++] = o.windowScale ?? 0;
    }
    a[i++] = c.packets.client;
    a[i++] = c.packets.server;
    a[i++] = c.bytes.client;
    a[i++] = c.bytes.server;
    a[i++] = c.firstTs;
    a[i++] = c.lastTs;
    a[i++] = c.frames.length;
    for (const f of c.frames) a[i++] = f;
    a[i++] = L.length;
    for (const st of L) {
      a[i++] = st.frame;
      a[i++] = st.ts;
      a[i++] = this.en(st.from, SIDE_INDEX);
      const fb = FLAG_BITS.get(st.flags);
      a[i++] = fb !== undefined && st.from !== "icmp" ? fb : -1 - this.stringId(st.flags);
      a[i++] = st.seq;
      a[i++] = st.ack;
      a[i++] = st.len;
      a[i++] = st.ttl;
      a[i++] = this.enNull(st.note, NOTE_INDEX);
    }
    a[i++] = synAckTtl;
    this.committed(i);
  }

  /** The batch so far (its buffer is handed over: transfer it), and start a new one. */
  take(): ConnectionBatch {
    const b: ConnectionBatch = {
      nums: this.nums,
      length: this.n,
      count: this.count,
      strings: this.strings,
      stringBase: this.stringBase,
      resetStrings: this.reset,
    };
    this.stringBase = this.nextStringId;
    this.strings = [];
    this.reset = false;
    this.nums = this.spare.pop() ?? new Float64Array(this.nums.length);
    this.n = 0;
    this.count = 0;
    return b;
  }

  /** A batch's array, back from the receiver (transferred back), to be filled again instead of a new one. */
  recycle(nums: Float64Array): void {
    if (this.spare.length < 8) this.spare.push(nums);
  }
}

/**
 * Address text with a bounded direct-mapped cache (the same servers and
 * clients come back again and again): a newcomer replaces what was in its
 * slot. IPv4 uses word 0 only.
 */
export class AddrTextCache {
  private readonly mask: number;
  private readonly ver: Int8Array;
  private readonly words: Int32Array;
  private readonly text: string[];
  private readonly scratch = new Uint32Array(4);

  /** @param size slots, a power of two */
  constructor(size = 8192) {
    this.mask = size - 1;
    this.ver = new Int8Array(size);
    this.words = new Int32Array(size * 4);
    this.text = new Array<string>(size).fill("");
  }

  get(ipv: number, w0: number, w1: number, w2: number, w3: number): string {
    w0 |= 0;
    if (ipv === 4) w1 = w2 = w3 = 0;
    else {
      w1 |= 0;
      w2 |= 0;
      w3 |= 0;
    }
    let h = Math.imul(w0 ^ Math.imul(w1 ^ (w1 >>> 16), 0x9e3779b1) ^ Math.imul(w2 ^ (w3 >>> 7), 0x85ebca6b) ^ w3, 0xc2b2ae35);
    h = (h ^ (h >>> 15) ^ (h >>> 27)) & this.mask;
    const W = this.words;
    const o = h * 4;
    if (this.ver[h] === ipv && W[o] === w0 && W[o + 1] === w1 && W[o + 2] === w2 && W[o + 3] === w3) return this.text[h]!;
    const a = this.scratch;
    a[0] = w0;
    a[1] = w1;
    a[2] = w2;
    a[3] = w3;
    const t = formatAddr(ipv, a);
    this.ver[h] = ipv;
    W[o] = w0;
    W[o + 1] = w1;
    W[o + 2] = w2;
    W[o + 3] = w3;
    this.text[h] = t;
    return t;
  }
}

// The decoder's objects start with their numbers as doubles (-0, overwritten
// before any use): every value comes from a Float64Array, and a field that
// starts as a small integer and later gets a double changes the object's
// hidden class, which threw away the writer thread's optimised code (and
// that of everything inlined with it) at the first such value, long after
// start-up. Arrays of frame numbers hold doubles from the start for the same
// reason.
function newConnection(): Connection {
  return {
    id: -0,
    ipVersion: -0 as unknown as 4,
    client: { ip: "", port: -0 },
    server: { ip: "", port: -0 },
    outcome: "unanswered",
    zeekState: "",
    syn: -0,
    synAck: -0,
    rst: null,
    icmp: null,
    retransmissions: { data: -0, syn: -0, synAck: -0 },
    duplicates: -0,
    handshakeRttMs: null,
    synOptions: null,
    packets: { client: -0, server: -0 },
    bytes: { client: -0, server: -0 },
    firstTs: -0,
    lastTs: -0,
    frames: [],
    ladder: [],
    ladderTruncated: false,
    evicted: false,
  };
}

function newStep(): LadderStep {
  return { frame: -0, ts: -0, from: "client", flags: "", seq: -0, ack: -0, len: -0, ttl: -0, note: null };
}

/** Slots per length for reused arrays, made up front (a packed array: no holes to grow into). */
const REUSE_SIZES = 64;

/** REUSE_SIZES doubles (a packed array of doubles, made here and not in the hot loop): slices of it are too. */
const DOUBLES: number[] = [];
for (let j = 0; j < REUSE_SIZES; j++) DOUBLES.push(-0);

/** An array of n numbers, held as doubles (see newConnection). */
function numberArray(n: number): number[] {
  if (n <= REUSE_SIZES) return DOUBLES.slice(0, n);
  const a = DOUBLES.slice();
  for (let j = REUSE_SIZES; j < n; j++) a.push(-0);
  return a;
}

/** A deep copy (for consumers that keep a connection decoded into reused objects). */
export function cloneConnection(c: Connection): Connection {
  return {
    id: c.id,
    ipVersion: c.ipVersion,
    client: { ip: c.client.ip, port: c.client.port },
    server: { ip: c.server.ip, port: c.server.port },
    outcome: c.outcome,
    zeekState: c.zeekState,
    syn: c.syn,
    synAck: c.synAck,
    rst: c.rst === null ? null : { ...c.rst },
    icmp: c.icmp === null ? null : { ...c.icmp },
    retransmissions: { data: c.retransmissions.data, syn: c.retransmissions.syn, synAck: c.retransmissions.synAck },
    duplicates: c.duplicates,
    handshakeRttMs: c.handshakeRttMs === null ? null : { ...c.handshakeRttMs },
    synOptions: c.synOptions === null ? null : { ...c.synOptions },
    packets: { client: c.packets.client, server: c.packets.server },
    bytes: { client: c.bytes.client, server: c.bytes.server },
    firstTs: c.firstTs,
    lastTs: c.lastTs,
    frames: c.frames.slice(),
    ladder: c.ladder.map((s) => ({ ...s })),
    ladderTruncated: c.ladderTruncated,
    evicted: c.evicted,
  };
}

export class ConnectionDecoder {
  private table: string[] = [];
  private readonly addrs = new AddrTextCache();
  // The reused connection (reuse mode).
  private readonly c: Connection = newConnection();
  private readonly rst: NonNullable<Connection["rst"]> = { from: "client", ts: -0, frame: -0, ttl: -0, suspectedForged: false, forgedReason: null };
  private readonly icmp: NonNullable<Connection["icmp"]> = { type: -0, code: -0, from: "", ts: -0, frame: -0 };
  private readonly rtt: NonNullable<Connection["handshakeRttMs"]> = { synToSynAck: -0, synAckToAck: -0, total: -0 };
  private readonly opts: NonNullable<Connection["synOptions"]> = { mss: null, windowScale: null, sackPermitted: false, timestamps: false };
  private readonly stepsBySize: (LadderStep[] | null)[] = new Array<LadderStep[] | null>(REUSE_SIZES).fill(null);
  private readonly framesBySize: (number[] | null)[] = new Array<number[] | null>(REUSE_SIZES).fill(null);

  /**
   * @param reuse true (default): every connection is decoded into the same
   *   objects, valid only during the callback (clone what you keep:
   *   cloneConnection). false: fresh objects for each connection.
   */
  constructor(private readonly reuse = true) {}

  private str(x: number): string {
    return this.table[-1 - x]!;
  }

  private en<T>(x: number, list: readonly T[]): T | string {
    return x >= 0 ? list[x]! : this.str(x);
  }

  /** Calls `each` for every connection of the batch, in order. */
  decode(b: ConnectionBatch, each: (c: Connection, synAckTtl: number) => void): void {
    if (b.resetStrings) this.table = [];
    const T = this.table;
    for (let k = 0; k < b.strings.length; k++) T[b.stringBase + k] = b.strings[k]!;
    const a = b.nums;
    const A = this.addrs;
    const reuse = this.reuse;
    let i = 0;
    for (let k = 0; k < b.count; k++) {
      const c: Connection = reuse ? this.c : newConnection();
      c.id = a[i++]!;
      c.ipVersion = a[i++]! as 4 | 6;
      c.outcome = this.en(a[i++]!, OUTCOMES) as Outcome;
      c.zeekState = this.en(a[i++]!, ZEEK_STATES);
      // addresses
      let t = a[i++]!;
      if (t === 4) c.client.ip = A.get(4, a[i++]!, 0, 0, 0);
      else if (t === 6) {
        c.client.ip = A.get(6, a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!);
        i += 4;
      } else c.client.ip = T[a[i++]!]!;
      c.client.port = a[i++]!;
      t = a[i++]!;
      if (t === 4) c.server.ip = A.get(4, a[i++]!, 0, 0, 0);
      else if (t === 6) {
        c.server.ip = A.get(6, a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!);
        i += 4;
      } else c.server.ip = T[a[i++]!]!;
      c.server.port = a[i++]!;
      const syn = (c.syn = a[i++]!);
      const synAck = (c.synAck = a[i++]!);
      const bits = a[i++]!;
      if (bits & B_RST) {
        const r = reuse ? this.rst : { from: "client" as const, ts: 0, frame: 0, ttl: 0, suspectedForged: false, forgedReason: null };
        r.from = bits & B_RST_SERVER ? "server" : "client";
        r.ts = a[i++]!;
        r.frame = a[i++]!;
        r.ttl = a[i++]!;
        r.suspectedForged = (bits & B_FORGED) !== 0;
        const fr = a[i++]!;
        r.forgedReason = fr === 0 ? null : this.str(fr);
        c.rst = r;
      } else c.rst = null;
      if (bits & B_ICMP) {
        const ic = reuse ? this.icmp : { type: 0, code: 0, from: "", ts: 0, frame: 0 };
        ic.type = a[i++]!;
        ic.code = a[i++]!;
        t = a[i++]!;
        if (t === 4) ic.from = A.get(4, a[i++]!, 0, 0, 0);
        else if (t === 6) {
          ic.from = A.get(6, a[i]!, a[i + 1]!, a[i + 2]!, a[i + 3]!);
          i += 4;
        } else ic.from = T[a[i++]!]!;
        ic.ts = a[i++]!;
        ic.frame = a[i++]!;
        c.icmp = ic;
      } else c.icmp = null;
      const re = c.retransmissions;
      re.data = a[i++]!;
      // Math.max, not `syn > 1 ? syn - 1 : 0`: a subtraction first reached at the
      // first retried SYN deoptimised (and recompiled) this whole function.
      re.syn = Math.max(syn - 1, 0);
      re.synAck = Math.max(synAck - 1, 0);
      c.duplicates = a[i++]!;
      if (bits & B_RTT) {
        const h = reuse ? this.rtt : { synToSynAck: 0, synAckToAck: 0, total: 0 };
        h.synToSynAck = a[i++]!;
        h.synAckToAck = a[i++]!;
        h.total = a[i++]!;
        c.handshakeRttMs = h;
      } else c.handshakeRttMs = null;
      if (bits & B_OPTS) {
        const o = reuse ? this.opts : { mss: null, windowScale: null, sackPermitted: false, timestamps: false };
        const mss = a[i++]!;
        const ws = a[i++]!;
        o.mss = bits & B_MSS_NULL ? null : mss;
        o.windowScale = bits & B_WS_NULL ? null : ws;
        o.sackPermitted = (bits & B_SACK) !== 0;
        o.timestamps = (bits & B_TS) !== 0;
        c.synOptions = o;
      } else c.synOptions = null;
      c.packets.client = a[i++]!;
      c.packets.server = a[i++]!;
      c.bytes.client = a[i++]!;
      c.bytes.server = a[i++]!;
      c.firstTs = a[i++]!;
      c.lastTs = a[i++]!;
      const nf = a[i++]!;
      // reuse: one array per length (setting an array's length is slow)
      const frames = reuse ? (this.framesBySize[nf] ??= numberArray(nf)) : numberArray(nf);
      for (let j = 0; j < nf; j++) frames[j] = a[i++]!;
      c.frames = frames;
      const nl = a[i++]!;
      const ladder: LadderStep[] = reuse
        ? (this.stepsBySize[nl] ??= Array.from({ length: nl }, newStep))
        : new Array<LadderStep>(nl);
      for (let j = 0; j < nl; j++) {
        const st = reuse ? ladder[j]! : (ladder[j] = newStep());
        st.frame = a[i++]!;
        st.ts = a[i++]!;
        st.from = this.en(a[i++]!, SIDES) as LadderStep["from"];
        const fl = a[i++]!;
        st.flags = fl >= 0 ? FLAG_TEXT[fl]! : this.str(fl);
        st.seq = a[i++]!;
        st.ack = a[i++]!;
        st.len = a[i++]!;
        st.ttl = a[i++]!;
        const nt = a[i++]!;
        st.note = nt >= 0 ? NOTES[nt]! : this.str(nt);
      }
      c.ladder = ladder;
      c.ladderTruncated = (bits & B_TRUNC) !== 0;
      c.evicted = (bits & B_EVICTED) !== 0;
      const synAckTtl = a[i++]!;
      each(c, synAckTtl);
    }
  }
}
