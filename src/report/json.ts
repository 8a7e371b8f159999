/**
 * `--format json`: one JSON document, streamed.
 *
 *   {"connections":[ ...one object per connection, written as each verdict is final... ],
 *    "destinations":[...],"findings":[...],"source":{...},"flowTable":{...},
 *    "options":{...},"tool":{...}}
 *
 * Connections are written the moment they arrive and not kept, so memory stays
 * constant however large the capture. The key order is fixed (below), the
 * field names are those of the TypeScript contracts (Connection, Destination,
 * Finding, SourceSummary) and are a stable interface: scripts may rely on them.
 *
 * Timestamps are numbers, seconds since the Unix epoch (µs precision);
 * durations are milliseconds (`handshakeRttMs`, `rttMs`) or seconds where the
 * name says so (`durationS`). Absent values are `null`, never omitted.
 *
 * The packet ladder (`ladder`, the connection's first packets with frame
 * numbers) is included for connections worth a look (a problem outcome,
 * pending, or any retransmission or duplicate; clean ones have `[]`). It is
 * bounded by the flow tracker (`ladderTruncated` says when it was cut),
 * typically a few hundred bytes per connection; it makes each connection
 * checkable against Wireshark without the capture at hand. Scripts that want
 * less can drop it: `jq 'del(.connections[].ladder)'`.
 */

import {
  OUTCOMES,
  type Connection,
  type Endpoint,
  type HandshakeRtt,
  type IcmpInfo,
  type LadderStep,
  type Outcome,
  type RstInfo,
  type SynOptions,
} from "../flows/connection.js";
import type { Destination, Finding, Percentiles } from "../diagnose/types.js";
import type { FlowTableStats, Report, SourceSummary } from "./model.js";
import type { ReadStop } from "../sources/record.js";

// ---------------------------------------------------------------- the contract, key by key
//
// Each mapper lists every field of its type in a fixed order. `satisfies
// Record<keyof T, unknown>` makes the compiler fail when a field is added to a
// contract type and not here, so the JSON never silently misses one.

function endpoint(e: Endpoint) {
  return { ip: e.ip, port: e.port } satisfies Record<keyof Endpoint, unknown>;
}

function rst(r: RstInfo) {
  return {
    from: r.from,
    ts: r.ts,
    frame: r.frame,
    ttl: r.ttl,
    suspectedForged: r.suspectedForged,
    forgedReason: r.forgedReason,
  } satisfies Record<keyof RstInfo, unknown>;
}

function icmp(i: IcmpInfo) {
  return { type: i.type, code: i.code, from: i.from, ts: i.ts, frame: i.frame } satisfies Record<keyof IcmpInfo, unknown>;
}

function rtt(h: HandshakeRtt) {
  return { synToSynAck: h.synToSynAck, synAckToAck: h.synAckToAck, total: h.total } satisfies Record<keyof HandshakeRtt, unknown>;
}

function synOptions(o: SynOptions) {
  return {
    mss: o.mss,
    windowScale: o.windowScale,
    sackPermitted: o.sackPermitted,
    timestamps: o.timestamps,
  } satisfies Record<keyof SynOptions, unknown>;
}

function ladderStep(s: LadderStep) {
  return {
    frame: s.frame,
    ts: s.ts,
    from: s.from,
    flags: s.flags,
    seq: s.seq,
    ack: s.ack,
    len: s.len,
    ttl: s.ttl,
    note: s.note,
  } satisfies Record<keyof LadderStep, unknown>;
}

