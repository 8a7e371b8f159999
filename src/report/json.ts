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
// connectionJsonText(c) === JSON.stringify(connectionJson(c)), built by string
// concatenation: on a big capture the generic object-then-stringify path was
// the single largest cost of `--format json` (a temporary object tree per
// connection, then a generic walk over it). The key order is the same as
// connectionJson's (pinned by a test that compares the two).

/** A number as JSON.stringify writes it (non-finite -> null). */
function n(v: number): string {
  return Number.isFinite(v) ? "" + v : "null";
}

/** Strings the tracker produces (addresses, flags, notes) need no escaping; anything else goes through JSON.stringify. */
function str(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const ch = v.charCodeAt(i);
    if (ch < 0x20 || ch === 0x22 || ch === 0x5c || ch > 0x7e) return JSON.stringify(v);
  }
  return '"' + v + '"';
}

function strOrNull(v: string | null): string {
  return v === null ? "null" : str(v);
}

function numArray(a: readonly number[]): string {
  if (a.length === 0) return "[]";
  let t = "[" + n(a[0]!);
  for (let i = 1; i < a.length; i++) t += "," + n(a[i]!);
  return t + "]";
}

function ladderStepText(s: LadderStep): string {
  return (
    '{"frame":' + n(s.frame) +
    ',"ts":' + n(s.ts) +
    ',"from":' + str(s.from) +
    ',"flags":' + str(s.flags) +
    ',"seq":' + n(s.seq) +
    ',"ack":' + n(s.ack) +
    ',"len":' + n(s.len) +
    ',"ttl":' + n(s.ttl) +
    ',"note":' + strOrNull(s.note) +
    "}"
  );
}

/** JSON text of one connection, identical to JSON.stringify(connectionJson(c)). */
export function connectionJsonText(c: Connection): string {
  let t =
    '{"id":' + n(c.id) +
    ',"ipVersion":' + n(c.ipVersion) +
    ',"client":{"ip":' + str(c.client.ip) + ',"port":' + n(c.client.port) +
    '},"server":{"ip":' + str(c.server.ip) + ',"port":' + n(c.server.port) +
    '},"outcome":' + str(c.outcome) +
    ',"zeekState":' + str(c.zeekState) +
    ',"syn":' + n(c.syn) +
    ',"synAck":' + n(c.synAck) +
    ',"rst":';
  const r = c.rst;
  t +=
    r === null
      ? "null"
      : '{"from":' + str(r.from) + ',"ts":' + n(r.ts) + ',"frame":' + n(r.frame) + ',"ttl":' + n(r.ttl) +
        ',"suspectedForged":' + (r.suspectedForged ? "true" : "false") + ',"forgedReason":' + strOrNull(r.forgedReason) + "}";
  const i = c.icmp;
  t +=
    ',"icmp":' +
    (i === null
      ? "null"
      : '{"type":' + n(i.type) + ',"code":' + n(i.code) + ',"from":' + str(i.from) + ',"ts":' + n(i.ts) + ',"frame":' + n(i.frame) + "}");
  const rt = c.retransmissions;
  t += ',"retransmissions":{"data":' + n(rt.data) + ',"syn":' + n(rt.syn) + ',"synAck":' + n(rt.synAck) + '},"duplicates":' + n(c.duplicates);
  const h = c.handshakeRttMs;
  t +=
    ',"handshakeRttMs":' +
    (h === null ? "null" : '{"synToSynAck":' + n(h.synToSynAck) + ',"synAckToAck":' + n(h.synAckToAck) + ',"total":' + n(h.total) + "}");
  const o = c.synOptions;
  t +=
    ',"synOptions":' +
    (o === null
      ? "null"
      : '{"mss":' + (o.mss === null ? "null" : n(o.mss)) + ',"windowScale":' + (o.windowScale === null ? "null" : n(o.windowScale)) +
        ',"sackPermitted":' + (o.sackPermitted ? "true" : "false") + ',"timestamps":' + (o.timestamps ? "true" : "false") + "}");
  t +=
    ',"packets":{"client":' + n(c.packets.client) + ',"server":' + n(c.packets.server) +
    '},"bytes":{"client":' + n(c.bytes.client) + ',"server":' + n(c.bytes.server) +
    '},"firstTs":' + n(c.firstTs) +
    ',"lastTs":' + n(c.lastTs) +
    ',"frames":' + numArray(c.frames) +
    ',"ladder":';
  const L = c.ladder;
  if (L.length === 0) t += "[]";
  else {
    t += "[" + ladderStepText(L[0]!);
    for (let k = 1; k < L.length; k++) t += "," + ladderStepText(L[k]!);
    t += "]";
  }
  return t + ',"ladderTruncated":' + (c.ladderTruncated ? "true" : "false") + ',"evicted":' + (c.evicted ? "true" : "false") + "}";
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

  constructor(write: (chunk: string) => void, opts: { pretty?: boolean } = {}) {
    this.write = write;
    this.pretty = opts.pretty === true;
  }

  connection(c: Connection): void {
    if (this.ended) throw new Error("JsonReportWriter: connection() after end()");
    if (this.pretty) {
      const json = connectionJson(c);
      const head = this.count === 0 ? '{\n  "connections": [\n    ' : ",\n    ";
      this.write(head + indentAfterFirst(JSON.stringify(json, null, 2), "    "));
    } else {
      this.write((this.count === 0 ? '{"connections":[' : ",") + connectionJsonText(c));
    }
    this.count++;
  }

  end(report: Report): void {
    if (this.ended) return;
    if (this.count === 0) for (const c of report.connections) this.connection(c);
    this.ended = true;
    const rest = summaryJson(report);
    if (this.pretty) {
      let out = this.count === 0 ? '{\n  "connections": []' : "\n  ]";
      for (const [k, v] of Object.entries(rest)) {
        out += `,\n  ${JSON.stringify(k)}: ${indentAfterFirst(JSON.stringify(v, null, 2), "  ")}`;
      }
      this.write(out + "\n}\n");
    } else {
      const body = JSON.stringify(rest);
      // body is {"destinations":...}: splice it after the connections array.
      this.write((this.count === 0 ? '{"connections":[]' : "]") + "," + body.slice(1) + "\n");
    }
  }
}

