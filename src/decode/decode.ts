/**
 * Link / IP / TCP / ICMP decoder. Fills one reusable PacketView per packet
 * and returns its Kind. This is the hot path (every packet of every capture):
 * it allocates nothing, reads bytes straight out of the Uint8Array, and never
 * throws; every layer checks its length up front and returns a Kind instead.
 *
 * Each layer function takes the record's bytes and three positions:
 *   o       start of this layer's header
 *   capEnd  end of the captured bytes (FCS removed)
 *   wireEnd end of the packet as it was on the wire (FCS removed); > capEnd
 *           when the snap length cut the packet
 *
 * Deliberate choices (what is counted as "TCP" follows tshark's frames whose
 * outermost transport protocol is tcp):
 * - Tunnels: IP-in-IP (IPv4/IPv6 in IPv4/IPv6, protocols 4 and 41) has no
 *   transport layer of its own, so the inner TCP *is* the outermost transport
 *   and is decoded (at most 2 levels of nesting); view.ipOffset, addresses and
 *   TTL are the inner datagram's. GRE, VXLAN, Geneve, L2TP, ESP, Teredo: the
 *   outer transport is not TCP, so those are SKIP_NOT_TCP (tshark shows
 *   udp/gre first too).
 * - IP fragments: tshark reassembles by default and shows the TCP segment on
 *   the frame of the *last* fragment, not the first. synsent does not
 *   reassemble: every fragment, first (MF set) or not, is SKIP_FRAGMENT. The
 *   handshake segments this tool cares about are never fragmented in practice.
 *   (When a first fragment is cut by the snap length tshark cannot queue it
 *   and decodes its TCP header instead; test/decode/corpus-tshark.test.ts
 *   lists the corpus files where that shows.)
 * - A TCP header whose 20 fixed bytes are captured is Kind.TCP even if the
 *   snap length cut its options (old tcpdump's 68-byte default cut every SYN's
 *   options); options are parsed as far as they were captured. Fewer than 20
 *   bytes captured: SKIP_TRUNCATED.
 * - IPv4 total length 0 (TSO: tcpdump on the sending host sees the segment
 *   before the NIC splits it) and IPv6 payload length 0 (jumbogram, RFC 2675,
 *   or GSO/BIG TCP) take the length from the frame instead, as Wireshark does
 *   for TSO.
 * - IP length beyond the end of the frame (wire length): the frame wins, as
 *   in tshark, and payloadLen counts only what the frame holds. (Not the
 *   snap length: that cut is `truncated`, and the IP length still counts.)
 * - IPv6 inside EtherType 0x0800 / LINKTYPE_IPV4 is decoded as IPv6, as
 *   Wireshark's IPv4 dissector does for version 6.
 * - view.truncated: the snap length cut the packet (captured bytes end before
 *   the wire bytes, FCS not counted).
 * - ICMP time exceeded is SKIP_NOT_TCP (not used by the diagnosis yet).
 *
 * Speed: Ethernet + IPv4 (no IP options, not a fragment) or IPv6 (no
 * extension headers) + TCP, nearly every packet of a typical capture, takes
 * decodeEthTcpFast: one DataView read per 32-bit word and the common TCP
 * option layouts matched whole. It fills the view exactly as the general
 * layer-by-layer path (decodePacketGeneral) does, or leaves the packet to it;
 * test/decode/fastpath.test.ts compares the two field by field.
 */

import { Kind, PacketView } from "./packet.js";

// ---- link types (LINKTYPE_* values, https://www.tcpdump.org/linktypes.html) ----
const LT_NULL = 0;
export const LT_EN10MB = 1;
const LT_PPP = 9;
const LT_RAW_DLT12 = 12; // DLT_RAW on most BSDs/Linux, seen in old files
const LT_RAW_DLT14 = 14; // DLT_RAW on OpenBSD
const LT_PPP_SERIAL = 50; // PPP in HDLC-like framing (RFC 1662), or Cisco HDLC
const LT_PPP_ETHER = 51; // PPPoE session, no Ethernet header
const LT_RAW = 101;
const LT_C_HDLC = 104;
const LT_LOOP = 108;
const LT_LINUX_SLL = 113;
const LT_IPV4 = 228;
const LT_IPV6 = 229;
const LT_LINUX_SLL2 = 276;

// ---- EtherTypes ----
const ET_IPV4 = 0x0800;
const ET_IPV6 = 0x86dd;
const ET_VLAN = 0x8100; // 802.1Q
const ET_QINQ = 0x88a8; // 802.1ad
const ET_QINQ_OLD = 0x9100; // pre-standard QinQ
const ET_MPLS = 0x8847;
const ET_MPLS_MC = 0x8848;
const ET_PPPOE_SESSION = 0x8864;

// ---- PPP protocol numbers ----
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const PPP_MPLS = 0x0281;
const PPP_MPLS_MC = 0x0283;

// ---- BSD loopback address families (DLT_NULL / DLT_LOOP) ----
const AF_INET = 2;
const AF_INET6_BSD = 24; // NetBSD, OpenBSD, BSD/OS
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;

// ---- header sizes ----
const ETH_HDR = 14;
const ETH_TYPE = 12;
const VLAN_TAG = 4;
const SLL_HDR = 16;
const SLL_PROTO = 14;
const SLL2_HDR = 20;
const SLL2_PROTO = 0;
const NULL_HDR = 4;
const CHDLC_HDR = 4;
const CHDLC_PROTO = 2;
const PPPOE_HDR = 6;
const MPLS_LABEL = 4;
const MAX_VLAN_TAGS = 8;
const MAX_MPLS_LABELS = 16;