/** A Connection as it appears in `connections[]` (and in NDJSON `connection` lines). */
export function connectionJson(c: Connection) {
  return {
    id: c.id,
    ipVersion: c.ipVersion,
    client: endpoint(c.client),
    server: endpoint(c.server),
    outcome: c.outcome,
    zeekState: c.zeekState,
    syn: c.syn,
    synAck: c.synAck,
    rst: c.rst ? rst(c.rst) : null,
    icmp: c.icmp ? icmp(c.icmp) : null,
    retransmissions: { data: c.retransmissions.data, syn: c.retransmissions.syn, synAck: c.retransmissions.synAck },
    duplicates: c.duplicates,
    handshakeRttMs: c.handshakeRttMs ? rtt(c.handshakeRttMs) : null,
    synOptions: c.synOptions ? synOptions(c.synOptions) : null,
    packets: { client: c.packets.client, server: c.packets.server },
    bytes: { client: c.bytes.client, server: c.bytes.server },
    firstTs: c.firstTs,
    lastTs: c.lastTs,
    frames: c.frames,
    ladder: c.ladder.map(ladderStep),
    ladderTruncated: c.ladderTruncated,
    evicted: c.evicted,
  } satisfies Record<keyof Connection, unknown>;
}

// ---------------------------------------------------------------- fast path
//
// connectionJsonText(c) === JSON.stringify(connectionJson(c)), written by hand
// (below; native/flows/flows.cc JsonWriter writes the same bytes from
// connection batches, held to it by test/flows/native.test.ts): on a big capture the generic object-then-stringify path was
// the single largest cost of `--format json` (a temporary object tree per
// connection, then a generic walk over it). The key order is the same as
// connectionJson's (pinned by a test that compares the two).

// The connection text is written as bytes into one reused buffer, then read
// back as a single flat string: string concatenation built a tree of ~60
// short-lived string pieces per connection, and on a big capture the garbage
// collector spent more time on those than the serializer itself.

/** Reused output buffer of the byte serializer (grown on demand), and a DataView of it. */
let jb: Buffer = Buffer.allocUnsafe(1 << 14);
let jdv = new DataView(jb.buffer, jb.byteOffset, jb.length);
let jp = 0;

function setJb(b: Buffer, dv?: DataView): void {
  jb = b;
  jdv = dv ?? new DataView(b.buffer, b.byteOffset, b.length);
}
/** A string with a non-ASCII character went in (read back as UTF-8, not Latin-1). */
let jUtf8 = false;

function jRoom(k: number): void {
  if (jp + k <= jb.length) return;
  let len = jb.length * 2;
  while (len < jp + k) len *= 2;
  const b = Buffer.allocUnsafe(len);
  jb.copy(b, 0, 0, jp);
  setJb(b);
}

/**
 * A literal (ASCII) fragment, prepared once as 8-byte words: jLit writes a
 * word at a time (the last word may run past the fragment; what follows
 * overwrites it). ASCII bytes never make a NaN pattern, so the words survive
 * being read as doubles unchanged.
 */
interface Lit {
  n: number;
  w: Float64Array;
}

function L(text: string): Lit {
  const n = text.length;
  const bytes = new Uint8Array(Math.max(8, Math.ceil(n / 8) * 8)).fill(32);
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch > 0x7e) throw new Error("json: literal fragments are ASCII");
    bytes[i] = ch;
  }
  return { n, w: new Float64Array(bytes.buffer) };
}

function jLit(l: Lit): void {
  const k = l.n;
  jRoom(k + 8);
  const w = l.w;
  const dv = jdv;
  let p = jp;
  for (let i = 0; i < w.length; i++, p += 8) dv.setFloat64(p, w[i]!, true);
  jp += k;
}

/** ASCII text known to need no escaping (number text). */
function jAscii(t: string): void {
  const k = t.length;
  jRoom(k);
  const B = jb;
  let p = jp;
  for (let i = 0; i < k; i++) B[p++] = t.charCodeAt(i);
  jp = p;
}

const NULL_B = L("null");
const TRUE_B = L("true");
const FALSE_B = L("false");

/** "00".."99" as char codes, two per entry. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + ((i / 10) | 0);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
}

/** 10^i (doubles: the compare in uintDigits expects numbers of any size from the start). */
const POW10 = new Float64Array([1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]);

/** Decimal digits of a positive int32 (jUint writes 0-9 itself). */
function uintDigits(x: number): number {
  // From the bit length, with no data-dependent branch: a chain of compares
  // (x < 10000 ? ...) had arms first reached after the writer was optimised
  // (the first 5-digit number, the first above 2^30), each a deoptimisation
  // and a recompile of everything it was inlined into.
  const t = ((32 - Math.clz32(x)) * 1233) >>> 12;
  return t + (x >= POW10[t]! ? 1 : 0);
}

