/**
 * Hand-built packets for flow-tracker tests: fill a PacketView the way the
 * decoder would, feed it to a FlowTracker, collect the emitted connections.
 */
import { Kind, PacketView, TcpFlag } from "../../src/decode/packet.js";
import { parseAddr } from "../../src/decode/addr.js";
import { FlowTracker, type FlowTrackerOptions } from "../../src/flows/tracker.js";
import type { Connection } from "../../src/flows/connection.js";

export const T0 = 1_700_000_000;

export function flagBits(text: string): number {
  let f = 0;
  for (const part of text.split(/[,| ]+/)) {
    if (!part) continue;
    const bit = (TcpFlag as Record<string, number>)[part.toUpperCase()];
    if (bit === undefined) throw new Error(`unknown flag ${part}`);
    f |= bit;
  }
  return f;
}

function setAddr(dst: Uint32Array, text: string): number {
  const p = parseAddr(text);
  if (!p) throw new Error(`bad address ${text}`);
  dst.set(p.words);
  return p.ipVersion;
}

export interface Seg {
  /** "c" = client -> server, "s" = server -> client. */
  from: "c" | "s";
  flags: string;
  seq: number;
  ack?: number;
  len?: number;
  /** Seconds after T0. */
  t: number;
  ttl?: number;
  ipId?: number;
  win?: number;
  mss?: number;
  ws?: number;
  sackOk?: boolean;
  tsVal?: number;
}

export class Harness {
  readonly view = new PacketView();
  readonly conns: Connection[] = [];
  readonly tracker: FlowTracker;
  frame = 0;
  ipIdC = 100;
  ipIdS = 5000;

  constructor(
    readonly client = "10.0.0.1",
    readonly cport = 40000,
    readonly server = "10.0.0.5",
    readonly sport = 8080,
    opts: Partial<FlowTrackerOptions> = {},
  ) {
    this.tracker = new FlowTracker({ ...opts, onConnection: (c) => this.conns.push(c) });
  }

  /** Feed one TCP segment; returns its frame number. */
  seg(s: Seg, ports?: { cport?: number; sport?: number }): number {
    const v = this.view;
    const cport = ports?.cport ?? this.cport;
    const sport = ports?.sport ?? this.sport;
    v.kind = Kind.TCP;
    v.src.fill(0);
    v.dst.fill(0);
    const fromC = s.from === "c";
    v.ipVersion = setAddr(v.src, fromC ? this.client : this.server);
    setAddr(v.dst, fromC ? this.server : this.client);
    v.srcPort = fromC ? cport : sport;
    v.dstPort = fromC ? sport : cport;
    v.ttl = s.ttl ?? 64;
    v.ipId = v.ipVersion === 6 ? -1 : (s.ipId ?? (fromC ? this.ipIdC++ : this.ipIdS++));
    v.seq = s.seq >>> 0;
    v.ack = (s.ack ?? 0) >>> 0;
    v.flags = flagBits(s.flags);
    v.window = s.win ?? 64240;
    v.payloadLen = s.len ?? 0;
    v.tcpHeaderLen = 20;
    v.truncated = false;
    v.mss = s.mss ?? -1;
    v.windowScale = s.ws ?? -1;
    v.sackPermitted = s.sackOk ?? false;
    v.hasTimestamps = s.tsVal !== undefined;
    v.tsVal = s.tsVal ?? 0;
    v.tsEcr = 0;
    v.sackBlocks = 0;
    const frame = ++this.frame;
    const sec = Math.floor(s.t);
    this.tracker.packet(v, frame, T0 + sec, Math.round((s.t - sec) * 1e9));
    return frame;
  }

  /** Feed an ICMP destination unreachable quoting the client's SYN. */
  icmp(o: { from: string; type: number; code: number; t: number; quotedSeq?: number; ttl?: number; quotedFlags?: number }): number {
    const v = this.view;
    v.kind = Kind.ICMP_UNREACH;
    v.src.fill(0);
    v.dst.fill(0);
    v.innerSrc.fill(0);
    v.innerDst.fill(0);
    v.ipVersion = setAddr(v.src, o.from);
    setAddr(v.dst, this.client);
    v.ttl = o.ttl ?? 60;
    v.icmpType = o.type;
    v.icmpCode = o.code;
    v.innerIpVersion = setAddr(v.innerSrc, this.client);
    setAddr(v.innerDst, this.server);
    v.innerProto = 6;
    v.innerHasPorts = true;
    v.innerSrcPort = this.cport;
    v.innerDstPort = this.sport;
    v.innerHasSeq = o.quotedSeq !== undefined;
    v.innerSeq = (o.quotedSeq ?? 0) >>> 0;
    v.innerFlags = o.quotedFlags ?? -1;
    const frame = ++this.frame;
    const sec = Math.floor(o.t);
    this.tracker.packet(v, frame, T0 + sec, Math.round((o.t - sec) * 1e9));
    return frame;
  }

  finish(): Connection[] {
    this.tracker.finish();
    return this.conns;
  }

  /** A complete handshake at t, t+rtt/2, t+rtt; returns next seqs. */
  handshake(t: number, cIsn: number, sIsn: number, opts: { synRtt?: number; ackDelay?: number } = {}): void {
    const a = opts.synRtt ?? 0.001;
    const b = opts.ackDelay ?? 0.0001;
    this.seg({ from: "c", flags: "SYN", seq: cIsn, t, mss: 1460, ws: 7, sackOk: true });
    this.seg({ from: "s", flags: "SYN,ACK", seq: sIsn, ack: cIsn + 1, t: t + a });
    this.seg({ from: "c", flags: "ACK", seq: cIsn + 1, ack: sIsn + 1, t: t + a + b });
  }
}

export function only(conns: Connection[]): Connection {
  if (conns.length !== 1) throw new Error(`expected one connection, got ${conns.length}: ${conns.map((c) => c.outcome).join(", ")}`);
  return conns[0]!;
}