// ---- IPv4 (RFC 791) ----
const IP4_HDR = 20;
const IP4_TOTAL_LEN = 2;
const IP4_ID = 4;
const IP4_FRAG = 6;
const IP4_MF = 0x2000;
const IP4_FRAG_OFFSET = 0x1fff;
const IP4_TTL = 8;
const IP4_PROTO = 9;
const IP4_SRC = 12;
const IP4_DST = 16;

// ---- IPv6 (RFC 8200) ----
const IP6_HDR = 40;
const IP6_PAYLOAD_LEN = 4;
const IP6_NEXT = 6;
const IP6_HOP_LIMIT = 7;
const IP6_SRC = 8;
const IP6_DST = 24;
const IP6_FRAG_HDR = 8;
const MAX_IP6_EXT = 8;
const MAX_IP_NESTING = 2;

// ---- IP protocol numbers ----
const P_HOPOPTS = 0;
const P_ICMP = 1;
const P_IPIP = 4;
const P_TCP = 6;
const P_IPV6 = 41;
const P_ROUTING = 43;
const P_FRAGMENT = 44;
const P_AH = 51;
const P_ICMPV6 = 58;
const P_DSTOPTS = 60;

// ---- TCP (RFC 9293) ----
const TCP_HDR = 20;
const TCP_SRC_PORT = 0;
const TCP_DST_PORT = 2;
const TCP_SEQ = 4;
const TCP_ACK = 8;
const TCP_OFF_FLAGS = 12;
const TCP_WINDOW = 14;
const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMPS = 8;
const MAX_SACK_BLOCKS = 4;

// ---- ICMP (RFC 792, RFC 4443) ----
const ICMP_HDR = 8;
const ICMP4_UNREACH = 3;
const ICMP6_UNREACH = 1;

/**
 * Decode one record into `view` and return view.kind.
 * `linkType` has the pcap FCS bits already removed; `fcsLen` trailing bytes of
 * the frame (as on the wire) are a frame check sequence and are not decoded.
 */
export function decodePacket(
  view: PacketView,
  data: Uint8Array,
  offset: number,
  capLen: number,
  origLen: number,
  linkType: number,
  fcsLen: number,
): number {
  // Positions are computed defensively: a lying record header must not make
  // us read outside the record (reads past data.length would only yield
  // undefined, but bytes of the next record would be decoded as this one's).
  let o = offset | 0;
  if (o < 0) o = 0;
  const dataEnd = data.length;
  let capEnd = o + (capLen > 0 ? capLen : 0);
  if (capEnd > dataEnd) capEnd = dataEnd;
  // A file whose origLen < capLen lies; trust what was captured.
  const orig = origLen > capLen ? origLen : capLen;
  let wireEnd = o + orig - (fcsLen > 0 ? fcsLen : 0);
  if (wireEnd < o) wireEnd = o;
  if (capEnd > wireEnd) capEnd = wireEnd; // the captured FCS is not packet data
  if (o > capEnd) o = capEnd;
  if (linkType === LT_EN10MB && o + ETH_IP4_TCP_MIN <= capEnd) {
    const fast = decodeEthTcpFast(view, data, o, capEnd, wireEnd);
    if (fast !== 0) {
      view.linkType = linkType;
      view.truncated = capEnd < wireEnd;
      view.kind = fast;
      return fast;
    }
  }
  resetView(view, linkType);
  view.truncated = capEnd < wireEnd;
  const kind = decodeLink(view, data, o, capEnd, wireEnd, linkType);
  view.kind = kind;
  return kind;
}

/**
 * decodePacket without its fast path: every packet through the general
 * layer-by-layer decoder. The result is the same by design;
 * test/decode/fastpath.test.ts holds the two to that over the corpus and
 * mutated packets. Not for production use (slower).
 */
export function decodePacketGeneral(
  view: PacketView,
  data: Uint8Array,
  offset: number,
  capLen: number,
  origLen: number,
  linkType: number,
  fcsLen: number,
): number {
  // The same position arithmetic as decodePacket.
  let o = offset | 0;
  if (o < 0) o = 0;
  const dataEnd = data.length;
  let capEnd = o + (capLen > 0 ? capLen : 0);
  if (capEnd > dataEnd) capEnd = dataEnd;
  const orig = origLen > capLen ? origLen : capLen;
  let wireEnd = o + orig - (fcsLen > 0 ? fcsLen : 0);
  if (wireEnd < o) wireEnd = o;
  if (capEnd > wireEnd) capEnd = wireEnd;
  if (o > capEnd) o = capEnd;
  resetView(view, linkType);
  view.truncated = capEnd < wireEnd;
  const kind = decodeLink(view, data, o, capEnd, wireEnd, linkType);
  view.kind = kind;
  return kind;
}

/** Ethernet + IPv4 without options + the TCP fixed header: the shortest frame the fast path takes. */
const ETH_IP4_TCP_MIN = ETH_HDR + IP4_HDR + TCP_HDR;
const ETH_IP6_TCP_MIN = ETH_HDR + IP6_HDR + TCP_HDR;