/** Writes the d digits of a non-negative int32 x (d = uintDigits(x) or more, zero-padded) ending at B[end - 1]. */
function putDigits(B: Uint8Array, end: number, x: number, d: number): void {
  let p = end;
  const stop = end - d;
  while (p - stop >= 2) {
    const q = (x / 100) | 0;
    const r = (x - q * 100) * 2;
    B[--p] = DIGIT_PAIRS[r + 1]!;
    B[--p] = DIGIT_PAIRS[r]!;
    x = q;
  }
  if (p > stop) B[--p] = 48 + (x % 10);
}

/** Digits of a non-negative int32. */
function jUint(x: number): void {
  jRoom(10);
  if (x < 10) {
    jb[jp++] = 48 + x;
    return;
  }
  const d = uintDigits(x);
  putDigits(jb, jp + d, x, d);
  jp += d;
}

/** Digits of a non-negative integer below 2^53. */
function jDigits(x: number): void {
  if (x <= 0x7fffffff) {
    jUint(x | 0);
    return;
  }
  let d = 1;
  for (let t = x; t >= 10; t = Math.floor(t / 10)) d++;
  jRoom(d);
  const B = jb;
  let p = jp + d;
  jp = p;
  do {
    const q = Math.floor(x / 10);
    B[--p] = 48 + (x - q * 10);
    x = q;
  } while (x > 0);
}

const MICRO = 1e6;
/** Below this, one step of the µs grid (1e-6) is wider than a double's rounding interval. */
const MICRO_MAX = 8589934592; // 2^33

/** A number exactly as JSON.stringify writes it (non-finite -> null). */
function jNum(v: number): void {
  if ((v | 0) === v) {
    // int32 (and -0, which JSON writes as 0)
    if (v >= 0) jUint(v);
    else {
      jRoom(1);
      jb[jp++] = 45;
      jDigits(-v);
    }
    return;
  }
  if (v > 0 && v < MICRO_MAX) {
    // Timestamps and most durations have at most 6 decimals. When the decimal
    // m / 10^6 reads back as v (IEEE division is correctly rounded, like
    // parsing), it is the only point of the 1e-6 grid inside v's rounding
    // interval (narrower than 1e-6 below 2^33), so trimmed of trailing zeros
    // it is the shortest round-trip text: what Number#toString writes
    // (without exponent from 1e-6 up, as here).
    const m = Math.round(v * MICRO);
    if (m / MICRO === v) {
      let ip = Math.floor(m / MICRO);
      let frac = m - ip * MICRO;
      if (frac < 0) {
        ip -= 1;
        frac += MICRO;
      } else if (frac >= MICRO) {
        ip += 1;
        frac -= MICRO;
      }
      jDigits(ip);
      if (frac !== 0) {
        // six digits, then drop the trailing zeros
        jRoom(7);
        const B = jb;
        B[jp] = 46;
        putDigits(B, jp + 7, frac | 0, 6);
        let e = jp + 7;
        while (B[e - 1] === 48) e--;
        jp = e;
      }
      return;
    }
  }
  if (Number.isFinite(v)) jAscii(numText(v));
  else jLit(NULL_B);
}

// Number#toString of other doubles (handshake times in ms are differences of
// timestamps, full 17-digit values) is the costly part; the same values come
// back often (the 200k bench file: 490k handshake times, 65k distinct), so a
// direct-mapped cache of value -> text saves most of the conversions.
const NT_BITS = 15;
const ntKey = new Float64Array(1 << NT_BITS).fill(NaN); // NaN: never equal, an empty slot
const ntText: string[] = new Array<string>(1 << NT_BITS).fill("");
const ntF = new Float64Array(1);
const ntI = new Int32Array(ntF.buffer);

