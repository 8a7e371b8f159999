import { describe, expect, it } from "vitest";
import { decodePacket } from "../../src/decode/decode.js";
import { Kind, PacketView, TcpFlag } from "../../src/decode/packet.js";
import { bytes, ethernet, ip6Ext, ipv4, ipv6, tcpHeader, u16, u32, type TcpOpts } from "./helpers.js";

const LT_NULL = 0;
const LT_EN10MB = 1;
const LT_PPP = 9;
const LT_PPP_SERIAL = 50;
const LT_PPP_ETHER = 51;
const LT_C_HDLC = 104;
const LT_LOOP = 108;
const LT_LINUX_SLL = 113;
const LT_IPV4 = 228;
const LT_IPV6 = 229;
const LT_LINUX_SLL2 = 276;

const view = new PacketView();

function dec(pkt: Uint8Array, linkType = LT_EN10MB, opts: { capLen?: number; origLen?: number; fcsLen?: number; offset?: number } = {}): PacketView {
  // Put the packet at an offset inside a bigger buffer with junk around it, as in a real batch.
  const pad = opts.offset ?? 7;
  const buf = new Uint8Array(pad + pkt.length + 9).fill(0xee);
  buf.set(pkt, pad);
  const capLen = opts.capLen ?? pkt.length;
  const k = decodePacket(view, buf, pad, capLen, opts.origLen ?? pkt.length, linkType, opts.fcsLen ?? 0);
  expect(k).toBe(view.kind);
  return view;
}

const SYN_OPTS = [
  2, 4, 0x05, 0xb4, // MSS 1460
  4, 2, // SACK permitted
  8, 10, ...u32(0xdeadbeef), ...u32(0), // timestamps
  1, // NOP
  3, 3, 7, // window scale 7
];

function synSegment(t: TcpOpts = {}): Uint8Array {
  return tcpHeader({ srcPort: 51000, dstPort: 443, seq: 0xfffffff0, flags: TcpFlag.SYN, options: SYN_OPTS, ...t });
}

const ETH_IP4_SYN = ethernet(ipv4(synSegment(), { src: "192.0.2.1", dst: "198.51.100.7", ttl: 63, id: 0xbeef }));

