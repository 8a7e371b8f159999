/**
 * `--evidence FILE.pcap`: a small capture holding only the packets of the
 * problem connections, to attach to a ticket next to the report.
 *
 * It is a second pass over the input files (the first pass decided which
 * connections are problems), so it needs readable files, not stdin (the CLI
 * spools stdin to a temporary file first).
 *
 * Which packets are written (EvidenceSelector):
 * - TCP packets whose address/port 4-tuple matches a selected connection in
 *   either direction AND whose timestamp lies in that connection's
 *   [firstTs, lastTs] (1 µs of slack for float rounding). The time window is
 *   what tells apart two connections that reused the same ports: a 4-tuple
 *   is one connection at a time, and Connection.firstTs/lastTs cover all of
 *   its packets (frame numbers are not used: `frames` is bounded and only
 *   lists the packets behind the verdict).
 * - ICMP/ICMPv6 destination-unreachable messages whose quoted header names a
 *   selected connection (quoted source/destination address and port, either
 *   direction), within [firstTs, lastTs + ICMP_GRACE_S] of it.
 *
 * Output format: packets keep their original bytes, timestamps and link
 * type. When every selected packet has one link type (the usual case) the
 * file is classic pcap (microsecond, or nanosecond when any timestamp needs
 * it). When the inputs mix link types (classic pcap has one per file) the file
 * is pcapng with one interface per link type; tshark and Wireshark read both
 * whatever the file name says.
 *
 * With an Anonymizer, every packet is rewritten as described in
 * src/report/anonymize.ts (addresses in all IP headers and ICMP quotes, MACs,
 * payload cut after the headers, checksums fixed).
 */
import { writeFileSync } from "node:fs";
import { decodePacket } from "../decode/decode.js";
import { Kind, PacketView } from "../decode/packet.js";
import type { Connection } from "../flows/connection.js";
import { openCapture } from "../sources/open.js";
import { PcapWriter } from "../sources/pcap-writer.js";
import { parseIpv4, parseIpv6, type Anonymizer } from "./anonymize.js";

/** ICMP errors can arrive after the connection's last TCP packet (a router answering the last SYN). */
export const ICMP_GRACE_S = 10;
/** Slack for timestamps that went through float seconds. */
const TS_SLACK_S = 1e-6;
/** Refuse to build an evidence file bigger than this in memory. */
export const MAX_EVIDENCE_BYTES = 512 * 1024 * 1024;

/** Decides, per decoded packet, whether it belongs to a selected connection. */
export interface EvidenceSelector {
  /** `view` is decoded (kind TCP or ICMP_UNREACH); `ts` in epoch seconds. */
  matches(view: PacketView, ts: number): boolean;
  /** Number of connections selected. */
  readonly size: number;
}

interface Entry {
  v6: boolean;
  a: Uint32Array;
  aPort: number;
  b: Uint32Array;
  bPort: number;
  first: number;
  last: number;
}