/** "" + v for a finite v, cached. */
function numText(v: number): string {
  ntF[0] = v;
  const h = Math.imul(ntI[0]! ^ Math.imul(ntI[1]!, 0x85ebca6b), 0x9e3779b1) >>> (32 - NT_BITS);
  if (ntKey[h] === v) return ntText[h]!;
  const t = "" + v;
  ntKey[h] = v;
  ntText[h] = t;
  return t;
}

function jBool(v: boolean): void {
  jLit(v ? TRUE_B : FALSE_B);
}

/** A string as JSON.stringify writes it (strings from the tracker need no escaping: a fast path). */
function jStr(v: string): void {
  const k = v.length;
  jRoom(k + 2);
  const B = jb;
  const start = jp;
  let p = start;
  B[p++] = 34;
  for (let i = 0; i < k; i++) {
    const ch = v.charCodeAt(i);
    if (ch < 0x20 || ch === 0x22 || ch === 0x5c || ch > 0x7e) {
      // escapes or non-ASCII: JSON.stringify's text, as UTF-8 bytes
      jp = start;
      const t = JSON.stringify(v);
      jRoom(t.length * 3);
      jp += jb.write(t, jp, "utf8");
      for (let j = 0; j < t.length; j++) if (t.charCodeAt(j) > 0x7f) jUtf8 = true;
      return;
    }
    B[p++] = ch;
  }
  B[p++] = 34;
  jp = p;
}

function jStrOrNull(v: string | null): void {
  if (v === null) jLit(NULL_B);
  else jStr(v);
}

const K_ID = L('{"id":');
const K_IPV = L(',"ipVersion":');
const K_CLIENT = L(',"client":{"ip":');
const K_PORT = L(',"port":');
const K_SERVER = L('},"server":{"ip":');
const K_OUTCOME = L('},"outcome":');
const K_ZEEK = L(',"zeekState":');
const K_SYN = L(',"syn":');
const K_SYNACK = L(',"synAck":');
const K_RST = L(',"rst":');
const K_FROM0 = L('{"from":');
const K_TS = L(',"ts":');
const K_FRAME = L(',"frame":');
const K_TTL = L(',"ttl":');
const K_FORGED = L(',"suspectedForged":');
const K_REASON = L(',"forgedReason":');
const K_CLOSE = L("}");
const K_ICMP = L(',"icmp":');
const K_TYPE0 = L('{"type":');
const K_CODE = L(',"code":');
const K_FROM = L(',"from":');
const K_RETR = L(',"retransmissions":{"data":');
const K_RSYNACK = L(',"synAck":');
const K_DUPS = L('},"duplicates":');
const K_SA2A = L(',"synAckToAck":');
const K_TOTAL = L(',"total":');
const K_MSS = L('{"mss":');
const K_WS = L(',"windowScale":');
const K_PSERVER = L(',"server":');
const K_BYTES = L('},"bytes":{"client":');
const K_FIRST = L('},"firstTs":');
const K_LAST = L(',"lastTs":');
const K_EMPTY = L("[]");
const K_OPEN = L("[");
const K_COMMA = L(",");
const K_END = L("]");
const K_STEP = L('{"frame":');
const K_FLAGS = L(',"flags":');
const K_SEQ = L(',"seq":');
const K_ACK = L(',"ack":');
const K_LEN = L(',"len":');
const K_NOTE = L(',"note":');
const HEAD_FIRST = L('{"connections":[');

// Fused fragments for the common cases (null fields, empty ladder): fewer, longer copies.
const F_RST_ICMP_NULL = L(',"rst":null,"icmp":null,"retransmissions":{"data":');
const F_ICMP_NULL = L(',"icmp":null,"retransmissions":{"data":');
const F_HS_NULL = L(',"handshakeRttMs":null,"synOptions":');
const F_HS_OPEN = L(',"handshakeRttMs":{"synToSynAck":');
const F_HS_CLOSE = L('},"synOptions":');
const F_SYNOPT_NULL = L('null,"packets":{"client":');
const F_SYNOPT_BOOLS = [
  L(',"sackPermitted":false,"timestamps":false},"packets":{"client":'),
  L(',"sackPermitted":true,"timestamps":false},"packets":{"client":'),
  L(',"sackPermitted":false,"timestamps":true},"packets":{"client":'),
  L(',"sackPermitted":true,"timestamps":true},"packets":{"client":'),
];
const F_FRAMES_OPEN = L(',"frames":[');
const F_FRAMES_EMPTY = L(',"frames":[],"ladder":');
const F_FRAMES_CLOSE = L('],"ladder":');
const F_TAIL = [
  L(',"ladderTruncated":false,"evicted":false}'),
  L(',"ladderTruncated":true,"evicted":false}'),
  L(',"ladderTruncated":false,"evicted":true}'),
  L(',"ladderTruncated":true,"evicted":true}'),
];

