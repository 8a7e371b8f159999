/**
 * decodePacket takes Ethernet / IPv4 (no options) / TCP in one straight line
 * and recognises the common TCP option layouts with a few word compares.
 * Those shortcuts must leave the PacketView exactly as the general
 * layer-by-layer decoder does (decodePacketGeneral): every field, on every
 * packet, with the view reused across packets as the pipeline reuses it.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodePacket, decodePacketGeneral } from "../../src/decode/decode.js";
import { Kind, PacketView, TcpFlag } from "../../src/decode/packet.js";
import { CORPUS_DIR, bytes, ethernet, ipv4, ipv6, readCapture, rng, tcpHeader, u32, type Records } from "./helpers.js";

/** Every own field of a view, typed arrays as plain arrays, for toEqual. */
function snapshot(v: PacketView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = ArrayBuffer.isView(x) ? Array.from(x as Uint32Array) : x;
  return out;
}

/** Decodes with both decoders into two long-lived views; returns the first difference, or null. */
class Differ {
  readonly fast = new PacketView();
  readonly general = new PacketView();
  cases = 0;
  tcp = 0;

  check(data: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number, fcsLen: number): string | null {
    const a = decodePacket(this.fast, data, offset, capLen, origLen, linkType, fcsLen);
    const b = decodePacketGeneral(this.general, data, offset, capLen, origLen, linkType, fcsLen);
    this.cases++;
    if (a === Kind.TCP) this.tcp++;
    const sa = snapshot(this.fast);
    const sb = snapshot(this.general);
    if (a !== b) return `kind ${a} vs ${b}`;
    for (const k of Object.keys(sb)) {
      if (JSON.stringify(sa[k]) !== JSON.stringify(sb[k])) return `${k}: fast ${JSON.stringify(sa[k])}, general ${JSON.stringify(sb[k])}`;
    }
    return null;
  }
}

const LINUX_SYN = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, ...u32(0x11223344), ...u32(0), 1, 3, 3, 7];
const WINDOWS_SYN = [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2];
const TS_ONLY = [1, 1, 8, 10, ...u32(0xfedcba98), ...u32(0x01020304)];
const SACK = [1, 1, 5, 10, ...u32(0x80000000), ...u32(0x80000100)];
const MAC_SYN = [2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, ...u32(7), ...u32(0), 4, 2, 0, 0];

const TEMPLATES: Uint8Array[] = [
  ethernet(ipv4(tcpHeader({ flags: TcpFlag.SYN, options: LINUX_SYN, seq: 0xfffffff0 }))),
  ethernet(ipv4(tcpHeader({ flags: TcpFlag.SYN | TcpFlag.ACK, options: WINDOWS_SYN, ack: 0x80000001 }))),
  ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK, options: TS_ONLY, payload: 30 }), { ttl: 128, id: 0xffff })),
  ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK, options: SACK }))),
  ethernet(ipv4(tcpHeader({ flags: TcpFlag.SYN, options: MAC_SYN }))),
  ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK | TcpFlag.PSH, payload: 100 }))),
  ethernet(ipv4(tcpHeader({ flags: TcpFlag.RST }), { frag: 0 })),
  ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK }), { totalLen: 0 })), // TSO
  ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK }), { options: [1, 1, 1, 1] })), // IHL 6: general path
  ethernet(ipv6(tcpHeader({ flags: TcpFlag.SYN, options: LINUX_SYN }), { hopLimit: 255 }), 0x86dd),
  ethernet(ipv6(tcpHeader({ flags: TcpFlag.ACK, options: TS_ONLY, payload: 20 }), { src: "2001:db8::ffff:1", dst: "fe80::1:2:3:4" }), 0x86dd),
  ethernet(ipv6(tcpHeader({ flags: TcpFlag.ACK }), { payloadLen: 0 }), 0x86dd), // jumbogram / GSO
  ethernet(ipv6(bytes([6, 0, 1, 4, 0, 0, 0, 0], tcpHeader({ flags: TcpFlag.SYN })), { next: 0 }), 0x86dd), // hop-by-hop: general path
  // ICMP destination unreachable quoting a SYN: fills the ICMP fields the next TCP packet must clear.
  ethernet(
    ipv4(bytes([3, 3, 0, 0], u32(0), ipv4(tcpHeader({ flags: TcpFlag.SYN }), { totalLen: 40 }).subarray(0, 28)), { proto: 1 }),
  ),
  ethernet(ipv4(bytes(new Array(8).fill(0)), { proto: 17 })), // UDP
];

