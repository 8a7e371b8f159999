/**
 * Test helpers for the decoder: byte builders for crafted packets, a way to
 * read capture files into RecordBatches, and a cached tshark runner for the
 * corpus differential test.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openCapture } from "../../src/sources/open.js";
import type { RecordBatch } from "../../src/sources/record.js";
import { tsharkCached } from "../helpers/tshark.js";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CORPUS_DIR = resolve(PROJECT_ROOT, "../shared/corpus/tcpdump");

// ------------------------------------------------------------ byte builders

/** Concatenate byte arrays / number arrays. */
/** Deterministic xorshift32, so a failure reproduces. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

export function bytes(...parts: (Uint8Array | number[])[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u16(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff];
}

export function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function ipv4Bytes(text: string): number[] {
  return text.split(".").map(Number);
}

/** Expand an IPv6 text address (test input only; supports "::"). */
export function ipv6Bytes(text: string): number[] {
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined ? (tail ? tail.split(":") : []) : [];
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}

export interface TcpOpts {
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  options?: number[];
  payload?: number;
  /** Override the data offset nibble (header length / 4). */
  dataOffset?: number;
}

export function tcpHeader(t: TcpOpts = {}): Uint8Array {
  const opts = t.options ?? [];
  const padded = [...opts];
  while (padded.length % 4 !== 0) padded.push(0);
  const off = t.dataOffset ?? 5 + padded.length / 4;
  const flags = t.flags ?? 0x002;
  return bytes(
    u16(t.srcPort ?? 40000),
    u16(t.dstPort ?? 80),
    u32(t.seq ?? 1000),
    u32(t.ack ?? 0),
    [(off << 4) | ((flags >> 8) & 1), flags & 0xff],
    u16(t.window ?? 65535),
    u16(0), // checksum (not checked)
    u16(0), // urgent pointer
    padded,
    new Array(t.payload ?? 0).fill(0x61),
  );
}

export interface Ip4Opts {
  src?: string;
  dst?: string;
  proto?: number;
  ttl?: number;
  id?: number;
  /** Flags + fragment offset field. */
  frag?: number;
  /** Options bytes (padded to 4). */
  options?: number[];
  /** Override total length. */
  totalLen?: number;
  /** Override IHL nibble. */
  ihl?: number;
  version?: number;
}

export function ipv4(payload: Uint8Array, o: Ip4Opts = {}): Uint8Array {
  const opts = [...(o.options ?? [])];
  while (opts.length % 4 !== 0) opts.push(0);
  const hl = 20 + opts.length;
  const ihl = o.ihl ?? hl / 4;
  return bytes(
    [((o.version ?? 4) << 4) | ihl, 0],
    u16(o.totalLen ?? hl + payload.length),
    u16(o.id ?? 0x1234),
    u16(o.frag ?? 0x4000),
    [o.ttl ?? 64, o.proto ?? 6],
    u16(0),
    ipv4Bytes(o.src ?? "10.0.0.1"),
    ipv4Bytes(o.dst ?? "10.0.0.2"),
    opts,
    payload,
  );
}

export interface Ip6Opts {
  src?: string;
  dst?: string;
  next?: number;
  hopLimit?: number;
  payloadLen?: number;
}

export function ipv6(payload: Uint8Array, o: Ip6Opts = {}): Uint8Array {
  return bytes(
    [0x60, 0, 0, 0],
    u16(o.payloadLen ?? payload.length),
    [o.next ?? 6, o.hopLimit ?? 64],
    ipv6Bytes(o.src ?? "2001:db8::1"),
    ipv6Bytes(o.dst ?? "2001:db8::2"),
    payload,
  );
}

/** A generic IPv6 extension header (hop-by-hop, routing, destination options) of `units` 8-byte units. */
export function ip6Ext(next: number, units = 1): Uint8Array {
  const b = new Uint8Array(units * 8);
  b[0] = next;
  b[1] = units - 1;
  // PadN over the rest so hop-by-hop/dest-opts are well formed.
  b[2] = 1;
  b[3] = units * 8 - 4;
  return b;
}

/** Ethernet II frame; `tags` are VLAN TPIDs from the outermost in (each tag gets VLAN id 100, 101, ...). */
export function ethernet(payload: Uint8Array, etherType = 0x0800, tags: number[] = []): Uint8Array {
  const types = [...tags, etherType];
  const out: number[] = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, ...u16(types[0]!)];
  for (let i = 0; i < tags.length; i++) out.push(...u16(100 + i), ...u16(types[i + 1]!));
  return bytes(out, payload);
}

// ------------------------------------------------------------ capture reading

export interface Records {
  /** Copies of every batch of the file (a batch is only valid until the next read). */
  batches: RecordBatch[];
  total: number;
  /** Why reading stopped early, if it did. */
  stopped: string | null;
}