// A DataView over the batch buffer, made once per buffer (a batch's `data` is
// the reader's reused buffer): one bounds check per 16/32-bit field instead
// of one per byte.
let dvData: Uint8Array | null = null;
let dvView: DataView = new DataView(new ArrayBuffer(0));

/**
 * (native/flows/flows.cc fastDecode takes the same records with the same
 * result, and hands every other one back to decodePacket.)
 * The common cases in one straight line: Ethernet II carrying IPv4 (IHL 5,
 * not a fragment) or IPv6 (no extension headers), then TCP, with the headers
 * captured and self-consistent. Returns Kind.TCP with the view filled
 * exactly as the general path would fill it, or 0 (view untouched) to let the
 * general path decide, including every malformed case.
 * `capEnd - o >= ETH_IP4_TCP_MIN` is the caller's.
 */
function decodeEthTcpFast(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number): number {
  if (d !== dvData) {
    dvData = d;
    dvView = new DataView(d.buffer, d.byteOffset, d.byteLength);
  }
  const dv = dvView;
  const ip = o + ETH_HDR;
  // EtherType, then the IP version / IHL byte and the TOS (or traffic class) byte.
  const typeVer = dv.getUint32(o + ETH_TYPE);
  if ((typeVer & 0xffffff00) === 0x08004500) {
    // Flags/fragment offset, TTL, protocol: MF and offset 0, protocol 6.
    const fragTtlProto = dv.getUint32(ip + IP4_FRAG);
    if ((fragTtlProto & 0x3fff00ff) !== P_TCP) return 0;
    const lenId = dv.getUint32(ip + IP4_TOTAL_LEN);
    let totalLen = lenId >>> 16;
    if (totalLen === 0 || ip + totalLen > wireEnd) totalLen = wireEnd - ip; // TSO / longer than the frame: as in decodeIPv4
    const t = ip + IP4_HDR;
    const offFlagsWin = dv.getUint32(t + TCP_OFF_FLAGS);
    const hdrLen = (offFlagsWin >>> 28) << 2;
    // Segment shorter than the TCP header it claims (or than 20 bytes): malformed, the general path says which.
    if (hdrLen < TCP_HDR || IP4_HDR + hdrLen > totalLen) return 0;
    // resetView's work, less what is written below: the ICMP fields only
    // need it after an ICMP packet (the view is filled by this module alone).
    if (v.icmpType !== 0) resetIcmp(v);
    v.ipVersion = 4;
    v.ipOffset = ip;
    v.ttl = (fragTtlProto >>> 8) & 0xff;
    v.ipId = lenId & 0xffff;
    const src = v.src;
    src[0] = dv.getUint32(ip + IP4_SRC);
    src[1] = 0;
    src[2] = 0;
    src[3] = 0;
    const dst = v.dst;
    dst[0] = dv.getUint32(ip + IP4_DST);
    dst[1] = 0;
    dst[2] = 0;
    dst[3] = 0;
    fillTcp(v, dv, d, t, ip + totalLen, capEnd, offFlagsWin, hdrLen);
    return Kind.TCP;
  }
  if (typeVer >>> 12 === 0x86dd6) {
    if (o + ETH_IP6_TCP_MIN > capEnd) return 0;
    const lenNextHop = dv.getUint32(ip + IP6_PAYLOAD_LEN);
    if (((lenNextHop >>> 8) & 0xff) !== P_TCP) return 0;
    let end = ip + IP6_HDR + (lenNextHop >>> 16);
    // Payload length 0 (jumbogram, GSO) or past the frame: the frame gives the end, as in decodeIPv6.
    if (end === ip + IP6_HDR || end > wireEnd) end = wireEnd;
    const t = ip + IP6_HDR;
    const offFlagsWin = dv.getUint32(t + TCP_OFF_FLAGS);
    const hdrLen = (offFlagsWin >>> 28) << 2;
    if (hdrLen < TCP_HDR || t + hdrLen > end) return 0;
    if (v.icmpType !== 0) resetIcmp(v);
    v.ipVersion = 6;
    v.ipOffset = ip;
    v.ttl = lenNextHop & 0xff;
    v.ipId = -1;
    const src = v.src;
    src[0] = dv.getUint32(ip + IP6_SRC);
    src[1] = dv.getUint32(ip + IP6_SRC + 4);
    src[2] = dv.getUint32(ip + IP6_SRC + 8);
    src[3] = dv.getUint32(ip + IP6_SRC + 12);
    const dst = v.dst;
    dst[0] = dv.getUint32(ip + IP6_DST);
    dst[1] = dv.getUint32(ip + IP6_DST + 4);
    dst[2] = dv.getUint32(ip + IP6_DST + 8);
    dst[3] = dv.getUint32(ip + IP6_DST + 12);
    fillTcp(v, dv, d, t, end, capEnd, offFlagsWin, hdrLen);
    return Kind.TCP;
  }
  return 0;
}

/** decodeTcp's work once the fast path has checked the header: `t` the TCP header, `segEnd` the end of the segment by the IP length. */
function fillTcp(
  v: PacketView,
  dv: DataView,
  d: Uint8Array,
  t: number,
  segEnd: number,
  capEnd: number,
  offFlagsWin: number,
  hdrLen: number,
): void {
  v.l4Offset = t;
  v.l4Length = segEnd - t;
  const ports = dv.getUint32(t + TCP_SRC_PORT);
  v.srcPort = ports >>> 16;
  v.dstPort = ports & 0xffff;
  v.seq = dv.getUint32(t + TCP_SEQ);
  v.ack = dv.getUint32(t + TCP_ACK);
  v.flags = (offFlagsWin >>> 16) & 0x1ff;
  v.window = offFlagsWin & 0xffff;
  v.tcpHeaderLen = hdrLen;
  v.payloadLen = segEnd - t - hdrLen;
  resetTcpOptions(v);
  const optEnd = t + hdrLen < capEnd ? t + hdrLen : capEnd;
  if (optEnd > t + TCP_HDR && !parseCommonTcpOptions(v, dv, t + TCP_HDR, optEnd)) parseTcpOptions(v, d, t + TCP_HDR, optEnd);
}