/** The whole JSON report as one string (library use; the CLI streams). */
export function renderJson(report: Report, opts: { pretty?: boolean } = {}): string {
  const chunks: string[] = [];
  const w = new JsonReportWriter((s) => chunks.push(s), opts);
  w.end(report);
  return chunks.join("");
}

// ---------------------------------------------------------------- connections across threads
//
// `--threads 2` writes json/ndjson on a worker thread: the main thread encodes
// each finished connection into numbers (a Float64Array batch, transferred,
// not copied) plus a table of the strings it has not sent before; the worker
// decodes them back into identical Connection objects and serializes them with
// the same writer. Every field round-trips exactly (numbers as float64, null
// as a flag), so the output is byte-identical to the single-threaded one.

/** Strings are sent once and then referred to by number; the table restarts past this size. */
const CODEC_MAX_STRINGS = 65_536;
const NO_STRING = -1;

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
  private nums: Float64Array;
  private n = 0;
  private count = 0;
  private ids = new Map<string, number>();
  private nextStringId = 0;
  private strings: string[] = [];
  private stringBase = 0;
  private reset = false;

  constructor(initial = 1 << 15) {
    this.nums = new Float64Array(initial);
  }

  get connections(): number {
    return this.count;
  }

  get size(): number {
    return this.n;
  }

  private room(k: number): void {
    if (this.n + k <= this.nums.length) return;
    let len = this.nums.length * 2;
    while (len < this.n + k) len *= 2;
    const a = new Float64Array(len);
    a.set(this.nums.subarray(0, this.n));
    this.nums = a;
  }

  private s(v: string): number {
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

  private sn(v: string | null): number {
    return v === null ? NO_STRING : this.s(v);
  }

  /** `synAckTtl`: what the flow tracker passes along for the diagnoser (-1 = none). */
  add(c: Connection, synAckTtl = -1): void {
    const L = c.ladder;
    this.room(49 + c.frames.length + L.length * 9);
    const a = this.nums;
    let i = this.n;
    a[i++] = c.id;
    a[i++] = c.ipVersion;
    a[i++] = this.s(c.client.ip);
    a[i++] = c.client.port;
    a[i++] = this.s(c.server.ip);
    a[i++] = c.server.port;
    a[i++] = this.s(c.outcome);
    a[i++] = this.s(c.zeekState);
    a[i++] = c.syn;
    a[i++] = c.synAck;
    const r = c.rst;
    if (r === null) a[i++] = 0;
    else {
      a[i++] = 1;
      a[i++] = this.s(r.from);
      a[i++] = r.ts;
      a[i++] = r.frame;
      a[i++] = r.ttl;
      a[i++] = r.suspectedForged ? 1 : 0;
      a[i++] = this.sn(r.forgedReason);
    }
    const ic = c.icmp;
    if (ic === null) a[i++] = 0;
    else {
      a[i++] = 1;
      a[i++] = ic.type;
      a[i++] = ic.code;
      a[i++] = this.s(ic.from);
      a[i++] = ic.ts;
      a[i++] = ic.frame;
    }
    a[i++] = c.retransmissions.data;
    a[i++] = c.retransmissions.syn;
    a[i++] = c.retransmissions.synAck;
    a[i++] = c.duplicates;
    const h = c.handshakeRttMs;
    if (h === null) a[i++] = 0;
    else {
      a[i++] = 1;
      a[i++] = h.synToSynAck;
      a[i++] = h.synAckToAck;
      a[i++] = h.total;
    }
    const o = c.synOptions;
    if (o === null) a[i++] = 0;
    else {
      a[i++] = 1 | (o.mss === null ? 2 : 0) | (o.windowScale === null ? 4 : 0) | (o.sackPermitted ? 8 : 0) | (o.timestamps ? 16 : 0);
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
      a[i++] = this.s(st.from);
      a[i++] = this.s(st.flags);
      a[i++] = st.seq;
      a[i++] = st.ack;
      a[i++] = st.len;
      a[i++] = st.ttl;
      a[i++] = this.sn(st.note);
    }
    a[i++] = (c.ladderTruncated ? 1 : 0) | (c.evicted ? 2 : 0);
    a[i++] = synAckTtl;
    this.n = i;
    this.count++;
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
    this.nums = new Float64Array(this.nums.length);
    this.n = 0;
    this.count = 0;
    return b;
  }
}