describe("Ethernet / IPv4 / TCP", () => {
  it("decodes every field of a SYN with options", () => {
    const v = dec(ETH_IP4_SYN);
    expect(v.kind).toBe(Kind.TCP);
    expect(v.linkType).toBe(LT_EN10MB);
    expect(v.ipVersion).toBe(4);
    expect(v.src[0]).toBe(0xc0000201);
    expect(v.dst[0]).toBe(0xc6336407);
    expect([v.src[1], v.src[2], v.src[3], v.dst[1], v.dst[2], v.dst[3]]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(v.ttl).toBe(63);
    expect(v.ipId).toBe(0xbeef);
    expect(v.ipOffset).toBe(7 + 14);
    expect(v.l4Offset).toBe(7 + 34);
    expect(v.l4Length).toBe(40);
    expect(v.srcPort).toBe(51000);
    expect(v.dstPort).toBe(443);
    expect(v.seq).toBe(0xfffffff0); // unsigned
    expect(v.ack).toBe(0);
    expect(v.flags).toBe(TcpFlag.SYN);
    expect(v.window).toBe(65535);
    expect(v.tcpHeaderLen).toBe(40);
    expect(v.payloadLen).toBe(0);
    expect(v.truncated).toBe(false);
    expect(v.mss).toBe(1460);
    expect(v.windowScale).toBe(7);
    expect(v.sackPermitted).toBe(true);
    expect(v.hasTimestamps).toBe(true);
    expect(v.tsVal).toBe(0xdeadbeef);
    expect(v.tsEcr).toBe(0);
    expect(v.sackBlocks).toBe(0);
  });

  it("reads all flag bits including ECE, CWR and NS, and a large ack unsigned", () => {
    const all = 0x1ff;
    const v = dec(ethernet(ipv4(tcpHeader({ flags: all, ack: 0x80000001 }))));
    expect(v.flags).toBe(TcpFlag.FIN | TcpFlag.SYN | TcpFlag.RST | TcpFlag.PSH | TcpFlag.ACK | TcpFlag.URG | TcpFlag.ECE | TcpFlag.CWR | TcpFlag.NS);
    expect(v.ack).toBe(0x80000001);
    const v2 = dec(ethernet(ipv4(tcpHeader({ flags: TcpFlag.SYN | TcpFlag.ECE | TcpFlag.CWR }))));
    expect(v2.flags).toBe(0x0c2);
  });

  it("computes payloadLen from the IP length, ignoring Ethernet padding", () => {
    const seg = tcpHeader({ flags: TcpFlag.ACK, payload: 2 });
    const frame = bytes(ethernet(ipv4(seg)), new Array(20).fill(0)); // padded to 60+ bytes
    const v = dec(frame);
    expect(v.kind).toBe(Kind.TCP);
    expect(v.payloadLen).toBe(2);
    expect(v.l4Length).toBe(22);
  });

  it("uses the IP length (not the captured length) when the snap length cut the payload", () => {
    const frame = ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK | TcpFlag.PSH, payload: 1000 })));
    const v = dec(frame, LT_EN10MB, { capLen: 54 + 10, origLen: frame.length });
    expect(v.kind).toBe(Kind.TCP);
    expect(v.payloadLen).toBe(1000);
    expect(v.truncated).toBe(true);
  });

  it("treats IPv4 total length 0 as TSO and takes the length from the frame", () => {
    const frame = ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK, payload: 3000 }), { totalLen: 0 }));
    const v = dec(frame);
    expect(v.kind).toBe(Kind.TCP);
    expect(v.payloadLen).toBe(3000);
    // Also when the snap length cut it: the wire length counts.
    const v2 = dec(frame, LT_EN10MB, { capLen: 96 });
    expect(v2.kind).toBe(Kind.TCP);
    expect(v2.payloadLen).toBe(3000);
    expect(v2.truncated).toBe(true);
  });

  it("clamps an IP total length past the end of the frame, as tshark does", () => {
    const frame = ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK, payload: 4 }), { totalLen: 820 }));
    const v = dec(frame);
    expect(v.kind).toBe(Kind.TCP);
    expect(v.payloadLen).toBe(4);
  });

  it("rejects total length shorter than the header, IHL < 5 and a wrong version", () => {
    expect(dec(ethernet(ipv4(tcpHeader(), { totalLen: 19 }))).kind).toBe(Kind.SKIP_MALFORMED);
    expect(dec(ethernet(ipv4(tcpHeader(), { ihl: 4 }))).kind).toBe(Kind.SKIP_MALFORMED);
    expect(dec(ethernet(ipv4(tcpHeader(), { ihl: 0 }))).kind).toBe(Kind.SKIP_MALFORMED);
    expect(dec(ethernet(ipv4(tcpHeader(), { version: 5 }))).kind).toBe(Kind.SKIP_MALFORMED);
    // An IPv4 header with version 6 read as IPv6: next header 64 (from the fragment field), not TCP.
    expect(dec(ethernet(ipv4(tcpHeader(), { version: 6 }))).kind).toBe(Kind.SKIP_NOT_TCP);
    expect(dec(ethernet(ipv6(tcpHeader()), 0x0800)).kind).toBe(Kind.TCP);
    // Total length covers the IP header but not 20 bytes of TCP.
    expect(dec(ethernet(ipv4(tcpHeader(), { totalLen: 30 }))).kind).toBe(Kind.SKIP_MALFORMED);
  });

  it("skips IPv4 options by IHL", () => {
    const opts = [0x94, 0x04, 0, 0]; // router alert
    const v = dec(ethernet(ipv4(synSegment(), { options: opts })));
    expect(v.kind).toBe(Kind.TCP);
    expect(v.l4Offset - v.ipOffset).toBe(24);
    expect(v.mss).toBe(1460);
    const max = dec(ethernet(ipv4(synSegment(), { options: new Array(40).fill(1) })));
    expect(max.kind).toBe(Kind.TCP);
    expect(max.l4Offset - max.ipOffset).toBe(60);
    expect(max.srcPort).toBe(51000);
  });

  it("an IHL that claims more than was captured", () => {
    // IHL 15 (60 bytes) but only 20 bytes of IP + 20 of TCP: the header eats the TCP.
    const pkt = ethernet(ipv4(tcpHeader(), { ihl: 15 }));
    expect(dec(pkt).kind).toBe(Kind.SKIP_MALFORMED);
    expect(dec(pkt.subarray(0, 14 + 30)).kind).toBe(Kind.SKIP_MALFORMED);
    expect(dec(pkt.subarray(0, 14 + 30), LT_EN10MB, { origLen: 200 }).kind).toBe(Kind.SKIP_TRUNCATED);
  });

  it("skips every fragment: first with MF, middle, last", () => {
    const seg = tcpHeader({ payload: 100 });
    expect(dec(ethernet(ipv4(seg, { frag: 0x2000 }))).kind).toBe(Kind.SKIP_FRAGMENT);
    expect(dec(ethernet(ipv4(seg, { frag: 0x2000 | 100 }))).kind).toBe(Kind.SKIP_FRAGMENT);
    expect(dec(ethernet(ipv4(seg, { frag: 185 }))).kind).toBe(Kind.SKIP_FRAGMENT);
    // DF alone, or the reserved bit, is not a fragment.
    expect(dec(ethernet(ipv4(seg, { frag: 0x4000 }))).kind).toBe(Kind.TCP);
    expect(dec(ethernet(ipv4(seg, { frag: 0x8000 }))).kind).toBe(Kind.TCP);
  });

  it("leaves non-TCP protocols as SKIP_NOT_TCP", () => {
    const udp = bytes(u16(53), u16(53), u16(8), u16(0));
    expect(dec(ethernet(ipv4(udp, { proto: 17 }))).kind).toBe(Kind.SKIP_NOT_TCP);
    expect(dec(ethernet(ipv4(new Uint8Array(24), { proto: 47 }))).kind).toBe(Kind.SKIP_NOT_TCP); // GRE
    expect(dec(ethernet(ipv4(new Uint8Array(24), { proto: 50 }))).kind).toBe(Kind.SKIP_NOT_TCP); // ESP
    expect(dec(ethernet(ipv4(new Uint8Array(24), { proto: 132 }))).kind).toBe(Kind.SKIP_NOT_TCP); // SCTP
  });

  it("resets per-packet fields between packets", () => {
    dec(ETH_IP4_SYN);
    const v = dec(ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK }))));
    expect(v.kind).toBe(Kind.TCP);
    expect(v.mss).toBe(-1);
    expect(v.windowScale).toBe(-1);
    expect(v.sackPermitted).toBe(false);
    expect(v.hasTimestamps).toBe(false);
    expect(v.sackBlocks).toBe(0);
    const v6 = dec(ethernet(ipv6(tcpHeader()), 0x86dd));
    expect(v6.ipId).toBe(-1);
    const arp = dec(ethernet(new Uint8Array(28), 0x0806));
    expect(arp.kind).toBe(Kind.SKIP_NOT_IP);
    expect(arp.ipVersion).toBe(0);
    expect(arp.srcPort).toBe(0);
  });
});