/**
 * The option layouts that make up nearly all real traffic, each recognised
 * by a few 32-bit compares; anything else (false) goes to parseTcpOptions,
 * which gives the same result for these layouts, only slower.
 *   NOP NOP TS                      Linux, BSD, macOS: every segment after the SYN
 *   MSS NOP WS NOP NOP SACK_PERM    Windows SYN and SYN-ACK; Linux SYN-ACK without timestamps
 *   MSS SACK_PERM TS NOP WS         Linux SYN and SYN-ACK
 */
function parseCommonTcpOptions(v: PacketView, dv: DataView, p: number, end: number): boolean {
  const n = end - p;
  if (n === 12) {
    const w0 = dv.getUint32(p);
    if (w0 === 0x0101080a) {
      v.hasTimestamps = true;
      v.tsVal = dv.getUint32(p + 4);
      v.tsEcr = dv.getUint32(p + 8);
      return true;
    }
    if (w0 >>> 16 === 0x0204) {
      const w1 = dv.getUint32(p + 4);
      if ((w1 & 0xffffff00) === 0x01030300 && dv.getUint32(p + 8) === 0x01010402) {
        v.mss = w0 & 0xffff;
        v.windowScale = w1 & 0xff;
        v.sackPermitted = true;
        return true;
      }
    }
    return false;
  }
  if (n === 20) {
    const w0 = dv.getUint32(p);
    if (w0 >>> 16 === 0x0204 && dv.getUint32(p + 4) === 0x0402080a) {
      const w4 = dv.getUint32(p + 16);
      if ((w4 & 0xffffff00) === 0x01030300) {
        v.mss = w0 & 0xffff;
        v.sackPermitted = true;
        v.hasTimestamps = true;
        v.tsVal = dv.getUint32(p + 8);
        v.tsEcr = dv.getUint32(p + 12);
        v.windowScale = w4 & 0xff;
        return true;
      }
    }
  }
  return false;
}

function resetTcpOptions(v: PacketView): void {
  v.mss = -1;
  v.windowScale = -1;
  v.sackPermitted = false;
  v.hasTimestamps = false;
  v.tsVal = 0;
  v.tsEcr = 0;
  v.sackBlocks = 0;
}

/** Only decodeIcmp sets ICMP fields, and it always sets icmpType (3 or 1) first. */
function resetIcmp(v: PacketView): void {
  v.icmpType = 0;
  v.icmpCode = 0;
  v.innerIpVersion = 0;
  v.innerProto = 0;
  v.innerHasPorts = false;
  v.innerSrcPort = 0;
  v.innerDstPort = 0;
  v.innerHasSeq = false;
  v.innerSeq = 0;
  v.innerFlags = -1;
}

function resetView(v: PacketView, linkType: number): void {
  v.kind = 0;
  v.linkType = linkType;
  v.ipVersion = 0;
  v.ttl = 0;
  v.ipId = -1;
  v.ipOffset = 0;
  v.l4Offset = 0;
  v.l4Length = 0;
  v.srcPort = 0;
  v.dstPort = 0;
  v.seq = 0;
  v.ack = 0;
  v.flags = 0;
  v.window = 0;
  v.tcpHeaderLen = 0;
  v.payloadLen = 0;
  v.truncated = false;
  v.mss = -1;
  v.windowScale = -1;
  v.sackPermitted = false;
  v.hasTimestamps = false;
  v.tsVal = 0;
  v.tsEcr = 0;
  v.sackBlocks = 0;
  v.icmpType = 0;
  v.icmpCode = 0;
  v.innerIpVersion = 0;
  v.innerProto = 0;
  v.innerHasPorts = false;
  v.innerSrcPort = 0;
  v.innerDstPort = 0;
  v.innerHasSeq = false;
  v.innerSeq = 0;
  v.innerFlags = -1;
}

/** A header that does not fit: cut by the snap length, or the frame is simply too short. */
function cut(capEnd: number, wireEnd: number): number {
  return capEnd < wireEnd ? Kind.SKIP_TRUNCATED : Kind.SKIP_MALFORMED;
}

function be16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}

function be32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}

function le32(d: Uint8Array, o: number): number {
  return ((d[o + 3]! << 24) | (d[o + 2]! << 16) | (d[o + 1]! << 8) | d[o]!) >>> 0;
}

// ---------------------------------------------------------------- link layer