function jConnection(c: Connection): void {
  jLit(K_ID);
  jNum(c.id);
  jLit(K_IPV);
  jNum(c.ipVersion);
  jLit(K_CLIENT);
  jStr(c.client.ip);
  jLit(K_PORT);
  jNum(c.client.port);
  jLit(K_SERVER);
  jStr(c.server.ip);
  jLit(K_PORT);
  jNum(c.server.port);
  jLit(K_OUTCOME);
  jStr(c.outcome);
  jLit(K_ZEEK);
  jStr(c.zeekState);
  jLit(K_SYN);
  jNum(c.syn);
  jLit(K_SYNACK);
  jNum(c.synAck);
  const r = c.rst;
  const i = c.icmp;
  if (r === null && i === null) jLit(F_RST_ICMP_NULL);
  else {
    jLit(K_RST);
    if (r === null) jLit(NULL_B);
    else {
      jLit(K_FROM0);
      jStr(r.from);
      jLit(K_TS);
      jNum(r.ts);
      jLit(K_FRAME);
      jNum(r.frame);
      jLit(K_TTL);
      jNum(r.ttl);
      jLit(K_FORGED);
      jBool(r.suspectedForged);
      jLit(K_REASON);
      jStrOrNull(r.forgedReason);
      jLit(K_CLOSE);
    }
    if (i === null) jLit(F_ICMP_NULL);
    else {
      jLit(K_ICMP);
      jLit(K_TYPE0);
      jNum(i.type);
      jLit(K_CODE);
      jNum(i.code);
      jLit(K_FROM);
      jStr(i.from);
      jLit(K_TS);
      jNum(i.ts);
      jLit(K_FRAME);
      jNum(i.frame);
      jLit(K_CLOSE);
      jLit(K_RETR);
    }
  }
  const rt = c.retransmissions;
  jNum(rt.data);
  jLit(K_SYN);
  jNum(rt.syn);
  jLit(K_RSYNACK);
  jNum(rt.synAck);
  jLit(K_DUPS);
  jNum(c.duplicates);
  const h = c.handshakeRttMs;
  if (h === null) jLit(F_HS_NULL);
  else {
    jLit(F_HS_OPEN);
    jNum(h.synToSynAck);
    jLit(K_SA2A);
    jNum(h.synAckToAck);
    jLit(K_TOTAL);
    jNum(h.total);
    jLit(F_HS_CLOSE);
  }
  const o = c.synOptions;
  if (o === null) jLit(F_SYNOPT_NULL);
  else {
    jLit(K_MSS);
    if (o.mss === null) jLit(NULL_B);
    else jNum(o.mss);
    jLit(K_WS);
    if (o.windowScale === null) jLit(NULL_B);
    else jNum(o.windowScale);
    jLit(F_SYNOPT_BOOLS[(o.sackPermitted ? 1 : 0) | (o.timestamps ? 2 : 0)]!);
  }
  jNum(c.packets.client);
  jLit(K_PSERVER);
  jNum(c.packets.server);
  jLit(K_BYTES);
  jNum(c.bytes.client);
  jLit(K_PSERVER);
  jNum(c.bytes.server);
  jLit(K_FIRST);
  jNum(c.firstTs);
  jLit(K_LAST);
  jNum(c.lastTs);
  const F = c.frames;
  if (F.length === 0) jLit(F_FRAMES_EMPTY);
  else {
    jLit(F_FRAMES_OPEN);
    jNum(F[0]!);
    for (let k = 1; k < F.length; k++) {
      jRoom(1);
      jb[jp++] = 44; // ","
      jNum(F[k]!);
    }
    jLit(F_FRAMES_CLOSE);
  }
  const S = c.ladder;
  if (S.length === 0) jLit(K_EMPTY);
  else {
    jLit(K_OPEN);
    for (let k = 0; k < S.length; k++) {
      if (k > 0) jLit(K_COMMA);
      const s = S[k]!;
      jLit(K_STEP);
      jNum(s.frame);
      jLit(K_TS);
      jNum(s.ts);
      jLit(K_FROM);
      jStr(s.from);
      jLit(K_FLAGS);
      jStr(s.flags);
      jLit(K_SEQ);
      jNum(s.seq);
      jLit(K_ACK);
      jNum(s.ack);
      jLit(K_LEN);
      jNum(s.len);
      jLit(K_TTL);
      jNum(s.ttl);
      jLit(K_NOTE);
      jStrOrNull(s.note);
      jLit(K_CLOSE);
    }
    jLit(K_END);
  }
  jLit(F_TAIL[(c.ladderTruncated ? 1 : 0) | (c.evicted ? 2 : 0)]!);
}

