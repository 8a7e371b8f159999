import type { Endpoint, Outcome } from "../flows/connection.js";

export interface Percentiles {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Everything synsent knows about one server endpoint (ip:port). */
export interface Destination {
  server: Endpoint;
  /** Connections (attempts) to it. */
  attempts: number;
  /** Distinct client addresses. */
  clients: number;
  outcomes: Record<Outcome, number>;
  retransmissions: { syn: number; synAck: number; data: number };
  /** Handshake round trip at the capture point, ms (total = SYN→SYN-ACK→ACK). */
  rttMs: { synToSynAck: Percentiles | null; total: Percentiles | null };
  /** Key of the main finding for this destination, or "healthy". */
  diagnosis: DiagnosisKind;
  /** One plain-language sentence (or two). */
  summary: string;
}

export type DiagnosisKind =
  | "healthy"
  | "silent-drop"
  | "refused"
  | "icmp-rejected"
  | "synack-unacked"
  | "retried-handshake"
  | "reset-after-established"
  | "forged-rst"
  | "aborted-by-client"
  | "data-retransmissions";

export type Severity = "problem" | "warning" | "info";

export interface Finding {
  kind: DiagnosisKind;
  severity: Severity;
  /** The destination concerned (null for capture-wide findings). */
  server: Endpoint | null;
  /** Connections this finding is about. */
  connections: number;
  /** One line: what is wrong, where. */
  title: string;
  /** Plain language: what the packets show and what it usually means. */
  detail: string;
  /** Who can fix it ("whoever runs the network path", "the server's owner", ...). */
  whoCanFix: string;
  /** Ids of example connections (bounded). */
  exampleConnections: number[];
  /** Frame numbers that prove it (bounded). */
  frames: number[];
}