function decodeLink(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number, linkType: number): number {
  switch (linkType) {
    case LT_EN10MB:
      return decodeEthernet(v, d, o, capEnd, wireEnd);
    case LT_LINUX_SLL:
      if (o + SLL_HDR > capEnd) return cut(capEnd, wireEnd);
      return decodeEtherType(v, d, be16(d, o + SLL_PROTO), o + SLL_HDR, capEnd, wireEnd);
    case LT_LINUX_SLL2:
      if (o + SLL2_HDR > capEnd) return cut(capEnd, wireEnd);
      return decodeEtherType(v, d, be16(d, o + SLL2_PROTO), o + SLL2_HDR, capEnd, wireEnd);
    case LT_RAW:
    case LT_RAW_DLT12:
    case LT_RAW_DLT14:
      return decodeIpByVersion(v, d, o, capEnd, wireEnd);
    case LT_IPV4:
      return decodeIPv4(v, d, o, capEnd, wireEnd, 0);
    case LT_IPV6:
      return decodeIPv6(v, d, o, capEnd, wireEnd, 0);
    case LT_NULL:
    case LT_LOOP:
      return decodeNull(v, d, o, capEnd, wireEnd);
    case LT_PPP:
    case LT_PPP_SERIAL:
      return decodePppFramed(v, d, o, capEnd, wireEnd);
    case LT_PPP_ETHER:
      return decodePppoe(v, d, o, capEnd, wireEnd);
    case LT_C_HDLC:
      if (o + CHDLC_HDR > capEnd) return cut(capEnd, wireEnd);
      return decodeEtherType(v, d, be16(d, o + CHDLC_PROTO), o + CHDLC_HDR, capEnd, wireEnd);
    default:
      return Kind.SKIP_LINKTYPE;
  }
}

function decodeEthernet(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number): number {
  if (o + ETH_HDR > capEnd) return cut(capEnd, wireEnd);
  // Values <= 1500 are an 802.3 length (LLC follows), never IP.
  return decodeEtherType(v, d, be16(d, o + ETH_TYPE), o + ETH_HDR, capEnd, wireEnd);
}

/** Dispatch on an EtherType; `o` is where the payload starts. Handles VLAN tag stacks, PPPoE, MPLS. */
function decodeEtherType(
  v: PacketView,
  d: Uint8Array,
  etherType: number,
  o: number,
  capEnd: number,
  wireEnd: number,
): number {
  let type = etherType;
  for (let tags = 0; type === ET_VLAN || type === ET_QINQ || type === ET_QINQ_OLD; tags++) {
    if (tags === MAX_VLAN_TAGS) return Kind.SKIP_MALFORMED;
    if (o + VLAN_TAG > capEnd) return cut(capEnd, wireEnd);
    type = be16(d, o + 2);
    o += VLAN_TAG;
  }
  switch (type) {
    case ET_IPV4:
      return decodeIPv4(v, d, o, capEnd, wireEnd, 0);
    case ET_IPV6:
      return decodeIPv6(v, d, o, capEnd, wireEnd, 0);
    case ET_PPPOE_SESSION:
      return decodePppoe(v, d, o, capEnd, wireEnd);
    case ET_MPLS:
    case ET_MPLS_MC:
      return decodeMpls(v, d, o, capEnd, wireEnd);
    default:
      return Kind.SKIP_NOT_IP;
  }
}

/** MPLS label stack (RFC 3032); after the bottom label, IPv4/IPv6 by the first nibble. */
function decodeMpls(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number): number {
  for (let n = 0; ; n++) {
    if (n === MAX_MPLS_LABELS) return Kind.SKIP_MALFORMED;
    if (o + MPLS_LABEL > capEnd) return cut(capEnd, wireEnd);
    const bottom = d[o + 2]! & 0x01;
    o += MPLS_LABEL;
    if (bottom !== 0) break;
  }
  // A first nibble of 0 is a pseudowire control word (Ethernet over MPLS, RFC 4385): not decoded.
  return decodeIpByVersion(v, d, o, capEnd, wireEnd);
}

function decodeIpByVersion(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number): number {
  if (o >= capEnd) return cut(capEnd, wireEnd);
  const version = d[o]! >> 4;
  if (version === 4) return decodeIPv4(v, d, o, capEnd, wireEnd, 0);
  if (version === 6) return decodeIPv6(v, d, o, capEnd, wireEnd, 0);
  return Kind.SKIP_NOT_IP;
}

/**
 * BSD loopback: a 4-byte address family, in the capturing host's byte order
 * for DLT_NULL and network order for DLT_LOOP. Files travel between hosts, so
 * both orders are accepted for both link types (AF values are < 256, so the
 * order is unambiguous).
 */
function decodeNull(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number): number {
  if (o + NULL_HDR > capEnd) return cut(capEnd, wireEnd);
  let af = be32(d, o);
  if (af > 0xffff) af = le32(d, o);
  o += NULL_HDR;
  if (af === AF_INET) return decodeIPv4(v, d, o, capEnd, wireEnd, 0);
  if (af === AF_INET6_BSD || af === AF_INET6_FREEBSD || af === AF_INET6_DARWIN) {
    return decodeIPv6(v, d, o, capEnd, wireEnd, 0);
  }
  return Kind.SKIP_NOT_IP;
}

/**
 * PPP as in LINKTYPE_PPP / PPP_SERIAL: optionally the RFC 1662 HDLC-like
 * address/control bytes 0xff 0x03, then the protocol field (1 byte when
 * protocol-field-compressed, RFC 1661 section 6.5). PPP_SERIAL may also hold
 * Cisco HDLC frames (address 0x0f / 0x8f), as tcpdump accepts.
 */