/** The buffer's text so far, as one flat string; the buffer starts over. */
function jTake(): string {
  const t = jUtf8 ? jb.toString("utf8", 0, jp) : jb.toString("latin1", 0, jp);
  jp = 0;
  jUtf8 = false;
  return t;
}

/** JSON text of one connection, identical to JSON.stringify(connectionJson(c)). */
export function connectionJsonText(c: Connection): string {
  jp = 0;
  jUtf8 = false;
  jConnection(c);
  return jTake();
}

const NDJSON_HEAD = L('{"type":"connection",');
const NEWLINE = L("\n");

/**
 * The NDJSON line of a connection as UTF-8 bytes: the same text as
 * NdjsonReportWriter's string path. Valid until the next call (a view of a
 * reused buffer).
 */
export function connectionNdjsonBytes(c: Connection): Uint8Array {
  jp = 0;
  jUtf8 = false;
  jLit(NDJSON_HEAD);
  const start = jp;
  jConnection(c);
  // drop the object's own "{": {"type":"connection","id":...
  jb.copyWithin(start, start + 1, jp);
  jp--;
  jLit(NEWLINE);
  return jb.subarray(0, jp);
}

/** `head` (ASCII) followed by connectionJsonText(c), as one string. */
function connectionJsonTextAfter(head: Lit, c: Connection): string {
  jp = 0;
  jUtf8 = false;
  jLit(head);
  jConnection(c);
  return jTake();
}

function percentiles(p: Percentiles | null) {
  if (!p) return null;
  return { count: p.count, min: p.min, p50: p.p50, p90: p.p90, p99: p.p99, max: p.max } satisfies Record<keyof Percentiles, unknown>;
}

export function destinationJson(d: Destination) {
  const outcomes = {} as Record<Outcome, number>;
  for (const o of OUTCOMES) outcomes[o] = d.outcomes[o] ?? 0;
  return {
    server: endpoint(d.server),
    attempts: d.attempts,
    clients: d.clients,
    outcomes,
    retransmissions: { syn: d.retransmissions.syn, synAck: d.retransmissions.synAck, data: d.retransmissions.data },
    rttMs: { synToSynAck: percentiles(d.rttMs.synToSynAck), total: percentiles(d.rttMs.total) },
    diagnosis: d.diagnosis,
    summary: d.summary,
  } satisfies Record<keyof Destination, unknown>;
}

export function findingJson(f: Finding) {
  return {
    kind: f.kind,
    severity: f.severity,
    server: f.server ? endpoint(f.server) : null,
    connections: f.connections,
    title: f.title,
    detail: f.detail,
    whoCanFix: f.whoCanFix,
    exampleConnections: f.exampleConnections,
    frames: f.frames,
  } satisfies Record<keyof Finding, unknown>;
}

function readStop(s: ReadStop) {
  return { file: s.file, record: s.record, offset: s.offset, reason: s.reason } satisfies Record<keyof ReadStop, unknown>;
}