function hashEndpoint(w: ArrayLike<number>, port: number): number {
  let h = Math.imul((w[0]! ^ port) >>> 0, 0x9e3779b1);
  h = Math.imul((h ^ w[1]!) >>> 0, 0x85ebca6b);
  h = Math.imul((h ^ w[2]!) >>> 0, 0xc2b2ae35);
  h = Math.imul((h ^ w[3]!) >>> 0, 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

function sameAddr(x: Uint32Array, y: ArrayLike<number>): boolean {
  return x[0] === y[0] && x[1] === y[1] && x[2] === y[2] && x[3] === y[3];
}

function wordsOf(ip: string, v6: boolean): Uint32Array | null {
  const w = new Uint32Array(4);
  if (!v6) {
    const v = parseIpv4(ip);
    if (v < 0) return null;
    w[0] = v;
    return w;
  }
  return parseIpv6(ip, w) ? w : null;
}

/** Selector over a set of connections (address/port pair + time window each). */
export class ConnectionSelector implements EvidenceSelector {
  private readonly table = new Map<number, Entry[]>();
  size = 0;

  constructor(connections: readonly Connection[]) {
    for (const c of connections) this.add(c);
  }

  add(c: Connection): void {
    const v6 = c.ipVersion === 6;
    const a = wordsOf(c.client.ip, v6);
    const b = wordsOf(c.server.ip, v6);
    if (!a || !b) return;
    // Symmetric key: XOR of both endpoints' hashes, so either direction finds it.
    const key = (hashEndpoint(a, c.client.port) ^ hashEndpoint(b, c.server.port)) >>> 0;
    const e: Entry = { v6, a, aPort: c.client.port, b, bPort: c.server.port, first: c.firstTs, last: c.lastTs };
    const list = this.table.get(key);
    if (list) list.push(e);
    else this.table.set(key, [e]);
    this.size++;
  }

  private find(
    v6: boolean,
    s: ArrayLike<number>,
    sp: number,
    d: ArrayLike<number>,
    dp: number,
    ts: number,
    grace: number,
  ): boolean {
    const key = (hashEndpoint(s, sp) ^ hashEndpoint(d, dp)) >>> 0;
    const list = this.table.get(key);
    if (!list) return false;
    for (const e of list) {
      if (e.v6 !== v6) continue;
      if (ts < e.first - TS_SLACK_S || ts > e.last + grace + TS_SLACK_S) continue;
      if (
        (e.aPort === sp && e.bPort === dp && sameAddr(e.a, s) && sameAddr(e.b, d)) ||
        (e.aPort === dp && e.bPort === sp && sameAddr(e.a, d) && sameAddr(e.b, s))
      )
        return true;
    }
    return false;
  }

  matches(v: PacketView, ts: number): boolean {
    if (v.kind === Kind.TCP) return this.find(v.ipVersion === 6, v.src, v.srcPort, v.dst, v.dstPort, ts, 0);
    if (v.kind === Kind.ICMP_UNREACH && v.innerHasPorts && v.innerProto === 6) {
      return this.find(v.innerIpVersion === 6, v.innerSrc, v.innerSrcPort, v.innerDst, v.innerDstPort, ts, ICMP_GRACE_S);
    }
    return false;
  }
}

// ---------------------------------------------------------------- packet anonymization

const ETH_HDR = 14;
const ET_IPV4 = 0x0800;
const ET_IPV6 = 0x86dd;
const ET_VLAN = 0x8100;
const ET_QINQ = 0x88a8;
const ET_QINQ_OLD = 0x9100;

function be16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}
function be32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}
function put16(d: Uint8Array, o: number, v: number): void {
  d[o] = (v >>> 8) & 0xff;
  d[o + 1] = v & 0xff;
}
function put32(d: Uint8Array, o: number, v: number): void {
  d[o] = v >>> 24;
  d[o + 1] = (v >>> 16) & 0xff;
  d[o + 2] = (v >>> 8) & 0xff;
  d[o + 3] = v & 0xff;
}