function decodePppFramed(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number): number {
  if (o + 2 > capEnd) return cut(capEnd, wireEnd);
  const b0 = d[o]!;
  if (b0 === 0xff && d[o + 1] === 0x03) {
    o += 2;
  } else if ((b0 === 0x0f || b0 === 0x8f) && d[o + 1] === 0x00) {
    if (o + CHDLC_HDR > capEnd) return cut(capEnd, wireEnd);
    return decodeEtherType(v, d, be16(d, o + CHDLC_PROTO), o + CHDLC_HDR, capEnd, wireEnd);
  }
  return decodePppProtocol(v, d, o, capEnd, wireEnd);
}

/** PPP protocol field (possibly compressed) at `o`, then the payload. */
function decodePppProtocol(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number): number {
  if (o >= capEnd) return cut(capEnd, wireEnd);
  let proto: number;
  if ((d[o]! & 0x01) !== 0) {
    proto = d[o]!;
    o += 1;
  } else {
    if (o + 2 > capEnd) return cut(capEnd, wireEnd);
    proto = be16(d, o);
    o += 2;
  }
  switch (proto) {
    case PPP_IPV4:
      return decodeIPv4(v, d, o, capEnd, wireEnd, 0);
    case PPP_IPV6:
      return decodeIPv6(v, d, o, capEnd, wireEnd, 0);
    case PPP_MPLS:
    case PPP_MPLS_MC:
      return decodeMpls(v, d, o, capEnd, wireEnd);
    default:
      return Kind.SKIP_NOT_IP;
  }
}

/** PPPoE session stage header (RFC 2516): ver/type, code, session id, length; then PPP. */
function decodePppoe(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number): number {
  if (o + PPPOE_HDR > capEnd) return cut(capEnd, wireEnd);
  if (d[o] !== 0x11 || d[o + 1] !== 0x00) return Kind.SKIP_NOT_IP; // not a session data packet
  return decodePppProtocol(v, d, o + PPPOE_HDR, capEnd, wireEnd);
}

// ---------------------------------------------------------------- network layer

function decodeIPv4(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number, depth: number): number {
  if (o + IP4_HDR > capEnd) return cut(capEnd, wireEnd);
  const vihl = d[o]!;
  if (vihl >> 4 !== 4) {
    // IPv6 labelled as IPv4 (EtherType 0x0800, LINKTYPE_IPV4): Wireshark's IPv4
    // dissector hands version 6 to IPv6, and so do we.
    return vihl >> 4 === 6 ? decodeIPv6(v, d, o, capEnd, wireEnd, depth) : Kind.SKIP_MALFORMED;
  }
  const hdrLen = (vihl & 0x0f) << 2;
  if (hdrLen < IP4_HDR) return Kind.SKIP_MALFORMED;
  if (o + hdrLen > capEnd) return cut(capEnd, wireEnd);
  let totalLen = be16(d, o + IP4_TOTAL_LEN);
  if (totalLen === 0) {
    // TSO: the sending host captured the segment before the NIC split it.
    totalLen = wireEnd - o;
  }
  if (totalLen < hdrLen) return Kind.SKIP_MALFORMED;
  // A total length past the end of the frame: the frame wins, as in tshark
  // ("IPv4 total length exceeds packet length").
  if (o + totalLen > wireEnd) totalLen = wireEnd - o;

  v.ipVersion = 4;
  v.ipOffset = o;
  v.ttl = d[o + IP4_TTL]!;
  v.ipId = be16(d, o + IP4_ID);
  v.src[0] = be32(d, o + IP4_SRC);
  v.src[1] = 0;
  v.src[2] = 0;
  v.src[3] = 0;
  v.dst[0] = be32(d, o + IP4_DST);
  v.dst[1] = 0;
  v.dst[2] = 0;
  v.dst[3] = 0;

  const frag = be16(d, o + IP4_FRAG);
  if ((frag & (IP4_MF | IP4_FRAG_OFFSET)) !== 0) return Kind.SKIP_FRAGMENT;

  const l4 = o + hdrLen;
  const l4End = o + totalLen;
  v.l4Offset = l4;
  v.l4Length = totalLen - hdrLen;
  switch (d[o + IP4_PROTO]) {
    case P_TCP:
      return decodeTcp(v, d, l4, l4End, capEnd, wireEnd);
    case P_ICMP:
      return decodeIcmp(v, d, l4, l4End, capEnd, wireEnd, ICMP4_UNREACH);
    case P_IPIP:
      if (depth >= MAX_IP_NESTING) return Kind.SKIP_NOT_TCP;
      return decodeIPv4(v, d, l4, capEnd < l4End ? capEnd : l4End, l4End, depth + 1);
    case P_IPV6:
      if (depth >= MAX_IP_NESTING) return Kind.SKIP_NOT_TCP;
      return decodeIPv6(v, d, l4, capEnd < l4End ? capEnd : l4End, l4End, depth + 1);
    default:
      return Kind.SKIP_NOT_TCP;
  }
}

function copyIPv6Addr(words: Uint32Array, d: Uint8Array, o: number): void {
  words[0] = be32(d, o);
  words[1] = be32(d, o + 4);
  words[2] = be32(d, o + 8);
  words[3] = be32(d, o + 12);
}