export function sourceJson(s: SourceSummary) {
  return {
    files: s.files,
    interface: s.interface,
    filter: s.filter,
    packets: s.packets,
    tcpPackets: s.tcpPackets,
    icmpUnreachable: s.icmpUnreachable,
    bytes: s.bytes,
    firstTs: s.firstTs,
    lastTs: s.lastTs,
    durationS: s.durationS,
    linkTypes: s.linkTypes.map((l) => ({ linkType: l.linkType, name: l.name, packets: l.packets })),
    skipped: s.skipped.map((x) => ({ reason: x.reason, packets: x.packets })),
    truncated: s.truncated,
    duplicates: s.duplicates,
    stopped: s.stopped.map(readStop),
    kernel: s.kernel ? { received: s.kernel.received, dropped: s.kernel.dropped, ifDropped: s.kernel.ifDropped } : null,
  } satisfies Record<keyof SourceSummary, unknown>;
}

export function flowTableJson(f: FlowTableStats) {
  return { maxFlows: f.maxFlows, peak: f.peak, evicted: f.evicted } satisfies Record<keyof FlowTableStats, unknown>;
}

/** Everything after `connections`, in output order (shared with the NDJSON summary line). */
export function summaryJson(r: Report) {
  return {
    destinations: r.destinations.map(destinationJson),
    findings: r.findings.map(findingJson),
    source: sourceJson(r.source),
    flowTable: flowTableJson(r.flowTable),
    options: { synTimeoutS: r.options.synTimeoutS, maxFlows: r.options.maxFlows },
    tool: { name: r.tool.name, version: r.tool.version },
  };
}

// ---------------------------------------------------------------- the writer

/**
 * `head`, then summaryJson(report)'s members and the closing brace, then a
 * newline: the same bytes as head + JSON.stringify(summaryJson(report)).slice(1)
 * + "\n", with the destinations written one by one in pieces of ~64 KB (a
 * scan has up to 100 000 of them: one JSON.stringify of the whole summary held
 * ~200 MB).
 */
export function writeSummary(write: (chunk: string) => void, head: string, report: Report): void {
  let out = head + '"destinations":[';
  const ds = report.destinations;
  for (let i = 0; i < ds.length; i++) {
    if (i > 0) out += ",";
    out += JSON.stringify(destinationJson(ds[i]!));
    if (out.length >= 1 << 16) {
      write(out);
      out = "";
    }
  }
  // {"destinations":[],"findings":...}: the members after the destinations
  const rest = JSON.stringify(summaryJson({ ...report, destinations: [] }));
  write(out + "]" + rest.slice('{"destinations":[]'.length) + "\n");
}

function indentAfterFirst(s: string, pad: string): string {
  return s.replace(/\n/g, "\n" + pad);
}

/**
 * Streams one JSON document to `write`. Call `connection()` for each finished
 * connection, then `end()` once with the final report. Nothing is kept between
 * calls but a counter, so memory does not grow with the capture.
 *
 * Library use: `end(report)` alone writes `report.connections` when no
 * connection was streamed.
 */
export class JsonReportWriter {
  private readonly write: (chunk: string) => void;
  private readonly pretty: boolean;
  private count = 0;
  private ended = false;
  private readonly writeBytes: ((chunk: Uint8Array) => void) | null;
  /** batch: connection bytes not yet handed to `write` (null = write each connection at once). */
  private pend: Buffer | null = null;
  private pendDv: DataView | null = null;
  private pendN = 0;
  private pendUtf8 = false;

  /**
   * `batch`: hand connections to `write` in chunks of about 64 KB instead of
   * one string per connection (fewer, larger strings for a writer that only
   * buffers them anyway; flushPending() or end() writes the rest).
   * `writeBytes`: batch mode hands its chunks over as bytes (valid during the
   * call) instead of strings: no text round trip for 100+ MB of JSON.
   */
  constructor(
    write: (chunk: string) => void,
    opts: { pretty?: boolean; batch?: boolean; writeBytes?: (chunk: Uint8Array) => void } = {},
  ) {
    this.write = write;
    this.writeBytes = opts.writeBytes ?? null;
    this.pretty = opts.pretty === true;
    if (opts.batch === true && !this.pretty) {
      this.pend = Buffer.allocUnsafe(PEND_BYTES * 2);
      this.pendDv = new DataView(this.pend.buffer, this.pend.byteOffset, this.pend.length);
    }
  }

