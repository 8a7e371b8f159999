/**
 * Builds small, fully valid captures (correct IP/TCP/ICMP checksums) for the
 * evidence tests, so every byte and every expected packet is known.
 */
import { isIPv4 } from "node:net";
import { parseIpv4, parseIpv6 } from "../../src/report/anonymize.js";

export interface Pkt {
  ts: number; // seconds (µs precision used)
  bytes: Uint8Array; // from the IP header on
}

function addrBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) {
    const v = parseIpv4(ip);
    return new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
  }
  const w = new Uint32Array(4);
  if (!parseIpv6(ip, w)) throw new Error("bad ip " + ip);
  const b = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    b[4 * i] = w[i]! >>> 24;
    b[4 * i + 1] = (w[i]! >>> 16) & 0xff;
    b[4 * i + 2] = (w[i]! >>> 8) & 0xff;
    b[4 * i + 3] = w[i]! & 0xff;
  }
  return b;
}
export { addrBytes };

function csum(bufs: Uint8Array[]): number {
  let s = 0;
  for (const b of bufs) {
    for (let i = 0; i + 1 < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!;
    if (b.length & 1) s += b[b.length - 1]! << 8;
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function pseudo(src: Uint8Array, dst: Uint8Array, proto: number, len: number): Uint8Array {
  if (src.length === 4) {
    const p = new Uint8Array(12);
    p.set(src, 0);
    p.set(dst, 4);
    p[9] = proto;
    p[10] = len >> 8;
    p[11] = len & 0xff;
    return p;
  }
  const p = new Uint8Array(40);
  p.set(src, 0);
  p.set(dst, 16);
  p[34] = len >> 8;
  p[35] = len & 0xff;
  p[39] = proto;
  return p;
}

function ipHeader(src: Uint8Array, dst: Uint8Array, proto: number, payloadLen: number, ttl: number, id: number): Uint8Array {
  if (src.length === 4) {
    const h = new Uint8Array(20);
    h[0] = 0x45;
    const tl = 20 + payloadLen;
    h[2] = tl >> 8;
    h[3] = tl & 0xff;
    h[4] = id >> 8;
    h[5] = id & 0xff;
    h[6] = 0x40; // DF
    h[8] = ttl;
    h[9] = proto;
    h.set(src, 12);
    h.set(dst, 16);
    const c = csum([h]);
    h[10] = c >> 8;
    h[11] = c & 0xff;
    return h;
  }
  const h = new Uint8Array(40);
  h[0] = 0x60;
  h[4] = payloadLen >> 8;
  h[5] = payloadLen & 0xff;
  h[6] = proto === 1 ? 58 : proto;
  h[7] = ttl;
  h.set(src, 8);
  h.set(dst, 24);
  return h;
}

const FLAG: Record<string, number> = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 };

export function tcp(o: {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  flags: string;
  seq: number;
  ack?: number;
  payload?: string;
  ttl?: number;
  id?: number;
}): Uint8Array {
  const s = addrBytes(o.src);
  const d = addrBytes(o.dst);
  const syn = o.flags.includes("SYN");
  const optLen = syn ? 4 : 0; // MSS option on SYNs
  const payload = new TextEncoder().encode(o.payload ?? "");
  const t = new Uint8Array(20 + optLen + payload.length);
  t[0] = o.sport >> 8;
  t[1] = o.sport & 0xff;
  t[2] = o.dport >> 8;
  t[3] = o.dport & 0xff;
  new DataView(t.buffer).setUint32(4, o.seq >>> 0);
  new DataView(t.buffer).setUint32(8, (o.ack ?? 0) >>> 0);
  t[12] = ((20 + optLen) / 4) << 4;
  t[13] = o.flags.split(",").reduce((m, f) => m | FLAG[f]!, 0);
  t[14] = 0xfa;
  t[15] = 0xf0;
  if (syn) t.set([2, 4, 0x05, 0xb4], 20);
  t.set(payload, 20 + optLen);
  const c = csum([pseudo(s, d, 6, t.length), t]);
  t[16] = c >> 8;
  t[17] = c & 0xff;
  const ip = ipHeader(s, d, 6, t.length, o.ttl ?? 64, o.id ?? 1);
  const out = new Uint8Array(ip.length + t.length);
  out.set(ip);
  out.set(t, ip.length);
  return out;
}

/** ICMP (v4 type 3 / v6 type 1) destination unreachable from `from` quoting `quoted` (an IP packet). */
export function icmpUnreach(from: string, to: string, code: number, quoted: Uint8Array, quoteLen: number): Uint8Array {
  const s = addrBytes(from);
  const d = addrBytes(to);
  const v6 = s.length === 16;
  const q = quoted.subarray(0, Math.min(quoteLen, quoted.length));
  const m = new Uint8Array(8 + q.length);
  m[0] = v6 ? 1 : 3;
  m[1] = code;
  m.set(q, 8);
  const c = v6 ? csum([pseudo(s, d, 58, m.length), m]) : csum([m]);
  m[2] = c >> 8;
  m[3] = c & 0xff;
  const ip = ipHeader(s, d, v6 ? 58 : 1, m.length, 250, 7);
  const out = new Uint8Array(ip.length + m.length);
  out.set(ip);
  out.set(m, ip.length);
  return out;
}

export const MAC_CLIENT = new Uint8Array([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0x01]);
export const MAC_ROUTER = new Uint8Array([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0x02]);

/** Ethernet frame around an IP packet; direction decides which MAC is the source. */
export function ether(ip: Uint8Array, fromClient: boolean): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  f.set(fromClient ? MAC_ROUTER : MAC_CLIENT, 0);
  f.set(fromClient ? MAC_CLIENT : MAC_ROUTER, 6);
  const v6 = ip[0]! >> 4 === 6;
  f[12] = v6 ? 0x86 : 0x08;
  f[13] = v6 ? 0xdd : 0x00;
  f.set(ip, 14);
  return f;
}

/** Classic little-endian microsecond pcap. */
export function pcapFile(linkType: number, frames: { ts: number; data: Uint8Array }[]): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(linkType, 20);
  parts.push(h);
  for (const f of frames) {
    const r = Buffer.alloc(16);
    const sec = Math.floor(f.ts);
    r.writeUInt32LE(sec, 0);
    r.writeUInt32LE(Math.round((f.ts - sec) * 1e6), 4);
    r.writeUInt32LE(f.data.length, 8);
    r.writeUInt32LE(f.data.length, 12);
    parts.push(r, Buffer.from(f.data));
  }
  return Buffer.concat(parts);
}

