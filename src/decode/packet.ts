/**
 * One reusable, mutable view of a decoded packet (gopacket's
 * DecodingLayerParser idea): the decoder refills the same object for every
 * packet, so the hot path allocates nothing. Consumers copy out the few
 * numbers they keep; they must not hold on to the arrays.
 *
 * Addresses are four big-endian 32-bit words. IPv4 uses word 0 only
 * (words 1..3 are zero) and `ipVersion` says which family it is.
 */

/** What a packet turned out to be. Everything except TCP and ICMP_UNREACH is a skip reason. */
export const Kind = {
  /** A TCP segment (outermost transport is TCP). */
  TCP: 1,
  /** ICMPv4 type 3 or ICMPv6 type 1 (destination unreachable), quoted header decoded. */
  ICMP_UNREACH: 2,
  /** Link type synsent does not decode. */
  SKIP_LINKTYPE: 10,
  /** Link layer decoded, but the payload is not IPv4/IPv6 (ARP, LLDP, STP, ...). */
  SKIP_NOT_IP: 11,
  /** IP, but neither TCP nor ICMP destination-unreachable (UDP, other ICMP, ...). */
  SKIP_NOT_TCP: 12,
  /** Non-first IP fragment (no transport header in it). */
  SKIP_FRAGMENT: 13,
  /** The snap length cut the packet before the TCP (or ICMP) header was complete. */
  SKIP_TRUNCATED: 14,
  /** Headers that contradict themselves (IHL < 5, TCP data offset < 5, lengths past the end, ...). */
  SKIP_MALFORMED: 15,
} as const;
export type KindValue = (typeof Kind)[keyof typeof Kind];

/** Human labels for skip reasons, as shown in the summary. */
export const KIND_LABEL: Record<number, string> = {
  [Kind.TCP]: "tcp",
  [Kind.ICMP_UNREACH]: "icmp-unreachable",
  [Kind.SKIP_LINKTYPE]: "unsupported link type",
  [Kind.SKIP_NOT_IP]: "not IP",
  [Kind.SKIP_NOT_TCP]: "not TCP",
  [Kind.SKIP_FRAGMENT]: "IP fragment",
  [Kind.SKIP_TRUNCATED]: "cut by snap length before the transport header",
  [Kind.SKIP_MALFORMED]: "malformed headers",
};

/** TCP flag bits as in the 13th/14th header bytes (RFC 9293, RFC 3168). */
export const TcpFlag = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  /** RFC 3540 nonce sum (historic), bit 8 of the flags field. */
  NS: 0x100,
} as const;

export class PacketView {
  /** One of Kind.*. */
  kind: number = 0;
  /** LINKTYPE_* of the record. */
  linkType = 0;

  // ---- network layer (valid when kind is TCP or ICMP_UNREACH) ----
  /** 4 or 6. */
  ipVersion = 0;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** IPv4 TTL or IPv6 hop limit. */
  ttl = 0;
  /** IPv4 identification; -1 for IPv6 (no IP ID unless fragmented). */
  ipId = -1;
  /** Offset of the IP header in the record's bytes. */
  ipOffset = 0;
  /** Offset of the transport (TCP/ICMP) header in the record's bytes. */
  l4Offset = 0;
  /** Length of the transport segment by the IP header (IPv4 total length - IHL, IPv6 payload length - ext headers). */
  l4Length = 0;

  // ---- TCP (valid when kind === Kind.TCP) ----
  srcPort = 0;
  dstPort = 0;
  /** Unsigned 32-bit sequence number (0..2^32-1). */
  seq = 0;
  /** Unsigned 32-bit acknowledgment number. */
  ack = 0;
  /** TcpFlag bits, including ECE, CWR and NS. */
  flags = 0;
  /** Raw window field (not scaled). */
  window = 0;
  /** TCP header length in bytes (data offset * 4). */
  tcpHeaderLen = 0;
  /** Payload length computed from the IP length, not the captured length. */
  payloadLen = 0;
  /** True when the snap length cut this packet (captured < original). */
  truncated = false;
  // TCP options; -1 / false when absent.
  mss = -1;
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** Number of SACK blocks (0..4); edges in sackEdges[2*i], sackEdges[2*i+1]. */
  sackBlocks = 0;
  readonly sackEdges = new Uint32Array(8);

  // ---- ICMP destination unreachable (valid when kind === Kind.ICMP_UNREACH) ----
  /** ICMP type (3 for ICMPv4, 1 for ICMPv6). The sender is `src`. */
  icmpType = 0;
  icmpCode = 0;
  /** IP version of the quoted datagram (4/6), 0 when nothing usable was quoted. */
  innerIpVersion = 0;
  readonly innerSrc = new Uint32Array(4);
  readonly innerDst = new Uint32Array(4);
  /** IP protocol of the quoted datagram (6 = TCP). */
  innerProto = 0;
  /** Quoted TCP ports; valid when innerHasPorts. */
  innerHasPorts = false;
  innerSrcPort = 0;
  innerDstPort = 0;
  /** Quoted TCP sequence number; valid when innerHasSeq (needs 8 bytes of the quoted TCP header). */
  innerHasSeq = false;
  innerSeq = 0;
  /** Quoted TCP flags when the quote reaches byte 13 of the TCP header; -1 otherwise. */
  innerFlags = -1;
}
