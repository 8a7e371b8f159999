/**
 * A finished (or, at end of capture, final) TCP connection as the flow tracker
 * reports it. Field names here are the JSON contract of `--format json`
 * (`connections[]`) and of the library API: rename nothing without a major
 * version. Timestamps are seconds since the Unix epoch as numbers (float,
 * ~µs precision kept); durations are milliseconds.
 */

export type Outcome =
  | "unanswered" // Zeek S0: SYN(s) from the client, nothing back
  | "refused" // Zeek REJ: SYN answered by RST
  | "icmp-rejected" // ICMP/ICMPv6 destination unreachable quoting the SYN
  | "aborted-by-client" // Zeek RSTOS0: SYN, then RST from the client, no reply
  | "synack-unacked" // SYN + SYN-ACK, client's ACK never seen
  | "established" // Zeek S1: handshake done, open at end of capture
  | "closed" // Zeek SF/S2/S3: handshake done, then FIN
  | "reset" // Zeek RSTO/RSTR: handshake done, then RST
  | "midstream" // Zeek OTH: no SYN seen
  | "pending"; // capture ended less than --syn-timeout after the last SYN

export const OUTCOMES: readonly Outcome[] = [
  "unanswered",
  "refused",
  "icmp-rejected",
  "aborted-by-client",
  "synack-unacked",
  "established",
  "closed",
  "reset",
  "midstream",
  "pending",
];

/** Outcomes that mean something went wrong and deserve a place in a ticket. */
export const PROBLEM_OUTCOMES: readonly Outcome[] = [
  "unanswered",
  "refused",
  "icmp-rejected",
  "synack-unacked",
  "reset",
  "aborted-by-client",
];

export interface Endpoint {
  /** Dotted quad or RFC 5952 IPv6 text. */
  ip: string;
  port: number;
}

export interface RstInfo {
  from: "client" | "server";
  /** Timestamp of the first RST. */
  ts: number;
  frame: number;
  /** TTL / hop limit the RST arrived with. */
  ttl: number;
  /**
   * Set when the RST's TTL (or IP ID) does not fit the other packets seen from
   * that address: most likely injected by a middlebox, not sent by the host.
   */
  suspectedForged: boolean;
  /** Why it looks forged (e.g. "TTL 64, other packets from 10.0.0.5 arrive with TTL 61"); null if not. */
  forgedReason: string | null;
}

export interface IcmpInfo {
  type: number;
  code: number;
  /** The address that sent the ICMP error (a router or firewall, not necessarily the server). */
  from: string;
  ts: number;
  frame: number;
}

export interface HandshakeRtt {
  synToSynAck: number;
  synAckToAck: number;
  total: number;
}

export interface SynOptions {
  mss: number | null;
  windowScale: number | null;
  sackPermitted: boolean;
  timestamps: boolean;
}

/** One packet of a connection, for the packet ladder in reports. */
export interface LadderStep {
  frame: number;
  ts: number;
  from: "client" | "server" | "icmp";
  /** Flags as text, e.g. "SYN", "SYN,ACK", "RST,ACK", or "ICMP 3/13". */
  flags: string;
  seq: number;
  ack: number;
  len: number;
  ttl: number;
  /** "retransmission", "duplicate", "keep-alive" or null. */
  note: string | null;
}

export interface Connection {
  /** 0-based connection number in order of first packet (like Wireshark's tcp.stream). */
  id: number;
  ipVersion: 4 | 6;
  /** The side that sent the first SYN (for midstream: the side that sent the first packet seen). */
  client: Endpoint;
  server: Endpoint;
  outcome: Outcome;
  /** Zeek conn_state equivalent: S0, REJ, RSTOS0, S1, SF, S2, S3, RSTO, RSTR, SH, OTH, ... */
  zeekState: string;
  /** SYNs from the client, retransmissions included. */
  syn: number;
  /** SYN-ACKs from the server, retransmissions included. */
  synAck: number;
  rst: RstInfo | null;
  icmp: IcmpInfo | null;
  retransmissions: {
    /** Segments matching Wireshark's tcp.analysis.retransmission, SYN/SYN-ACK retransmits excluded. */
    data: number;
    /** SYN retransmissions (syn - 1 when > 0). */
    syn: number;
    /** SYN-ACK retransmissions. */
    synAck: number;
  };
  /** Packets captured twice (same IP ID, seq, length and flags within a few ms), counted once. */
  duplicates: number;
  handshakeRttMs: HandshakeRtt | null;
  /** Options of the client's first SYN; null for midstream. */
  synOptions: SynOptions | null;
  packets: { client: number; server: number };
  /** TCP payload bytes (by IP length), retransmissions included. */
  bytes: { client: number; server: number };
  firstTs: number;
  lastTs: number;
  /** Frame numbers (1-based, in capture order) of the packets behind the verdict. */
  frames: number[];
  /**
   * The first packets of the connection (bounded), for ladders. By default
   * (analyze(), the CLI) only connections worth a look carry one: a problem
   * outcome (PROBLEM_OUTCOMES), pending, or any retransmission or duplicate;
   * clean connections get [] (with ladderTruncated false). The option
   * ladderFor: "all" gives every connection its ladder.
   */
  ladder: LadderStep[];
  /** True when `ladder` was cut (the connection had more packets). */
  ladderTruncated: boolean;
  /** Evicted from a full flow table before it finished; its outcome is the best verdict at that time. */
  evicted: boolean;
}