describe("TCP header and options", () => {
  const tcpIn = (t: TcpOpts): PacketView => dec(ethernet(ipv4(tcpHeader(t))));

  it("reads SACK blocks (1 to 4)", () => {
    for (let n = 1; n <= 4; n++) {
      const opt = [5, 2 + 8 * n];
      for (let i = 0; i < n; i++) opt.push(...u32(0xfffffff0 + i * 100), ...u32(0xfffffff0 + i * 100 + 50));
      const v = tcpIn({ flags: TcpFlag.ACK, options: n < 4 ? [1, 1, ...opt] : opt });
      expect(v.kind).toBe(Kind.TCP);
      expect(v.sackBlocks).toBe(n);
      for (let i = 0; i < n; i++) {
        expect(v.sackEdges[2 * i]).toBe((0xfffffff0 + i * 100) >>> 0);
        expect(v.sackEdges[2 * i + 1]).toBe((0xfffffff0 + i * 100 + 50) >>> 0);
      }
    }
  });

  it("stops at EOL", () => {
    const v = tcpIn({ options: [0, 2, 4, 5, 0xb4] });
    expect(v.kind).toBe(Kind.TCP);
    expect(v.mss).toBe(-1);
  });

  it("malformed option lengths stop option parsing but keep the packet", () => {
    for (const badLen of [0, 1, 30]) {
      const v = tcpIn({ flags: TcpFlag.SYN, options: [2, 4, 0x05, 0xb4, 8, badLen, 3, 3, 7] });
      expect(v.kind).toBe(Kind.TCP);
      expect(v.flags).toBe(TcpFlag.SYN);
      expect(v.mss).toBe(1460); // parsed before the bad one
      expect(v.windowScale).toBe(-1); // after it: not parsed
      expect(v.hasTimestamps).toBe(false);
    }
    // Kind byte as the very last option byte, with no length.
    const last = tcpIn({ options: [1, 1, 1, 2] });
    expect(last.kind).toBe(Kind.TCP);
    expect(last.mss).toBe(-1);
  });

  it("skips a known option with the wrong length and goes on", () => {
    const v = tcpIn({ options: [2, 3, 0x05, 3, 3, 9, 4, 3, 0, 8, 6, 1, 2, 3, 4] });
    expect(v.kind).toBe(Kind.TCP);
    expect(v.mss).toBe(-1);
    expect(v.windowScale).toBe(9);
    expect(v.sackPermitted).toBe(false);
    expect(v.hasTimestamps).toBe(false);
  });

  it("keeps a window scale above 14 as sent", () => {
    expect(tcpIn({ options: [3, 3, 15, 0] }).windowScale).toBe(15);
  });

  it("rejects data offset < 5 and a header longer than the segment", () => {
    expect(tcpIn({ dataOffset: 4 }).kind).toBe(Kind.SKIP_MALFORMED);
    expect(tcpIn({ dataOffset: 0 }).kind).toBe(Kind.SKIP_MALFORMED);
    expect(tcpIn({ dataOffset: 15 }).kind).toBe(Kind.SKIP_MALFORMED);
  });

  it("a SYN whose options were cut by the snap length is still TCP, options parsed as far as captured", () => {
    // Old tcpdump default snaplen 68: Ethernet 14 + IP 20 + 34 bytes of a 40-byte TCP header.
    const v = dec(ETH_IP4_SYN, LT_EN10MB, { capLen: 68 });
    expect(v.kind).toBe(Kind.TCP);
    expect(v.truncated).toBe(true);
    expect(v.flags).toBe(TcpFlag.SYN);
    expect(v.tcpHeaderLen).toBe(40);
    expect(v.mss).toBe(1460);
    expect(v.sackPermitted).toBe(true);
    expect(v.hasTimestamps).toBe(false); // cut
    expect(v.windowScale).toBe(-1);
  });
});

