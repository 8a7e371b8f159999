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
 * numbers) is included for every connection. It is bounded by the flow tracker
 * (`ladderTruncated` says when it was cut), typically a few hundred bytes per
 * connection; it makes each connection checkable against Wireshark without the
 * capture at hand. Scripts that want less can drop it:
 * `jq 'del(.connections[].ladder)'`.
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
    const json = connectionJson(c);
    if (this.pretty) {
      const head = this.count === 0 ? '{\n  "connections": [\n    ' : ",\n    ";
      this.write(head + indentAfterFirst(JSON.stringify(json, null, 2), "    "));
    } else {
      this.write((this.count === 0 ? '{"connections":[' : ",") + JSON.stringify(json));
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