function decodeIPv6(v: PacketView, d: Uint8Array, o: number, capEnd: number, wireEnd: number, depth: number): number {
  if (o + IP6_HDR > capEnd) return cut(capEnd, wireEnd);
  if (d[o]! >> 4 !== 6) return Kind.SKIP_MALFORMED;
  let payloadLen = be16(d, o + IP6_PAYLOAD_LEN);
  if (payloadLen === 0) {
    // Jumbogram (RFC 2675) or a GSO/BIG TCP super-packet: the frame gives the length.
    payloadLen = wireEnd - o - IP6_HDR;
  }
  let end = o + IP6_HDR + payloadLen;
  // Payload length past the end of the frame: the frame wins, as in tshark.
  if (end > wireEnd) end = wireEnd;

  v.ipVersion = 6;
  v.ipOffset = o;
  v.ttl = d[o + IP6_HOP_LIMIT]!;
  v.ipId = -1;
  copyIPv6Addr(v.src, d, o + IP6_SRC);
  copyIPv6Addr(v.dst, d, o + IP6_DST);

  let next = d[o + IP6_NEXT]!;
  let p = o + IP6_HDR;
  for (let n = 0; ; n++) {
    switch (next) {
      case P_TCP:
        v.l4Offset = p;
        v.l4Length = end - p;
        return decodeTcp(v, d, p, end, capEnd, wireEnd);
      case P_ICMPV6:
        v.l4Offset = p;
        v.l4Length = end - p;
        return decodeIcmp(v, d, p, end, capEnd, wireEnd, ICMP6_UNREACH);
      case P_IPIP:
        if (depth >= MAX_IP_NESTING) return Kind.SKIP_NOT_TCP;
        return decodeIPv4(v, d, p, capEnd < end ? capEnd : end, end, depth + 1);
      case P_IPV6:
        if (depth >= MAX_IP_NESTING) return Kind.SKIP_NOT_TCP;
        return decodeIPv6(v, d, p, capEnd < end ? capEnd : end, end, depth + 1);
      case P_HOPOPTS:
      case P_ROUTING:
      case P_DSTOPTS:
      case P_FRAGMENT:
      case P_AH:
        break;
      default:
        return Kind.SKIP_NOT_TCP;
    }
    if (n === MAX_IP6_EXT) return Kind.SKIP_MALFORMED;
    if (p + 2 > capEnd) return cut(capEnd, wireEnd);
    let extLen: number;
    if (next === P_FRAGMENT) {
      if (p + IP6_FRAG_HDR > capEnd) return cut(capEnd, wireEnd);
      // Offset (13 bits) and M flag; an atomic fragment (both zero, RFC 6946) is a whole datagram.
      if ((be16(d, p + 2) & 0xfff9) !== 0) return Kind.SKIP_FRAGMENT;
      extLen = IP6_FRAG_HDR;
    } else if (next === P_AH) {
      extLen = (d[p + 1]! + 2) << 2; // RFC 4302: length in 4-octet units, minus 2
    } else {
      extLen = (d[p + 1]! + 1) << 3; // RFC 8200: length in 8-octet units, not counting the first 8
    }
    if (p + extLen > end) return Kind.SKIP_MALFORMED;
    if (p + extLen > capEnd) return cut(capEnd, wireEnd);
    next = d[p]!;
    p += extLen;
  }
}

// ---------------------------------------------------------------- transport layer

/** TCP header at `o`; the segment ends at `segEnd` by the IP length. */
function decodeTcp(v: PacketView, d: Uint8Array, o: number, segEnd: number, capEnd: number, wireEnd: number): number {
  if (o + TCP_HDR > segEnd) return Kind.SKIP_MALFORMED;
  if (o + TCP_HDR > capEnd) return cut(capEnd, wireEnd);
  const offFlags = be16(d, o + TCP_OFF_FLAGS);
  const hdrLen = (offFlags >> 12) << 2;
  if (hdrLen < TCP_HDR || o + hdrLen > segEnd) return Kind.SKIP_MALFORMED;

  v.srcPort = be16(d, o + TCP_SRC_PORT);
  v.dstPort = be16(d, o + TCP_DST_PORT);
  v.seq = be32(d, o + TCP_SEQ);
  v.ack = be32(d, o + TCP_ACK);
  v.flags = offFlags & 0x1ff;
  v.window = be16(d, o + TCP_WINDOW);
  v.tcpHeaderLen = hdrLen;
  v.payloadLen = segEnd - o - hdrLen;

  const optEnd = o + hdrLen < capEnd ? o + hdrLen : capEnd;
  if (optEnd > o + TCP_HDR) parseTcpOptions(v, d, o + TCP_HDR, optEnd);
  return Kind.TCP;
}

/**
 * Options between `p` and `end` (end = header end, or capture end when the
 * snap length cut the options). A bad length stops parsing: what was parsed
 * so far is kept and the packet is still TCP. A known option with the wrong
 * length is skipped, as Linux does.
 */