  /** batch mode: write what is pending now. */
  flushPending(): void {
    const P = this.pend;
    if (P === null || this.pendN === 0) return;
    if (this.writeBytes !== null) {
      const n = this.pendN;
      this.pendN = 0;
      this.pendUtf8 = false;
      this.writeBytes(P.subarray(0, n));
      return;
    }
    const t = this.pendUtf8 ? P.toString("utf8", 0, this.pendN) : P.toString("latin1", 0, this.pendN);
    this.pendN = 0;
    this.pendUtf8 = false;
    this.write(t);
  }

  connection(c: Connection): void {
    if (this.ended) throw new Error("JsonReportWriter: connection() after end()");
    if (this.pretty) {
      const json = connectionJson(c);
      const head = this.count === 0 ? '{\n  "connections": [\n    ' : ",\n    ";
      this.write(head + indentAfterFirst(JSON.stringify(json, null, 2), "    "));
    } else if (this.pend !== null) {
      // Serialize straight into the pending buffer (no copy): it is the
      // serializer's buffer for this one connection.
      const own = jb;
      const ownDv = jdv;
      setJb(this.pend, this.pendDv!);
      jp = this.pendN;
      jUtf8 = false;
      jLit(this.count === 0 ? HEAD_FIRST : K_COMMA);
      jConnection(c);
      if (jb !== this.pend) {
        // grown: the connection did not fit
        this.pend = jb;
        this.pendDv = jdv;
      }
      this.pendN = jp;
      if (jUtf8) this.pendUtf8 = true;
      setJb(own, ownDv);
      jp = 0;
      jUtf8 = false;
      if (this.pendN >= PEND_BYTES) this.flushPending();
    } else {
      this.write(connectionJsonTextAfter(this.count === 0 ? HEAD_FIRST : K_COMMA, c));
    }
    this.count++;
  }

  /** Connections written so far. */
  get connections(): number {
    return this.count;
  }

  /**
   * `count` connections already as text (flows/native.ts
   * NativeConnectionText: each after "," or, the first, after the head).
   * Needs the writeBytes option (the writer thread's).
   */
  connectionsBytes(bytes: Uint8Array, count: number): void {
    if (this.ended) throw new Error("JsonReportWriter: connectionsBytes() after end()");
    if (this.writeBytes === null || this.pretty) throw new Error("JsonReportWriter: connectionsBytes() needs writeBytes and no pretty");
    this.flushPending();
    this.writeBytes(bytes);
    this.count += count;
  }

  end(report: Report): void {
    if (this.ended) return;
    if (this.count === 0) for (const c of report.connections) this.connection(c);
    this.flushPending();
    this.ended = true;
    if (this.pretty) {
      const rest = summaryJson(report);
      let out = this.count === 0 ? '{\n  "connections": []' : "\n  ]";
      for (const [k, v] of Object.entries(rest)) {
        out += `,\n  ${JSON.stringify(k)}: ${indentAfterFirst(JSON.stringify(v, null, 2), "  ")}`;
      }
      this.write(out + "\n}\n");
    } else {
      writeSummary(this.write, (this.count === 0 ? '{"connections":[]' : "]") + ",", report);
    }
  }
}

/** batch mode: pending connection bytes are written once they reach this. */
const PEND_BYTES = 1 << 16;

/** The whole JSON report as one string (library use; the CLI streams). */
export function renderJson(report: Report, opts: { pretty?: boolean } = {}): string {
  const chunks: string[] = [];
  const w = new JsonReportWriter((s) => chunks.push(s), opts);
  w.end(report);
  return chunks.join("");
}

// Connections across threads: see flows/codec.ts.
export { ConnectionDecoder, ConnectionEncoder, type ConnectionBatch } from "../flows/codec.js";