describe("truncation at every byte boundary", () => {
  const variants: [string, Uint8Array, number, number][] = [
    ["Ethernet/IPv4/TCP", ETH_IP4_SYN, LT_EN10MB, 54],
    ["Ethernet/VLAN/IPv6/HBH/TCP", ethernet(ipv6(bytes(ip6Ext(6), synSegment()), { next: 0 }), 0x86dd, [0x8100]), LT_EN10MB, 18 + 40 + 8 + 20],
    ["SLL/IPv4/TCP", bytes(new Uint8Array(14), u16(0x0800), ipv4(synSegment())), LT_LINUX_SLL, 56],
    ["Ethernet/IPv4/ICMP", ethernet(ipv4(bytes([3, 1, 0, 0, 0, 0, 0, 0], ipv4(synSegment())), { proto: 1 })), LT_EN10MB, 14 + 20 + 8],
  ];
  for (const [name, pkt, lt, needed] of variants) {
    it(`${name}: cut by the snap length`, () => {
      for (let cut = 0; cut <= pkt.length; cut++) {
        const v = dec(pkt.subarray(0, cut), lt, { origLen: pkt.length });
        const want = cut < needed ? Kind.SKIP_TRUNCATED : v.kind;
        expect(v.kind, `cut at ${cut}`).toBe(want);
        if (cut >= needed) expect([Kind.TCP, Kind.ICMP_UNREACH]).toContain(v.kind);
        expect(v.truncated, `cut at ${cut}`).toBe(cut < pkt.length);
      }
    });
    it(`${name}: frame really that short (captured = original)`, () => {
      for (let cut = 0; cut <= pkt.length; cut++) {
        const v = dec(pkt.subarray(0, cut), lt);
        // Never TRUNCATED (nothing was cut by a snap length); short frames are malformed.
        expect(v.kind, `length ${cut}`).not.toBe(Kind.SKIP_TRUNCATED);
        if (cut < needed) expect(v.kind, `length ${cut}`).toBe(Kind.SKIP_MALFORMED);
        expect(v.truncated).toBe(false);
      }
    });
  }

  it("never throws on random bytes for any decoded link type, and on lying lengths", () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    const lts = [0, 1, 9, 12, 14, 50, 51, 101, 104, 108, 113, 228, 229, 276, 105, 999];
    const valid = new Set<number>(Object.values(Kind));
    const buf = new Uint8Array(300);
    for (let i = 0; i < 20000; i++) {
      const len = rnd() % 200;
      for (let j = 0; j < len; j++) buf[j] = rnd() & 0xff;
      // Bias towards plausible headers so deeper layers get exercised.
      if (i % 2 === 0) {
        buf[12] = 0x08;
        buf[13] = 0x00;
        buf[14] = 0x45 + (rnd() % 3);
        buf[23] = [6, 1, 4, 41][rnd() % 4]!;
      }
      const lt = lts[i % lts.length]!;
      const origLen = i % 3 === 0 ? len : rnd() % 400;
      const k = decodePacket(view, buf, 0, i % 7 === 0 ? 1000 : len, origLen, lt, i % 5 === 0 ? 4 : 0);
      expect(valid.has(k)).toBe(true);
    }
  });

  it("survives offsets and lengths outside the buffer", () => {
    const buf = ETH_IP4_SYN;
    expect(decodePacket(view, buf, 0, buf.length + 100, buf.length + 100, LT_EN10MB, 0)).toBe(Kind.TCP);
    // A record claiming bytes past the end of the buffer: those bytes were not captured.
    expect(decodePacket(view, buf, buf.length + 5, 60, 60, LT_EN10MB, 0)).toBe(Kind.SKIP_TRUNCATED);
    expect(Object.values(Kind)).toContain(decodePacket(view, buf, -3, 60, 60, LT_EN10MB, 0));
    expect(Object.values(Kind)).toContain(decodePacket(view, buf, 0, -1, -1, LT_EN10MB, -4));
    expect(decodePacket(view, buf, 0, 0, 0, LT_EN10MB, 0)).toBe(Kind.SKIP_MALFORMED);
    expect(decodePacket(view, buf, 0, 10, 2, LT_EN10MB, 4)).toBe(Kind.SKIP_MALFORMED);
  });
});

describe("VLAN, PPPoE, MPLS on Ethernet", () => {
  it("decodes any stack of 802.1Q / 802.1ad / QinQ tags", () => {
    const stacks = [[0x8100], [0x88a8, 0x8100], [0x9100, 0x8100], [0x88a8, 0x8100, 0x8100], [0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100]];
    for (const tags of stacks) {
      const v = dec(ethernet(ipv4(synSegment()), 0x0800, tags));
      expect(v.kind, tags.join(",")).toBe(Kind.TCP);
      expect(v.ipOffset).toBe(7 + 14 + 4 * tags.length);
      expect(v.mss).toBe(1460);
    }
    const v6 = dec(ethernet(ipv6(synSegment()), 0x86dd, [0x88a8, 0x8100]));
    expect(v6.kind).toBe(Kind.TCP);
    expect(v6.ipVersion).toBe(6);
  });

  it("gives up on more than 8 tags", () => {
    expect(dec(ethernet(ipv4(synSegment()), 0x0800, new Array(9).fill(0x8100))).kind).toBe(Kind.SKIP_MALFORMED);
  });

  it("a VLAN tag around ARP is not IP; an 802.3 length field is not IP", () => {
    expect(dec(ethernet(new Uint8Array(28), 0x0806, [0x8100])).kind).toBe(Kind.SKIP_NOT_IP);
    expect(dec(ethernet(bytes([0xaa, 0xaa, 0x03, 0, 0, 0, 8, 0], ipv4(synSegment())), 60)).kind).toBe(Kind.SKIP_NOT_IP);
  });

  it("PPPoE session with IPv4 and IPv6; discovery and non-IP PPP are not IP", () => {
    const pppoe = (proto: number, payload: Uint8Array, code = 0): Uint8Array => bytes([0x11, code], u16(0x1234), u16(payload.length + 2), u16(proto), payload);
    const v = dec(ethernet(pppoe(0x0021, ipv4(synSegment())), 0x8864));
    expect(v.kind).toBe(Kind.TCP);
    expect(v.ipOffset).toBe(7 + 14 + 8);
    expect(dec(ethernet(pppoe(0x0057, ipv6(synSegment())), 0x8864, [0x8100])).kind).toBe(Kind.TCP);
    expect(dec(ethernet(pppoe(0xc021, new Uint8Array(10)), 0x8864)).kind).toBe(Kind.SKIP_NOT_IP); // LCP
    expect(dec(ethernet(pppoe(0x0021, ipv4(synSegment()), 0x09), 0x8863)).kind).toBe(Kind.SKIP_NOT_IP);
    expect(dec(ethernet(pppoe(0x0021, ipv4(synSegment()), 0x09), 0x8864)).kind).toBe(Kind.SKIP_NOT_IP);
  });

  it("MPLS label stacks, then IPv4/IPv6 by the first nibble", () => {
    const label = (l: number, bottom: boolean): number[] => u32((l << 12) | (bottom ? 0x100 : 0) | 64);
    const one = dec(ethernet(bytes(label(100, true), ipv4(synSegment())), 0x8847));
    expect(one.kind).toBe(Kind.TCP);
    expect(one.ipOffset).toBe(7 + 18);
    const three = dec(ethernet(bytes(label(1, false), label(2, false), label(3, true), ipv6(synSegment())), 0x8847, [0x8100]));
    expect(three.kind).toBe(Kind.TCP);
    expect(three.ipVersion).toBe(6);
    // Pseudowire control word (first nibble 0): Ethernet over MPLS, not decoded.
    expect(dec(ethernet(bytes(label(5, true), u32(0), new Uint8Array(40)), 0x8847)).kind).toBe(Kind.SKIP_NOT_IP);
    // No bottom-of-stack bit within 16 labels.
    expect(dec(ethernet(bytes(...new Array(17).fill(label(9, false))), 0x8847)).kind).toBe(Kind.SKIP_MALFORMED);
  });
});