export const T = 1_700_000_000;

/** The scenario: 3 problem connections (refused, ICMPv6-rejected, ICMP-rejected), 1 healthy with payload, 1 port reuse. */
export function scenario(): { ts: number; data: Uint8Array }[] {
  const f: { ts: number; data: Uint8Array }[] = [];
  const add = (t: number, ip: Uint8Array, fromClient: boolean) => f.push({ ts: T + t, data: ether(ip, fromClient) });
  // A: refused.
  add(1.0, tcp({ src: "10.1.1.1", sport: 40000, dst: "10.2.2.2", dport: 5432, flags: "SYN", seq: 1000 }), true);
  add(1.0004, tcp({ src: "10.2.2.2", sport: 5432, dst: "10.1.1.1", dport: 40000, flags: "RST,ACK", seq: 0, ack: 1001, ttl: 61 }), false);
  // B: healthy, with a payload that must never appear in anonymized evidence.
  add(2.0, tcp({ src: "10.1.1.1", sport: 40001, dst: "10.2.2.3", dport: 80, flags: "SYN", seq: 5000 }), true);
  add(2.001, tcp({ src: "10.2.2.3", sport: 80, dst: "10.1.1.1", dport: 40001, flags: "SYN,ACK", seq: 9000, ack: 5001 }), false);
  add(2.002, tcp({ src: "10.1.1.1", sport: 40001, dst: "10.2.2.3", dport: 80, flags: "ACK", seq: 5001, ack: 9001 }), true);
  add(2.003, tcp({ src: "10.1.1.1", sport: 40001, dst: "10.2.2.3", dport: 80, flags: "PSH,ACK", seq: 5001, ack: 9001, payload: "GET /secret-path HTTP/1.1\r\n\r\n" }), true);
  // C: IPv6 SYN rejected by ICMPv6 from a router.
  const synC = tcp({ src: "2001:db8::1", sport: 40002, dst: "2001:db8:2::2", dport: 443, flags: "SYN", seq: 77 });
  add(3.0, synC, true);
  add(3.002, icmpUnreach("2001:db8:ff::1", "2001:db8::1", 1, synC, 1000), false);
  // E: IPv4 SYN rejected by ICMP 3/13, quote = IP header + 24 bytes of TCP (the whole SYN).
  const synE = tcp({ src: "10.1.1.1", sport: 40003, dst: "10.2.2.4", dport: 22, flags: "SYN", seq: 3 });
  add(4.0, synE, true);
  add(4.001, icmpUnreach("10.9.9.9", "10.1.1.1", 13, synE, 44), false);
  // D: the same ports as A, reused later by a healthy connection: not evidence.
  add(20.0, tcp({ src: "10.1.1.1", sport: 40000, dst: "10.2.2.2", dport: 5432, flags: "SYN", seq: 70000 }), true);
  add(20.001, tcp({ src: "10.2.2.2", sport: 5432, dst: "10.1.1.1", dport: 40000, flags: "SYN,ACK", seq: 1, ack: 70001 }), false);
  add(20.002, tcp({ src: "10.1.1.1", sport: 40000, dst: "10.2.2.2", dport: 5432, flags: "ACK", seq: 70001, ack: 2 }), true);
  return f;
}