function parseTcpOptions(v: PacketView, d: Uint8Array, p: number, end: number): void {
  // Bounded: every iteration advances p by at least 1.
  while (p < end) {
    const kind = d[p]!;
    if (kind === OPT_EOL) return;
    if (kind === OPT_NOP) {
      p++;
      continue;
    }
    if (p + 2 > end) return;
    const len = d[p + 1]!;
    if (len < 2 || p + len > end) return;
    switch (kind) {
      case OPT_MSS:
        if (len === 4) v.mss = be16(d, p + 2);
        break;
      case OPT_WSCALE:
        // The raw shift count as sent; RFC 7323 says a receiver treats > 14 as 14.
        if (len === 3) v.windowScale = d[p + 2]!;
        break;
      case OPT_SACK_PERMITTED:
        if (len === 2) v.sackPermitted = true;
        break;
      case OPT_SACK:
        if (len >= 10 && ((len - 2) & 7) === 0) {
          let blocks = (len - 2) >> 3;
          if (blocks > MAX_SACK_BLOCKS) blocks = MAX_SACK_BLOCKS;
          for (let i = 0; i < blocks; i++) {
            v.sackEdges[2 * i] = be32(d, p + 2 + 8 * i);
            v.sackEdges[2 * i + 1] = be32(d, p + 6 + 8 * i);
          }
          v.sackBlocks = blocks;
        }
        break;
      case OPT_TIMESTAMPS:
        if (len === 10) {
          v.hasTimestamps = true;
          v.tsVal = be32(d, p + 2);
          v.tsEcr = be32(d, p + 6);
        }
        break;
      default:
        break;
    }
    p += len;
  }
}

/**
 * ICMPv4 / ICMPv6 at `o`. Only destination unreachable (`unreachType`: 3 for
 * ICMPv4, 1 for ICMPv6), every code, is kept; its quoted datagram is decoded
 * as far as the quote reaches (RFC 792 promises 8 bytes of transport header,
 * RFC 1812 routers and RFC 4443 quote more).
 */
function decodeIcmp(
  v: PacketView,
  d: Uint8Array,
  o: number,
  segEnd: number,
  capEnd: number,
  wireEnd: number,
  unreachType: number,
): number {
  if (o + ICMP_HDR > segEnd) return Kind.SKIP_MALFORMED;
  if (o + ICMP_HDR > capEnd) return cut(capEnd, wireEnd);
  const type = d[o]!;
  if (type !== unreachType) return Kind.SKIP_NOT_TCP;
  v.icmpType = type;
  v.icmpCode = d[o + 1]!;
  const quoteEnd = segEnd < capEnd ? segEnd : capEnd;
  const q = o + ICMP_HDR;
  if (q < quoteEnd) {
    const version = d[q]! >> 4;
    if (version === 4) decodeQuotedIPv4(v, d, q, quoteEnd);
    else if (version === 6) decodeQuotedIPv6(v, d, q, quoteEnd);
  }
  return Kind.ICMP_UNREACH;
}

function decodeQuotedIPv4(v: PacketView, d: Uint8Array, q: number, end: number): void {
  if (q + IP4_HDR > end) return;
  const hdrLen = (d[q]! & 0x0f) << 2;
  if (hdrLen < IP4_HDR) return;
  v.innerIpVersion = 4;
  v.innerProto = d[q + IP4_PROTO]!;
  v.innerSrc[0] = be32(d, q + IP4_SRC);
  v.innerSrc[1] = 0;
  v.innerSrc[2] = 0;
  v.innerSrc[3] = 0;
  v.innerDst[0] = be32(d, q + IP4_DST);
  v.innerDst[1] = 0;
  v.innerDst[2] = 0;
  v.innerDst[3] = 0;
  // A quoted non-first fragment has no transport header.
  if ((be16(d, q + IP4_FRAG) & IP4_FRAG_OFFSET) !== 0) return;
  if (v.innerProto === P_TCP) decodeQuotedTcp(v, d, q + hdrLen, end);
}

function decodeQuotedIPv6(v: PacketView, d: Uint8Array, q: number, end: number): void {
  if (q + IP6_HDR > end) return;
  v.innerIpVersion = 6;
  copyIPv6Addr(v.innerSrc, d, q + IP6_SRC);
  copyIPv6Addr(v.innerDst, d, q + IP6_DST);
  let next = d[q + IP6_NEXT]!;
  let p = q + IP6_HDR;
  // Walk the quoted extension chain so innerProto is the transport protocol.
  for (let n = 0; n < MAX_IP6_EXT; n++) {
    if (next !== P_HOPOPTS && next !== P_ROUTING && next !== P_DSTOPTS && next !== P_FRAGMENT && next !== P_AH) {
      break;
    }
    if (p + 2 > end) {
      v.innerProto = next;
      return;
    }
    let extLen: number;
    if (next === P_FRAGMENT) {
      if (p + IP6_FRAG_HDR > end) {
        v.innerProto = next;
        return;
      }
      if ((be16(d, p + 2) & 0xfff8) !== 0) {
        v.innerProto = d[p]!;
        return; // non-first fragment: no transport header quoted
      }
      extLen = IP6_FRAG_HDR;
    } else if (next === P_AH) {
      extLen = (d[p + 1]! + 2) << 2;
    } else {
      extLen = (d[p + 1]! + 1) << 3;
    }
    next = d[p]!;
    p += extLen;
  }
  v.innerProto = next;
  if (next === P_TCP) decodeQuotedTcp(v, d, p, end);
}

/** The quoted TCP header, as far as it reaches (`end` is the end of the quote). */
function decodeQuotedTcp(v: PacketView, d: Uint8Array, t: number, end: number): void {
  if (t + 4 > end) return;
  v.innerHasPorts = true;
  v.innerSrcPort = be16(d, t + TCP_SRC_PORT);
  v.innerDstPort = be16(d, t + TCP_DST_PORT);
  if (t + 8 > end) return;
  v.innerHasSeq = true;
  v.innerSeq = be32(d, t + TCP_SEQ);
  if (t + TCP_OFF_FLAGS + 2 > end) return;
  v.innerFlags = be16(d, t + TCP_OFF_FLAGS) & 0x1ff;
}