describe("other link types", () => {
  const ip4 = ipv4(synSegment());
  const ip6 = ipv6(synSegment());

  it("Linux SLL, including 802.1Q inside", () => {
    const sll = (proto: number, payload: Uint8Array): Uint8Array => bytes(u16(0), u16(1), u16(6), [2, 0, 0, 0, 0, 1, 0, 0], u16(proto), payload);
    const v = dec(sll(0x0800, ip4), LT_LINUX_SLL);
    expect(v.kind).toBe(Kind.TCP);
    expect(v.ipOffset).toBe(7 + 16);
    expect(dec(sll(0x86dd, ip6), LT_LINUX_SLL).kind).toBe(Kind.TCP);
    const vlan = dec(sll(0x8100, bytes(u16(42), u16(0x0800), ip4)), LT_LINUX_SLL);
    expect(vlan.kind).toBe(Kind.TCP);
    expect(vlan.ipOffset).toBe(7 + 20);
    expect(dec(sll(0x0806, new Uint8Array(28)), LT_LINUX_SLL).kind).toBe(Kind.SKIP_NOT_IP);
  });

  it("Linux SLL2", () => {
    const sll2 = (proto: number, payload: Uint8Array): Uint8Array => bytes(u16(proto), u16(0), u32(3), u16(1), [0, 6], [2, 0, 0, 0, 0, 1, 0, 0], payload);
    const v = dec(sll2(0x86dd, ip6), LT_LINUX_SLL2);
    expect(v.kind).toBe(Kind.TCP);
    expect(v.ipOffset).toBe(7 + 20);
    expect(v.ipVersion).toBe(6);
    expect(dec(sll2(0x0800, ip4), LT_LINUX_SLL2).kind).toBe(Kind.TCP);
  });

  it("raw IP (101, 12, 14) by version nibble; IPV4 (228) and IPV6 (229)", () => {
    for (const lt of [101, 12, 14]) {
      expect(dec(ip4, lt).kind).toBe(Kind.TCP);
      expect(view.ipOffset).toBe(7);
      expect(dec(ip6, lt).kind).toBe(Kind.TCP);
      expect(view.ipVersion).toBe(6);
      expect(dec(bytes([0x50], new Uint8Array(40)), lt).kind).toBe(Kind.SKIP_NOT_IP);
    }
    expect(dec(ip4, LT_IPV4).kind).toBe(Kind.TCP);
    expect(dec(ip6, LT_IPV6).kind).toBe(Kind.TCP);
    // IPv6 where IPv4 was promised: decoded as IPv6, like Wireshark; the reverse is not.
    expect(dec(ip6, LT_IPV4).kind).toBe(Kind.TCP);
    expect(view.ipVersion).toBe(6);
    expect(dec(ip4, LT_IPV6).kind).toBe(Kind.SKIP_MALFORMED);
  });

  it("BSD null / loop: AF in either byte order, every AF_INET6 value", () => {
    const le = (af: number): number[] => [af, 0, 0, 0];
    const be = (af: number): number[] => u32(af);
    for (const lt of [LT_NULL, LT_LOOP]) {
      for (const order of [le, be]) {
        const v = dec(bytes(order(2), ip4), lt);
        expect(v.kind).toBe(Kind.TCP);
        expect(v.ipOffset).toBe(7 + 4);
        for (const af of [24, 28, 30]) {
          expect(dec(bytes(order(af), ip6), lt).kind, `AF ${af}`).toBe(Kind.TCP);
          expect(view.ipVersion).toBe(6);
        }
        expect(dec(bytes(order(7), ip4), lt).kind).toBe(Kind.SKIP_NOT_IP);
      }
    }
  });

  it("PPP with and without HDLC framing, compressed protocol field, MPLS", () => {
    const v = dec(bytes([0xff, 0x03], u16(0x0021), ip4), LT_PPP);
    expect(v.kind).toBe(Kind.TCP);
    expect(v.ipOffset).toBe(7 + 4);
    expect(dec(bytes(u16(0x0021), ip4), LT_PPP).kind).toBe(Kind.TCP);
    expect(view.ipOffset).toBe(7 + 2);
    expect(dec(bytes([0x21], ip4), LT_PPP).kind).toBe(Kind.TCP);
    expect(view.ipOffset).toBe(7 + 1);
    expect(dec(bytes([0xff, 0x03], u16(0x0057), ip6), LT_PPP).kind).toBe(Kind.TCP);
    expect(dec(bytes([0xff, 0x03], u16(0x0281), u32(0x00001140), ip4), LT_PPP).kind).toBe(Kind.TCP);
    expect(dec(bytes([0xff, 0x03], u16(0xc021), new Uint8Array(20)), LT_PPP).kind).toBe(Kind.SKIP_NOT_IP);
    expect(dec(bytes([0xff, 0x03], u16(0x0021), ip4), LT_PPP_SERIAL).kind).toBe(Kind.TCP);
    // PPP_SERIAL carrying Cisco HDLC.
    expect(dec(bytes([0x0f, 0x00], u16(0x0800), ip4), LT_PPP_SERIAL).kind).toBe(Kind.TCP);
    expect(view.ipOffset).toBe(7 + 4);
    // PPPoE without Ethernet header.
    expect(dec(bytes([0x11, 0], u16(1), u16(ip4.length + 2), u16(0x0021), ip4), LT_PPP_ETHER).kind).toBe(Kind.TCP);
  });

  it("Cisco HDLC", () => {
    const v = dec(bytes([0x0f, 0x00], u16(0x0800), ip4), LT_C_HDLC);
    expect(v.kind).toBe(Kind.TCP);
    expect(v.ipOffset).toBe(7 + 4);
    expect(dec(bytes([0x8f, 0x00], u16(0x86dd), ip6), LT_C_HDLC).kind).toBe(Kind.TCP);
    expect(dec(bytes([0x8f, 0x00], u16(0x8035), new Uint8Array(20)), LT_C_HDLC).kind).toBe(Kind.SKIP_NOT_IP); // SLARP
  });

  it("anything else is SKIP_LINKTYPE", () => {
    for (const lt of [105, 127, 197, 2, 1000, 65535]) {
      expect(dec(ETH_IP4_SYN, lt).kind).toBe(Kind.SKIP_LINKTYPE);
      expect(view.linkType).toBe(lt);
    }
  });

  it("strips the FCS: only the wire bytes before it count", () => {
    const frame = bytes(ethernet(ipv4(tcpHeader({ flags: TcpFlag.ACK, payload: 6 }), { totalLen: 0 })), [0xde, 0xad, 0xbe, 0xef]);
    const v = dec(frame, LT_EN10MB, { fcsLen: 4 });
    expect(v.kind).toBe(Kind.TCP);
    expect(v.payloadLen).toBe(6); // TSO fallback sees the frame without FCS
    expect(v.truncated).toBe(false);
    // Snap length cut into the FCS only: the packet itself is complete.
    const cutFcs = dec(frame, LT_EN10MB, { fcsLen: 4, capLen: frame.length - 2 });
    expect(cutFcs.kind).toBe(Kind.TCP);
    expect(cutFcs.truncated).toBe(false);
    // Snap length cut into the packet.
    const cutPkt = dec(frame, LT_EN10MB, { fcsLen: 4, capLen: 58 });
    expect(cutPkt.kind).toBe(Kind.TCP);
    expect(cutPkt.truncated).toBe(true);
    expect(cutPkt.payloadLen).toBe(6);
    // 2-byte FCS.
    expect(dec(bytes(ETH_IP4_SYN, [1, 2]), LT_EN10MB, { fcsLen: 2 }).kind).toBe(Kind.TCP);
  });
});