/** One's-complement sum of d[from..to) as 16-bit big-endian words (odd tail padded with zero). */
function sum16(d: Uint8Array, from: number, to: number, acc = 0): number {
  let s = acc;
  let i = from;
  for (; i + 1 < to; i += 2) s += (d[i]! << 8) | d[i + 1]!;
  if (i < to) s += d[i]! << 8;
  return s;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** Where the first IP header starts for the link types whose headers we rewrite; -1 if unknown here. */
function firstIpOffset(d: Uint8Array, o: number, end: number, linkType: number): number {
  switch (linkType) {
    case 1: {
      let p = o + 12;
      for (let tags = 0; tags < 4 && p + 2 <= end; tags++) {
        const t = be16(d, p);
        if (t === ET_VLAN || t === ET_QINQ || t === ET_QINQ_OLD) {
          p += 4;
          continue;
        }
        return t === ET_IPV4 || t === ET_IPV6 ? p + 2 : -1;
      }
      return -1;
    }
    case 113:
      return o + 16;
    case 276:
      return o + 20;
    case 0:
    case 108:
      return o + 4;
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
      return o;
    default:
      return -1;
  }
}

/** Replace MAC addresses in the link header (Ethernet, Linux cooked v1/v2). */
function anonymizeLink(an: Anonymizer, d: Uint8Array, o: number, end: number, linkType: number): void {
  if (linkType === 1 && o + ETH_HDR <= end) {
    an.mac(d, o, d, o);
    an.mac(d, o + 6, d, o + 6);
  } else if (linkType === 113 && o + 16 <= end && be16(d, o + 4) === 6) {
    an.mac(d, o + 6, d, o + 6);
  } else if (linkType === 276 && o + 20 <= end && d[o + 11] === 6) {
    an.mac(d, o + 12, d, o + 12);
  }
}

const scratchWords = new Uint32Array(4);

/** Anonymize the two addresses of the IP header at `ip` in place; returns the header's IP version or 0. */
function anonymizeIpHeader(an: Anonymizer, d: Uint8Array, ip: number, end: number): number {
  const ver = d[ip]! >> 4;
  if (ver === 4 && ip + 20 <= end) {
    put32(d, ip + 12, an.ipv4Words(be32(d, ip + 12)));
    put32(d, ip + 16, an.ipv4Words(be32(d, ip + 16)));
    const ihl = (d[ip]! & 0x0f) << 2;
    if (ip + ihl <= end && ihl >= 20) {
      d[ip + 10] = 0;
      d[ip + 11] = 0;
      put16(d, ip + 10, ~fold(sum16(d, ip, ip + ihl)) & 0xffff);
    }
    return 4;
  }
  if (ver === 6 && ip + 40 <= end) {
    for (const at of [ip + 8, ip + 24]) {
      for (let i = 0; i < 4; i++) scratchWords[i] = be32(d, at + 4 * i);
      an.ipv6Words(scratchWords, scratchWords);
      for (let i = 0; i < 4; i++) put32(d, at + 4 * i, scratchWords[i]!);
    }
    return 6;
  }
  return 0;
}

/** Offset of the payload of the IP header at `ip` whose next protocol is 4 or 41 (IP-in-IP), or -1. */
function tunnelPayload(d: Uint8Array, ip: number, end: number): number {
  const ver = d[ip]! >> 4;
  if (ver === 4) {
    const proto = d[ip + 9];
    return proto === 4 || proto === 41 ? ip + ((d[ip]! & 0x0f) << 2) : -1;
  }
  if (ver === 6) {
    let next = d[ip + 6]!;
    let p = ip + 40;
    for (let n = 0; n < 8 && p + 2 <= end; n++) {
      if (next === 4 || next === 41) return p;
      if (next === 0 || next === 43 || next === 60) {
        const len = (d[p + 1]! + 1) << 3;
        next = d[p]!;
        p += len;
      } else if (next === 44) {
        next = d[p]!;
        p += 8;
      } else if (next === 51) {
        const len = (d[p + 1]! + 2) << 2;
        next = d[p]!;
        p += len;
      } else return -1;
    }
    return next === 4 || next === 41 ? p : -1;
  }
  return -1;
}

/** Pseudo-header sum (RFC 793 / RFC 8200 section 8.1) for the IP header at `ip`. */
function pseudoSum(d: Uint8Array, ip: number, proto: number, l4Len: number): number {
  if (d[ip]! >> 4 === 4) return sum16(d, ip + 12, ip + 20) + proto + (l4Len & 0xffff) + Math.floor(l4Len / 0x10000);
  return sum16(d, ip + 8, ip + 40) + (l4Len & 0xffff) + Math.floor(l4Len / 0x10000) + proto;
}

/**
 * Rewrite one decoded record in place for an anonymized evidence file
 * (see anonymize.ts for what and why). `d[o .. o+capLen)` is a private copy of
 * the record; `v` its decoded view (offsets relative to `d`).
 * Returns the new captured length; the original length is kept.
 */
export function anonymizeRecord(an: Anonymizer, v: PacketView, d: Uint8Array, o: number, capLen: number, linkType: number): number {
  const end = o + capLen;
  anonymizeLink(an, d, o, end, linkType);
  // Outer IP headers of IP-in-IP tunnels first (the view describes the innermost).
  let ip = firstIpOffset(d, o, end, linkType);
  if (ip < 0) ip = v.ipOffset;
  for (let n = 0; n < 3 && ip >= 0 && ip !== v.ipOffset && ip < v.ipOffset; n++) {
    anonymizeIpHeader(an, d, ip, end);
    ip = tunnelPayload(d, ip, end);
  }
  anonymizeIpHeader(an, d, v.ipOffset, end);
  const l4 = v.l4Offset;
  let newEnd = end;
  if (v.kind === Kind.TCP) {
    newEnd = Math.min(end, l4 + v.tcpHeaderLen);
    if (l4 + 18 <= newEnd) {
      // Checksum of the segment with its payload as zero bytes (same length): see anonymize.ts.
      d[l4 + 16] = 0;
      d[l4 + 17] = 0;
      const s = pseudoSum(d, v.ipOffset, 6, v.l4Length) + sum16(d, l4, newEnd);
      put16(d, l4 + 16, ~fold(s) & 0xffff);
    }
  } else if (v.kind === Kind.ICMP_UNREACH) {
    const inner = l4 + 8;
    newEnd = Math.min(end, inner);
    if (inner < end) {
      const innerVer = d[inner]! >> 4;
      // Old sums of the quoted addresses, for the incremental update of the quoted TCP checksum.
      const before = innerVer === 4 ? sum16(d, inner + 12, Math.min(end, inner + 20)) : sum16(d, inner + 8, Math.min(end, inner + 40));
      const iv = anonymizeIpHeader(an, d, inner, end);
      let innerL4 = -1;
      if (iv === 4) innerL4 = inner + ((d[inner]! & 0x0f) << 2);
      else if (iv === 6) innerL4 = inner + 40;
      if (innerL4 > 0) {
        // Keep the quoted IP header and up to 20 bytes of the quoted TCP header, nothing after.
        newEnd = Math.min(end, innerL4 + 20);
        // Only when the quoted TCP header follows the quoted IP header directly (no IPv6 extension headers).
        const directTcp = iv === 4 ? d[inner + 9] === 6 : d[inner + 6] === 6;
        if (directTcp && innerL4 + 18 <= newEnd) {
          const after = iv === 4 ? sum16(d, inner + 12, inner + 20) : sum16(d, inner + 8, inner + 40);
          // RFC 1624: HC' = ~(~HC + ~m + m'), summed over the changed address words.
          const hc = be16(d, innerL4 + 16);
          const s = (~hc & 0xffff) + (0xffff - fold(before)) + fold(after);
          put16(d, innerL4 + 16, ~fold(s) & 0xffff);
        }
      } else newEnd = Math.min(end, inner);
    }
    if (l4 + 4 <= newEnd) {
      d[l4 + 2] = 0;
      d[l4 + 3] = 0;
      let s = sum16(d, l4, newEnd);
      if (v.ipVersion === 6) s += pseudoSum(d, v.ipOffset, 58, v.l4Length);
      put16(d, l4 + 2, ~fold(s) & 0xffff);
    }
  }
  return newEnd - o;
}

// ---------------------------------------------------------------- writing

interface Kept {
  data: Uint8Array;
  origLen: number;
  linkType: number;
  fcsLen: number;
  tsSec: number;
  tsNsec: number;
}

/** A minimal pcapng writer (SHB, one IDB per link type, EPBs) for inputs that mix link types. */
function pcapngBytes(records: readonly Kept[], nano: boolean): Uint8Array {
  const ifaces = new Map<string, number>();
  const parts: Buffer[] = [];
  const shb = Buffer.alloc(28);
  shb.writeUInt32LE(0x0a0d0d0a, 0);
  shb.writeUInt32LE(28, 4);
  shb.writeUInt32LE(0x1a2b3c4d, 8);
  shb.writeUInt16LE(1, 12);
  shb.writeUInt16LE(0, 14);
  shb.writeBigInt64LE(-1n, 16); // section length unknown
  shb.writeUInt32LE(28, 24);
  parts.push(shb);
  const idb = (linkType: number, fcsLen: number) => {
    // Options: if_tsresol (9) = 9 (ns) or 6 (µs); if_fcslen (13) when the link carries an FCS.
    const opts: Buffer[] = [];
    const tsres = Buffer.alloc(8);
    tsres.writeUInt16LE(9, 0);
    tsres.writeUInt16LE(1, 2);
    tsres.writeUInt8(nano ? 9 : 6, 4);
    opts.push(tsres);
    if (fcsLen) {
      const f = Buffer.alloc(8);
      f.writeUInt16LE(13, 0);
      f.writeUInt16LE(1, 2);
      f.writeUInt8(fcsLen, 4);
      opts.push(f);
    }
    opts.push(Buffer.alloc(4)); // opt_endofopt
    const body = Buffer.concat(opts);
    const len = 16 + body.length + 4;
    const b = Buffer.alloc(len);
    b.writeUInt32LE(1, 0);
    b.writeUInt32LE(len, 4);
    b.writeUInt16LE(linkType, 8);
    b.writeUInt16LE(0, 10);
    b.writeUInt32LE(0, 12); // snaplen: no limit
    body.copy(b, 16);
    b.writeUInt32LE(len, len - 4);
    parts.push(b);
  };
  for (const r of records) {
    const k = `${r.linkType}/${r.fcsLen}`;
    let id = ifaces.get(k);
    if (id === undefined) {
      id = ifaces.size;
      ifaces.set(k, id);
      idb(r.linkType, r.fcsLen);
    }
    const cap = r.data.length;
    const padded = (cap + 3) & ~3;
    const len = 28 + padded + 4;
    const b = Buffer.alloc(len);
    b.writeUInt32LE(6, 0);
    b.writeUInt32LE(len, 4);
    b.writeUInt32LE(id, 8);
    const units = BigInt(Math.floor(r.tsSec)) * (nano ? 1_000_000_000n : 1_000_000n) + BigInt(nano ? r.tsNsec : Math.floor(r.tsNsec / 1000));
    b.writeUInt32LE(Number(units >> 32n) >>> 0, 12);
    b.writeUInt32LE(Number(units & 0xffffffffn) >>> 0, 16);
    b.writeUInt32LE(cap, 20);
    b.writeUInt32LE(r.origLen, 24);
    b.set(r.data, 28);
    b.writeUInt32LE(len, len - 4);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** A one-line, user-facing failure of --evidence (bad output path, too large). */
export class EvidenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EvidenceError";
  }
}

export interface EvidenceResult {
  packets: number;
  /** "pcap" normally; "pcapng" when the selected packets have more than one link type. */
  format: "pcap" | "pcapng";
  /** Link types written. */
  linkTypes: number[];
}

/**
 * Second pass: read `inputs` again and write the packets `select` picks to
 * `out` (see the module doc for format and selection rules). Input errors
 * (InputError) propagate; a damaged file part-way stops at the damage as the
 * first pass did.
 */
export async function writeEvidence(opts: {
  inputs: string[];
  out: string;
  select: EvidenceSelector;
  anonymizer?: Anonymizer | null;
}): Promise<EvidenceResult> {
  const source = await openCapture(opts.inputs);
  const view = new PacketView();
  const kept: Kept[] = [];
  let keptBytes = 0;
  let nano = false;
  const an = opts.anonymizer ?? null;
  try {
    for (;;) {
      const batch = await source.next();
      if (!batch) break;
      for (let i = 0; i < batch.count; i++) {
        const off = batch.offset[i]!;
        const cap = batch.capLen[i]!;
        const orig = batch.origLen[i]!;
        const lt = batch.linkType[i]!;
        const fcs = batch.fcsLen[i]!;
        const kind = decodePacket(view, batch.data, off, cap, orig, lt, fcs);
        if (kind !== Kind.TCP && kind !== Kind.ICMP_UNREACH) continue;
        const ts = batch.tsSec[i]! + batch.tsNsec[i]! / 1e9;
        if (!opts.select.matches(view, ts)) continue;
        // Selected packets are few: a copy each is fine here.
        let data = new Uint8Array(cap);
        data.set(batch.data.subarray(off, off + cap));
        let origLen = orig;
        let fcsLen = fcs;
        if (an) {
          // Decode the private copy so the view's offsets point into it.
          decodePacket(view, data, 0, cap, orig, lt, fcs);
          const newCap = anonymizeRecord(an, view, data, 0, cap, lt);
          data = data.subarray(0, newCap);
          // The FCS (if any) was cut with the payload: write the frame as having none.
          if (fcsLen) {
            origLen = Math.max(newCap, origLen - fcsLen);
            fcsLen = 0;
          }
        }
        keptBytes += data.length + 16;
        if (keptBytes > MAX_EVIDENCE_BYTES) {
          throw new EvidenceError(`${opts.out}: evidence would exceed ${MAX_EVIDENCE_BYTES / (1024 * 1024)} MiB; narrow the capture or use --anonymize (payload removed)`);
        }
        if (batch.tsNsec[i]! % 1000 !== 0) nano = true;
        kept.push({ data, origLen, linkType: lt, fcsLen, tsSec: batch.tsSec[i]!, tsNsec: batch.tsNsec[i]! });
      }
    }
  } finally {
    await source.close();
  }
  const kinds = new Map<string, { linkType: number; fcsLen: number }>();
  for (const k of kept) kinds.set(`${k.linkType}/${k.fcsLen}`, { linkType: k.linkType, fcsLen: k.fcsLen });
  const linkTypes = [...new Set([...kinds.values()].map((k) => k.linkType))];
  try {
    if (kinds.size > 1) {
      writeFileSync(opts.out, pcapngBytes(kept, nano));
      return { packets: kept.length, format: "pcapng", linkTypes };
    }
    const only = kinds.values().next().value ?? { linkType: 1, fcsLen: 0 };
    const snapLen = kept.reduce((m, k) => Math.max(m, k.data.length), 0);
    const w = PcapWriter.create(opts.out, { linkType: only.linkType, fcsLen: only.fcsLen, nano, snapLen: Math.max(snapLen, 65535) });
    try {
      for (const k of kept) w.write(k.data, 0, k.data.length, k.origLen, k.tsSec, k.tsNsec);
    } finally {
      w.close();
    }
    return { packets: kept.length, format: "pcap", linkTypes };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code) throw new EvidenceError(`${opts.out}: cannot write the evidence file (${err.code}: ${err.message.replace(/^[A-Z]+: /, "")})`);
    throw e;
  }
}

/** The selector for a report's problem connections (the CLI collects them while streaming). */
export function selectorFor(connections: readonly Connection[]): ConnectionSelector {
  return new ConnectionSelector(connections);
}
