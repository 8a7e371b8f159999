import type { Connection } from "../flows/connection.js";
import type { Destination, Finding } from "../diagnose/types.js";
import type { ReadStop } from "../sources/record.js";

/** What was read, from where, and what was skipped. JSON: `source`. */
export interface SourceSummary {
  /** Files as given on the command line ("-" for stdin); empty for live capture. */
  files: string[];
  /** Interface for live capture, else null. */
  interface: string | null;
  /** BPF filter for live capture, else null. */
  filter: string | null;
  /** Records read. */
  packets: number;
  /** Records whose outermost transport is TCP. */
  tcpPackets: number;
  /** ICMP/ICMPv6 destination-unreachable messages. */
  icmpUnreachable: number;
  /** Captured bytes (sum of captured lengths). */
  bytes: number;
  firstTs: number | null;
  lastTs: number | null;
  durationS: number;
  linkTypes: { linkType: number; name: string; packets: number }[];
  /** Why packets were not analysed, with counts (not fatal). */
  skipped: { reason: string; packets: number }[];
  /** TCP packets cut by the snap length (still analysed). */
  truncated: number;
  /** Packets seen twice (SPAN / -i any), counted once. */
  duplicates: number;
  /** Files that were damaged part-way: analysis covers what came before. */
  stopped: ReadStop[];
  /** Live capture: pcap_stats at the end. */
  kernel: { received: number; dropped: number; ifDropped: number } | null;
}

export interface FlowTableStats {
  maxFlows: number;
  /** Most flows in the table at once. */
  peak: number;
  /** Flows evicted because the table was full (their verdicts are provisional). */
  evicted: number;
}

/** The one report model every format is rendered from, and the library API's result. */
export interface Report {
  tool: { name: "synsent"; version: string };
  options: { synTimeoutS: number; maxFlows: number };
  source: SourceSummary;
  /** Every connection (library API). Empty when connections were streamed to a sink instead. */
  connections: Connection[];
  destinations: Destination[];
  findings: Finding[];
  /** Problem connections kept as examples for ladders (bounded); ids match findings' exampleConnections. */
  examples: Connection[];
  flowTable: FlowTableStats;
}