describe("IPv6", () => {
  it("decodes addresses, hop limit, and the TCP segment", () => {
    const v = dec(ethernet(ipv6(synSegment(), { src: "2001:db8::1", dst: "fe80::1:2:3:4", hopLimit: 57 }), 0x86dd));
    expect(v.kind).toBe(Kind.TCP);
    expect(v.ipVersion).toBe(6);
    expect(Array.from(v.src)).toEqual([0x20010db8, 0, 0, 1]);
    expect(Array.from(v.dst)).toEqual([0xfe800000, 0, 0x00010002, 0x00030004]);
    expect(v.ttl).toBe(57);
    expect(v.ipId).toBe(-1);
    expect(v.l4Offset - v.ipOffset).toBe(40);
    expect(v.l4Length).toBe(40);
    expect(v.mss).toBe(1460);
  });

  it("walks hop-by-hop, routing, destination options, AH and atomic fragment headers", () => {
    const ah = new Uint8Array(24);
    ah[0] = 6;
    ah[1] = 4; // (4 + 2) * 4 = 24 bytes
    const frag = bytes([60, 0], u16(0), u32(7)); // atomic fragment
    const chain = bytes(ip6Ext(43), ip6Ext(44, 2), frag, ip6Ext(51, 3), ah, synSegment({ payload: 5 }));
    const v = dec(ethernet(ipv6(chain, { next: 0 }), 0x86dd));
    expect(v.kind).toBe(Kind.TCP);
    expect(v.l4Offset - v.ipOffset).toBe(40 + 8 + 16 + 8 + 24 + 24);
    expect(v.payloadLen).toBe(5);
    expect(v.l4Length).toBe(45);
    expect(v.srcPort).toBe(51000);
  });

  it("fragments (first with M, later ones) are SKIP_FRAGMENT", () => {
    const first = bytes([6, 0], u16(0x0001), u32(7), synSegment());
    expect(dec(ethernet(ipv6(first, { next: 44 }), 0x86dd)).kind).toBe(Kind.SKIP_FRAGMENT);
    const later = bytes([6, 0], u16(185 << 3), u32(7), new Uint8Array(30));
    expect(dec(ethernet(ipv6(later, { next: 44 }), 0x86dd)).kind).toBe(Kind.SKIP_FRAGMENT);
  });

  it("no next header, ESP, UDP, unknown: SKIP_NOT_TCP", () => {
    expect(dec(ethernet(ipv6(new Uint8Array(0), { next: 59 }), 0x86dd)).kind).toBe(Kind.SKIP_NOT_TCP);
    expect(dec(ethernet(ipv6(new Uint8Array(16), { next: 50 }), 0x86dd)).kind).toBe(Kind.SKIP_NOT_TCP);
    expect(dec(ethernet(ipv6(new Uint8Array(8), { next: 17 }), 0x86dd)).kind).toBe(Kind.SKIP_NOT_TCP);
    expect(dec(ethernet(ipv6(bytes(ip6Ext(17), new Uint8Array(8)), { next: 60 }), 0x86dd)).kind).toBe(Kind.SKIP_NOT_TCP);
  });

  it("bounds the extension chain and checks ext lengths", () => {
    const many: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) many.push(ip6Ext(60));
    many.push(synSegment());
    expect(dec(ethernet(ipv6(bytes(...many), { next: 60 }), 0x86dd)).kind).toBe(Kind.SKIP_MALFORMED);
    // Extension header that claims to run past the payload.
    const bad = ip6Ext(6);
    bad[1] = 200;
    expect(dec(ethernet(ipv6(bytes(bad, synSegment()), { next: 0 }), 0x86dd)).kind).toBe(Kind.SKIP_MALFORMED);
    // ...and the same cut by the snap length before the header ends.
    const pkt = ethernet(ipv6(bytes(ip6Ext(6, 4), synSegment()), { next: 0 }), 0x86dd);
    expect(dec(pkt, LT_EN10MB, { capLen: 14 + 40 + 10 }).kind).toBe(Kind.SKIP_TRUNCATED);
  });

  it("payload length 0 (jumbogram / GSO): the frame gives the length", () => {
    const v = dec(ethernet(ipv6(tcpHeader({ flags: TcpFlag.ACK, payload: 70 }), { payloadLen: 0 }), 0x86dd));
    expect(v.kind).toBe(Kind.TCP);
    expect(v.payloadLen).toBe(70);
  });

  it("payload length past the frame is clamped to the frame", () => {
    const v = dec(ethernet(ipv6(tcpHeader({ flags: TcpFlag.ACK, payload: 3 }), { payloadLen: 1400 }), 0x86dd));
    expect(v.kind).toBe(Kind.TCP);
    expect(v.payloadLen).toBe(3);
  });
});