export class ConnectionDecoder {
  private table: string[] = [];

  /** Calls `each` for every connection of the batch, in order. */
  decode(b: ConnectionBatch, each: (c: Connection, synAckTtl: number) => void): void {
    if (b.resetStrings) this.table = [];
    const T = this.table;
    for (let k = 0; k < b.strings.length; k++) T[b.stringBase + k] = b.strings[k]!;
    const a = b.nums;
    let i = 0;
    const str = (x: number) => T[x]!;
    const strN = (x: number) => (x === NO_STRING ? null : T[x]!);
    for (let k = 0; k < b.count; k++) {
      const id = a[i++]!;
      const ipVersion = a[i++]! as 4 | 6;
      const client = { ip: str(a[i++]!), port: a[i++]! };
      const server = { ip: str(a[i++]!), port: a[i++]! };
      const outcome = str(a[i++]!) as Outcome;
      const zeekState = str(a[i++]!);
      const syn = a[i++]!;
      const synAck = a[i++]!;
      let rst: RstInfo | null = null;
      if (a[i++] === 1) {
        rst = {
          from: str(a[i++]!) as RstInfo["from"],
          ts: a[i++]!,
          frame: a[i++]!,
          ttl: a[i++]!,
          suspectedForged: a[i++] === 1,
          forgedReason: strN(a[i++]!),
        };
      }
      let icmpInfo: IcmpInfo | null = null;
      if (a[i++] === 1) icmpInfo = { type: a[i++]!, code: a[i++]!, from: str(a[i++]!), ts: a[i++]!, frame: a[i++]! };
      const retransmissions = { data: a[i++]!, syn: a[i++]!, synAck: a[i++]! };
      const duplicates = a[i++]!;
      let handshakeRttMs: HandshakeRtt | null = null;
      if (a[i++] === 1) handshakeRttMs = { synToSynAck: a[i++]!, synAckToAck: a[i++]!, total: a[i++]! };
      let synOpts: SynOptions | null = null;
      const ob = a[i++]!;
      if (ob !== 0) {
        const mss = a[i++]!;
        const ws = a[i++]!;
        synOpts = { mss: ob & 2 ? null : mss, windowScale: ob & 4 ? null : ws, sackPermitted: (ob & 8) !== 0, timestamps: (ob & 16) !== 0 };
      }
      const packets = { client: a[i++]!, server: a[i++]! };
      const bytes = { client: a[i++]!, server: a[i++]! };
      const firstTs = a[i++]!;
      const lastTs = a[i++]!;
      const nf = a[i++]!;
      const frames: number[] = new Array<number>(nf);
      for (let j = 0; j < nf; j++) frames[j] = a[i++]!;
      const nl = a[i++]!;
      const ladder: LadderStep[] = new Array<LadderStep>(nl);
      for (let j = 0; j < nl; j++) {
        ladder[j] = {
          frame: a[i++]!,
          ts: a[i++]!,
          from: str(a[i++]!) as LadderStep["from"],
          flags: str(a[i++]!),
          seq: a[i++]!,
          ack: a[i++]!,
          len: a[i++]!,
          ttl: a[i++]!,
          note: strN(a[i++]!),
        };
      }
      const bits = a[i++]!;
      const synAckTtl = a[i++]!;
      each({
        id,
        ipVersion,
        client,
        server,
        outcome,
        zeekState,
        syn,
        synAck,
        rst,
        icmp: icmpInfo,
        retransmissions,
        duplicates,
        handshakeRttMs,
        synOptions: synOpts,
        packets,
        bytes,
        firstTs,
        lastTs,
        frames,
        ladder,
        ladderTruncated: (bits & 1) !== 0,
        evicted: (bits & 2) !== 0,
      }, synAckTtl);
    }
  }
}