/** Read every record of a capture file with the project's own reader. */
export async function readCapture(path: string): Promise<Records> {
  const src = await openCapture([path]);
  const batches: RecordBatch[] = [];
  let total = 0;
  try {
    for (;;) {
      const b = await src.next();
      if (b === null) break;
      batches.push(copyBatch(b));
      total += b.count;
    }
  } finally {
    await src.close();
  }
  const s = src.stopped;
  return { batches, total, stopped: s ? `record ${s.record} at byte ${s.offset}: ${s.reason}` : null };
}

function copyBatch(b: RecordBatch): RecordBatch {
  return {
    count: b.count,
    data: b.data.slice(),
    offset: b.offset.slice(0, b.count),
    capLen: b.capLen.slice(0, b.count),
    origLen: b.origLen.slice(0, b.count),
    linkType: b.linkType.slice(0, b.count),
    fcsLen: b.fcsLen.slice(0, b.count),
    tsSec: b.tsSec.slice(0, b.count),
    tsNsec: b.tsNsec.slice(0, b.count),
  };
}

// ------------------------------------------------------------ tshark

export { tsharkVersion } from "../helpers/tshark.js";

export interface TsharkFrames {
  /** frame.protocols per frame, index = frame number - 1. */
  protocols: string[];
  /** First icmp.type / icmpv6.type per frame, -1 when absent. */
  icmpType: number[];
  icmpv6Type: number[];
  exitCode: number;
  stderr: string;
}

/** Part of the cache key: change the fields and the cache refills. */
const TSHARK_FIELDS = ["frame.number", "frame.protocols", "icmp.type", "icmpv6.type"];

/** One tshark run per file (frame number + frame.protocols), cached by file hash + tshark version. */
export async function tsharkFrames(path: string): Promise<TsharkFrames> {
  const res = await tsharkCached(path, ["-T", "fields", ...TSHARK_FIELDS.flatMap((f) => ["-e", f])]);
  const protocols: string[] = [];
  const icmpType: number[] = [];
  const icmpv6Type: number[] = [];
  const firstNumber = (field: string | undefined): number => {
    const n = field ? Number(field.split(",")[0]) : NaN;
    return Number.isInteger(n) ? n : -1;
  };
  for (const line of res.stdout.split("\n")) {
    if (line === "") continue;
    const cols = line.split("\t");
    const num = Number(cols[0]);
    if (!Number.isInteger(num) || num < 1) continue;
    protocols[num - 1] = cols[1] ?? "";
    icmpType[num - 1] = firstNumber(cols[2]);
    icmpv6Type[num - 1] = firstNumber(cols[3]);
  }
  for (let i = 0; i < protocols.length; i++) {
    if (protocols[i] === undefined) {
      protocols[i] = "";
      icmpType[i] = -1;
      icmpv6Type[i] = -1;
    }
  }
  const stderr = res.stderr
    .split("\n")
    .filter((l) => l && !l.startsWith("Running as user"))
    .join("\n");
  return { protocols, icmpType, icmpv6Type, exitCode: res.code, stderr };
}

/**
 * Layers that may come before tcp in frame.protocols for the frame to count
 * as TCP ("outermost transport is TCP"): link layers, VLAN/MPLS/PPP framing,
 * IP and its extension headers. Anything else first (udp, icmp, gre, geneve,
 * ...) makes the tcp an inner one.
 */
const BEFORE_TCP = new Set([
  "eth",
  "ethertype",
  "vlan",
  "ieee8021ad",
  "sll",
  "null",
  "loop",
  "raw",
  "ip",
  "ipv6",
  "ipv6.hopopts",
  "ipv6.routing",
  "ipv6.fraghdr",
  "ipv6.dstopts",
  "ah",
  "ppp",
  "pppoes",
  "mpls",
  "chdlc",
]);

/** The outermost transport-layer protocol in frame.protocols ("" when none). */
export function tsharkOutermostTransport(protocols: string): string {
  for (const l of protocols.split(":")) {
    if (!BEFORE_TCP.has(l)) return l;
  }
  return "";
}

/** True when tshark's frame.protocols says the frame's outermost transport is TCP. */
export function tsharkIsTcp(protocols: string): boolean {
  return tsharkOutermostTransport(protocols) === "tcp";
}

/** True when tshark sees an ICMPv4 type 3 / ICMPv6 type 1 as the outermost transport. */
export function tsharkIsIcmpUnreach(ts: TsharkFrames, i: number): boolean {
  const t = tsharkOutermostTransport(ts.protocols[i]!);
  return (t === "icmp" && ts.icmpType[i] === 3) || (t === "icmpv6" && ts.icmpv6Type[i] === 1);
}