describe("IP in IP", () => {
  it("decodes TCP inside IPv4-in-IPv4 and IPv6-in-IPv4 (no outer transport), with inner addresses", () => {
    const inner = ipv4(synSegment(), { src: "10.9.9.9", dst: "10.8.8.8", ttl: 12 });
    const v = dec(ethernet(ipv4(inner, { proto: 4, src: "192.0.2.1", dst: "192.0.2.2" })));
    expect(v.kind).toBe(Kind.TCP);
    expect(v.src[0]).toBe(0x0a090909);
    expect(v.ttl).toBe(12);
    expect(v.ipOffset).toBe(7 + 34);
    const v6 = dec(ethernet(ipv4(ipv6(synSegment()), { proto: 41 })));
    expect(v6.kind).toBe(Kind.TCP);
    expect(v6.ipVersion).toBe(6);
    const v64 = dec(ethernet(ipv6(ipv4(synSegment()), { next: 4 }), 0x86dd));
    expect(v64.kind).toBe(Kind.TCP);
    expect(v64.ipVersion).toBe(4);
  });

  it("stops after two levels of nesting", () => {
    const three = ipv4(ipv4(ipv4(ipv4(synSegment()), { proto: 4 }), { proto: 4 }), { proto: 4 });
    expect(dec(ethernet(three)).kind).toBe(Kind.SKIP_NOT_TCP);
  });
});