/** Header bytes worth aiming at: EtherType, version/IHL, lengths, fragment, protocol / next header, data offset (IPv4 46, IPv6 66), options. */
const HOT = [12, 13, 14, 16, 17, 18, 19, 20, 21, 23, 46, 47, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67];
const INTERESTING = [0, 1, 2, 3, 4, 5, 6, 8, 10, 0x08, 0x11, 0x20, 0x2c, 0x3a, 0x3f, 0x40, 0x45, 0x46, 0x50, 0x60, 0x80, 0x86, 0xdd, 0xf0, 0xff];

describe("fast path vs general decoder", () => {
  it("mutated Ethernet/IPv4/TCP packets (and others in between) decode identically", () => {
    const d = new Differ();
    const rand = rng(0x5eed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const failures: string[] = [];
    for (let n = 0; n < 60_000 && failures.length < 5; n++) {
      const t = pick(TEMPLATES);
      const pad = 3 + Math.floor(rand() * 5);
      const buf = new Uint8Array(pad + t.length + 16).fill(0xee);
      buf.set(t, pad);
      const mutations = n % 4 === 0 ? 0 : 1 + Math.floor(rand() * 3);
      for (let m = 0; m < mutations; m++) {
        const at = rand() < 0.7 ? pick(HOT) : Math.floor(rand() * t.length);
        if (at < t.length) buf[pad + at] = rand() < 0.6 ? pick(INTERESTING) : Math.floor(rand() * 256);
      }
      let capLen = t.length;
      let origLen = t.length;
      const r = rand();
      if (r < 0.15) capLen = Math.floor(rand() * (t.length + 1)); // snap length cut
      else if (r < 0.2) origLen = Math.floor(rand() * (t.length + 1)); // lying origLen
      else if (r < 0.25) origLen = t.length + Math.floor(rand() * 3000);
      if (capLen < origLen && rand() < 0.5) origLen = Math.max(origLen, capLen + 1);
      const fcsLen = rand() < 0.05 ? pick([2, 4]) : 0;
      const why = d.check(buf, pad, capLen, origLen, 1, fcsLen);
      if (why) failures.push(`case ${n} (${Buffer.from(buf.subarray(pad, pad + t.length)).toString("hex")} cap ${capLen} orig ${origLen} fcs ${fcsLen}): ${why}`);
    }
    expect(failures).toEqual([]);
    // The mutations must leave plenty of packets on the fast path.
    expect(d.tcp).toBeGreaterThan(20_000);
  });

  const corpus = existsSync(CORPUS_DIR) ? readdirSync(CORPUS_DIR).filter((f) => /\.pcap(ng)?$/.test(f)) : [];
  it.skipIf(corpus.length === 0)("every packet of the tcpdump corpus decodes identically", async () => {
    const d = new Differ();
    const failures: string[] = [];
    for (const f of corpus) {
      let recs: Records;
      try {
        recs = await readCapture(join(CORPUS_DIR, f));
      } catch {
        continue; // unreadable files are the readers' tests
      }
      let frame = 0;
      for (const b of recs.batches) {
        for (let r = 0; r < b.count; r++) {
          frame++;
          const why = d.check(b.data, b.offset[r]!, b.capLen[r]!, b.origLen[r]!, b.linkType[r]!, b.fcsLen[r]!);
          if (why && failures.length < 10) failures.push(`${f} frame ${frame}: ${why}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(d.tcp).toBeGreaterThan(1_000);
  });
});