describe("ICMP destination unreachable", () => {
  const quotedSyn = ipv4(synSegment({ seq: 0x89abcdef }), { src: "10.0.0.1", dst: "203.0.113.9" });
  const icmp4 = (code: number, quote: Uint8Array, type = 3): Uint8Array => bytes([type, code, 0, 0, 0, 0, 0, 0], quote);

  it("decodes a full RFC 1812 quote", () => {
    const v = dec(ethernet(ipv4(icmp4(13, quotedSyn), { proto: 1, src: "198.51.100.1", dst: "10.0.0.1" })));
    expect(v.kind).toBe(Kind.ICMP_UNREACH);
    expect(v.src[0]).toBe(0xc6336401);
    expect(v.icmpType).toBe(3);
    expect(v.icmpCode).toBe(13);
    expect(v.innerIpVersion).toBe(4);
    expect(v.innerSrc[0]).toBe(0x0a000001);
    expect(v.innerDst[0]).toBe(0xcb007109);
    expect(v.innerProto).toBe(6);
    expect(v.innerHasPorts).toBe(true);
    expect(v.innerSrcPort).toBe(51000);
    expect(v.innerDstPort).toBe(443);
    expect(v.innerHasSeq).toBe(true);
    expect(v.innerSeq).toBe(0x89abcdef);
    expect(v.innerFlags).toBe(TcpFlag.SYN);
  });

  it("every code 0..15 is ICMP_UNREACH", () => {
    for (let code = 0; code < 16; code++) {
      expect(dec(ethernet(ipv4(icmp4(code, quotedSyn), { proto: 1 }))).kind).toBe(Kind.ICMP_UNREACH);
      expect(view.icmpCode).toBe(code);
    }
  });

  it("decodes as far as the quote reaches (RFC 792: 8 bytes of transport)", () => {
    const cases: [number, boolean, boolean, number][] = [
      // [quote length, hasPorts, hasSeq, flags]
      [20 + 8, true, true, -1],
      [20 + 4, true, false, -1],
      [20 + 3, false, false, -1],
      [20 + 14, true, true, TcpFlag.SYN],
      [20 + 13, true, true, -1],
    ];
    for (const [len, ports, seq, flags] of cases) {
      const v = dec(ethernet(ipv4(icmp4(1, quotedSyn.subarray(0, len)), { proto: 1 })));
      expect(v.kind, `quote ${len}`).toBe(Kind.ICMP_UNREACH);
      expect(v.innerIpVersion).toBe(4);
      expect(v.innerHasPorts, `quote ${len}`).toBe(ports);
      expect(v.innerHasSeq, `quote ${len}`).toBe(seq);
      expect(v.innerFlags, `quote ${len}`).toBe(flags);
    }
    // Less than an IP header: nothing usable, but still an unreachable.
    const short = dec(ethernet(ipv4(icmp4(1, quotedSyn.subarray(0, 12)), { proto: 1 })));
    expect(short.kind).toBe(Kind.ICMP_UNREACH);
    expect(short.innerIpVersion).toBe(0);
    expect(short.innerHasPorts).toBe(false);
    const none = dec(ethernet(ipv4(icmp4(1, new Uint8Array(0)), { proto: 1 })));
    expect(none.kind).toBe(Kind.ICMP_UNREACH);
    expect(none.innerIpVersion).toBe(0);
  });

  it("respects IP options in the quoted header and quoted fragments", () => {
    const withOpts = ipv4(synSegment(), { options: [0x94, 4, 0, 0] });
    const v = dec(ethernet(ipv4(icmp4(3, withOpts), { proto: 1 })));
    expect(v.innerSrcPort).toBe(51000);
    expect(v.innerFlags).toBe(TcpFlag.SYN);
    const frag = ipv4(synSegment(), { frag: 100 });
    const vf = dec(ethernet(ipv4(icmp4(4, frag), { proto: 1 })));
    expect(vf.kind).toBe(Kind.ICMP_UNREACH);
    expect(vf.innerProto).toBe(6);
    expect(vf.innerHasPorts).toBe(false);
  });

  it("quoted UDP keeps the protocol, no ports", () => {
    const v = dec(ethernet(ipv4(icmp4(3, ipv4(new Uint8Array(8), { proto: 17 })), { proto: 1 })));
    expect(v.kind).toBe(Kind.ICMP_UNREACH);
    expect(v.innerProto).toBe(17);
    expect(v.innerHasPorts).toBe(false);
  });

  it("the quote is bounded by the snap length and by the ICMP length", () => {
    const pkt = ethernet(ipv4(icmp4(1, quotedSyn), { proto: 1 }));
    const v = dec(pkt, LT_EN10MB, { capLen: 14 + 20 + 8 + 20 + 6, origLen: pkt.length });
    expect(v.kind).toBe(Kind.ICMP_UNREACH);
    expect(v.truncated).toBe(true);
    expect(v.innerHasPorts).toBe(true);
    expect(v.innerHasSeq).toBe(false);
    // IP total length ends the quote early; trailing bytes (padding) are not quote.
    const short = ethernet(ipv4(icmp4(1, quotedSyn.subarray(0, 24)), { proto: 1 }));
    const padded = bytes(short, quotedSyn.subarray(24));
    const vp = dec(padded);
    expect(vp.innerHasPorts).toBe(true);
    expect(vp.innerHasSeq).toBe(false);
  });

  it("ICMPv6 type 1 with a quoted IPv6 + extension headers + TCP", () => {
    const quote = ipv6(bytes(ip6Ext(6), synSegment({ seq: 77 })), { next: 60, src: "2001:db8::a", dst: "2001:db8::b" });
    const v = dec(ethernet(ipv6(bytes([1, 4, 0, 0, 0, 0, 0, 0], quote), { next: 58 }), 0x86dd));
    expect(v.kind).toBe(Kind.ICMP_UNREACH);
    expect(v.icmpType).toBe(1);
    expect(v.icmpCode).toBe(4);
    expect(v.innerIpVersion).toBe(6);
    expect(Array.from(v.innerSrc)).toEqual([0x20010db8, 0, 0, 0xa]);
    expect(Array.from(v.innerDst)).toEqual([0x20010db8, 0, 0, 0xb]);
    expect(v.innerProto).toBe(6);
    expect(v.innerSrcPort).toBe(51000);
    expect(v.innerSeq).toBe(77);
    expect(v.innerFlags).toBe(TcpFlag.SYN);
    // Cut inside the quoted extension header: protocol unknown beyond it, no ports.
    const cut = dec(ethernet(ipv6(bytes([1, 0, 0, 0, 0, 0, 0, 0], quote.subarray(0, 41)), { next: 58 }), 0x86dd));
    expect(cut.kind).toBe(Kind.ICMP_UNREACH);
    expect(cut.innerProto).toBe(60);
    expect(cut.innerHasPorts).toBe(false);
  });

  it("other ICMP types are SKIP_NOT_TCP; a cut ICMP header is TRUNCATED", () => {
    expect(dec(ethernet(ipv4(icmp4(0, quotedSyn, 11), { proto: 1 }))).kind).toBe(Kind.SKIP_NOT_TCP); // time exceeded
    expect(dec(ethernet(ipv4(icmp4(0, new Uint8Array(8), 8), { proto: 1 }))).kind).toBe(Kind.SKIP_NOT_TCP); // echo
    expect(dec(ethernet(ipv6(bytes([3, 0, 0, 0, 0, 0, 0, 0]), { next: 58 }), 0x86dd)).kind).toBe(Kind.SKIP_NOT_TCP);
    expect(dec(ethernet(ipv6(bytes([128, 0, 0, 0, 0, 0, 0, 0]), { next: 58 }), 0x86dd)).kind).toBe(Kind.SKIP_NOT_TCP);
    // ICMPv4 type 3 inside IPv6 is not ICMPv6 unreachable.
    expect(dec(ethernet(ipv6(icmp4(1, quotedSyn), { next: 58 }), 0x86dd)).kind).toBe(Kind.SKIP_NOT_TCP);
    const pkt = ethernet(ipv4(icmp4(1, quotedSyn), { proto: 1 }));
    expect(dec(pkt, LT_EN10MB, { capLen: 14 + 20 + 5, origLen: pkt.length }).kind).toBe(Kind.SKIP_TRUNCATED);
  });
});
