/**
 * Hand-made Report fixtures for the HTML/anonymization tests, until the real
 * pipeline produces reports from captures.
 */
import { OUTCOMES, type Connection, type LadderStep, type Outcome } from "../../src/flows/connection.js";
import type { Destination, Finding, Percentiles } from "../../src/diagnose/types.js";
import type { Report } from "../../src/report/model.js";

const T0 = 1_763_900_000.123456;

function outcomes(partial: Partial<Record<Outcome, number>>): Record<Outcome, number> {
  const r = {} as Record<Outcome, number>;
  for (const o of OUTCOMES) r[o] = partial[o] ?? 0;
  return r;
}

function pct(vals: number[]): Percentiles {
  const s = [...vals].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { count: s.length, min: s[0]!, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1]! };
}

export interface ConnSpec {
  id: number;
  client: string;
  cport: number;
  server: string;
  sport: number;
  outcome: Outcome;
  t: number;
  ladder?: LadderStep[];
  icmpFrom?: string;
  v6?: boolean;
}

export function conn(s: ConnSpec): Connection {
  const ladder = s.ladder ?? [];
  const frames = ladder.map((l) => l.frame);
  const syn = ladder.filter((l) => l.from === "client" && l.flags === "SYN").length || 1;
  const synAck = ladder.filter((l) => l.flags === "SYN,ACK").length;
  const ok = s.outcome === "closed" || s.outcome === "established" || s.outcome === "reset";
  const zeek: Record<Outcome, string> = {
    unanswered: "S0",
    refused: "REJ",
    "icmp-rejected": "S0",
    "aborted-by-client": "RSTOS0",
    "synack-unacked": "SH",
    established: "S1",
    closed: "SF",
    reset: "RSTR",
    midstream: "OTH",
    pending: "S0",
  };
  return {
    id: s.id,
    ipVersion: s.v6 ? 6 : 4,
    client: { ip: s.client, port: s.cport },
    server: { ip: s.server, port: s.sport },
    outcome: s.outcome,
    zeekState: zeek[s.outcome],
    syn,
    synAck,
    rst:
      s.outcome === "refused"
        ? { from: "server", ts: T0 + s.t + 0.0004, frame: frames[1] ?? 2, ttl: 64, suspectedForged: false, forgedReason: null }
        : null,
    icmp: s.icmpFrom ? { type: s.v6 ? 1 : 3, code: s.v6 ? 1 : 13, from: s.icmpFrom, ts: T0 + s.t + 0.002, frame: frames[1] ?? 2 } : null,
    retransmissions: { data: 0, syn: Math.max(0, syn - 1), synAck: Math.max(0, synAck - 1) },
    duplicates: 0,
    handshakeRttMs: ok ? { synToSynAck: 0.41, synAckToAck: 0.05, total: 0.46 } : null,
    synOptions: { mss: 1460, windowScale: 7, sackPermitted: true, timestamps: true },
    packets: {
      client: ladder.filter((l) => l.from === "client").length || 1,
      server: ladder.filter((l) => l.from === "server").length,
    },
    bytes: { client: 0, server: 0 },
    firstTs: T0 + s.t,
    lastTs: T0 + s.t + (ladder.length ? ladder[ladder.length - 1]!.ts - ladder[0]!.ts : 0),
    frames,
    ladder,
    ladderTruncated: false,
    evicted: false,
  };
}

function step(frame: number, t: number, from: LadderStep["from"], flags: string, seq: number, ack: number, len = 0, note: string | null = null): LadderStep {
  return { frame, ts: T0 + t, from, flags, seq, ack, len, ttl: from === "client" ? 64 : 61, note };
}

/** Ladder seq/ack are relative (as the flow tracker gives them). A small capture: one silently dropped destination, one refused, one ICMP-rejected, healthy traffic. */
export function sampleReport(opts: { hostile?: boolean; many?: number } = {}): Report {
  const bad = opts.hostile ? `10.0.0.9` : "10.0.0.9";
  const connections: Connection[] = [];
  let id = 0;
  // Unanswered: SYN + 3 retransmissions on a 1,3,7 s schedule.
  const unanswered = conn({
    id: id++, client: "192.168.1.10", cport: 40001, server: bad, sport: 443, outcome: "unanswered", t: 0.5,
    ladder: [
      step(3, 0.5, "client", "SYN", 0, 0),
      step(7, 1.5, "client", "SYN", 0, 0, 0, "retransmission"),
      step(12, 3.5, "client", "SYN", 0, 0, 0, "retransmission"),
      step(20, 7.5, "client", "SYN", 0, 0, 0, "retransmission"),
    ],
  });
  connections.push(unanswered);
  const refused = conn({
    id: id++, client: "192.168.1.10", cport: 40002, server: "10.0.0.7", sport: 5432, outcome: "refused", t: 1.0,
    ladder: [step(4, 1.0, "client", "SYN", 0, 0), step(5, 1.0004, "server", "RST,ACK", 0, 1)],
  });
  connections.push(refused);
  const icmp = conn({
    id: id++, client: "2001:db8:1::10", cport: 40003, server: "2001:db8:2::53", sport: 853, outcome: "icmp-rejected", t: 2.0, v6: true,
    icmpFrom: "2001:db8:ff::1",
    ladder: [step(8, 2.0, "client", "SYN", 0, 0), step(9, 2.002, "icmp", "ICMP 1/1", 0, 0)],
  });
  connections.push(icmp);
  const healthy: Connection[] = [];
  for (let i = 0; i < 6; i++) {
    const c = conn({
      id: id++, client: "192.168.1.11", cport: 41000 + i, server: "10.0.0.80", sport: 80, outcome: i === 5 ? "established" : "closed", t: 0.2 + i * 1.3,
      ladder: [
        step(30 + i * 6, 0.2 + i * 1.3, "client", "SYN", 0, 0),
        step(31 + i * 6, 0.2004 + i * 1.3, "server", "SYN,ACK", 0, 1),
        step(32 + i * 6, 0.2005 + i * 1.3, "client", "ACK", 1, 1),
        step(33 + i * 6, 0.201 + i * 1.3, "client", "PSH,ACK", 1, 1, 77),
        step(34 + i * 6, 0.203 + i * 1.3, "server", "FIN,PSH,ACK", 1, 78, 1200),
        step(35 + i * 6, 0.204 + i * 1.3, "client", "FIN,ACK", 78, 1202),
      ],
    });
    healthy.push(c);
    connections.push(c);
  }
  for (let i = 0; i < (opts.many ?? 0); i++) {
    const o = OUTCOMES[i % 7]!;
    connections.push(conn({ id: id++, client: "192.168.2." + (i % 250), cport: 1024 + (i % 60000), server: "10.0.1.1", sport: 443, outcome: o, t: (i / (opts.many ?? 1)) * 3600 }));
  }

  const dest = (server: string, port: number, attempts: number, oc: Partial<Record<Outcome, number>>, diagnosis: Destination["diagnosis"], summary: string, rtt: number[] | null): Destination => ({
    server: { ip: server, port },
    attempts,
    clients: 1,
    outcomes: outcomes(oc),
    retransmissions: { syn: diagnosis === "silent-drop" ? 3 : 0, synAck: 0, data: 0 },
    rttMs: { synToSynAck: rtt ? pct(rtt) : null, total: rtt ? pct(rtt.map((x) => x + 0.05)) : null },
    diagnosis,
    summary,
  });
  const destinations: Destination[] = [
    dest(bad, 443, 1, { unanswered: 1 }, "silent-drop", `Every SYN to ${bad}:443 went unanswered (1 of 1 attempts).`, null),
    dest("10.0.0.7", 5432, 1, { refused: 1 }, "refused", "10.0.0.7 answers SYNs to port 5432 with RST: nothing listens there.", null),
    dest("2001:db8:2::53", 853, 1, { "icmp-rejected": 1 }, "icmp-rejected", "2001:db8:ff::1 rejects SYNs to [2001:db8:2::53]:853 (ICMPv6 administratively prohibited).", null),
    dest("10.0.0.80", 80, 6, { closed: 5, established: 1 }, "healthy", "All 6 handshakes completed.", [0.38, 0.41, 0.4, 0.44, 0.39, 0.52]),
  ];
  if (opts.many) destinations.push(dest("10.0.1.1", 443, opts.many, { unanswered: opts.many }, "silent-drop", "Many attempts.", null));
  const findings: Finding[] = [
    {
      kind: "silent-drop", severity: "problem", server: { ip: bad, port: 443 }, connections: 1,
      title: `SYNs to ${bad}:443 are silently dropped`,
      detail: `1 connection attempt sent its SYN 4 times (after 1, 3 and 7 s) and got nothing back: no SYN-ACK, no RST, no ICMP. A firewall on the path, or on ${bad} itself, is dropping them.`,
      whoCanFix: "whoever runs the firewalls between the client and the server",
      exampleConnections: [unanswered.id], frames: unanswered.frames,
    },
    {
      kind: "refused", severity: "problem", server: { ip: "10.0.0.7", port: 5432 }, connections: 1,
      title: "10.0.0.7:5432 refuses connections (RST)",
      detail: "The server answered the SYN with RST, ACK within 0.4 ms: the host is up, but nothing listens on port 5432.",
      whoCanFix: "the server's owner",
      exampleConnections: [refused.id], frames: refused.frames,
    },
    {
      kind: "icmp-rejected", severity: "problem", server: { ip: "2001:db8:2::53", port: 853 }, connections: 1,
      title: "2001:db8:ff::1 rejects connections to [2001:db8:2::53]:853",
      detail: "A router/firewall (2001:db8:ff::1) answered the SYN with ICMPv6 destination unreachable, administratively prohibited.",
      whoCanFix: "whoever runs 2001:db8:ff::1",
      exampleConnections: [icmp.id], frames: icmp.frames,
    },
  ];
  if (opts.hostile) {
    findings.push({
      kind: "forged-rst", severity: "warning", server: null, connections: 0,
      title: `Odd <b>bold</b> & "quoted" 'text' <img src=x onerror=alert(1)>`,
      detail: `</script><script>alert(2)</script> & more`,
      whoCanFix: `<a href="http://evil.example/">click</a>`,
      exampleConnections: [], frames: [],
    });
  }
  const lastTs = connections.reduce((m, c) => Math.max(m, c.lastTs), -Infinity);
  return {
    tool: { name: "synsent", version: "0.1.0" },
    options: { synTimeoutS: 3, maxFlows: 1_000_000 },
    source: {
      files: opts.hostile ? ["<script>alert(1)</script>.pcap", `a&b "c" 'd'.pcapng`] : ["captures/office-uplink.pcapng"],
      interface: null,
      filter: null,
      packets: 120 + (opts.many ?? 0),
      tcpPackets: 110,
      icmpUnreachable: 1,
      bytes: 84_213,
      firstTs: T0,
      lastTs,
      durationS: lastTs - T0,
      linkTypes: [{ linkType: 1, name: "Ethernet", packets: 120 }],
      skipped: [{ reason: "not TCP", packets: 9 }],
      truncated: 0,
      duplicates: 0,
      stopped: opts.hostile ? [{ file: "<script>alert(1)</script>.pcap", record: 121, offset: 9999, reason: "record length 4294967295 > snap length <&>" }] : [],
      kernel: null,
    },
    connections,
    destinations,
    findings,
    examples: [unanswered, refused, icmp, healthy[0]!],
    flowTable: { maxFlows: 1_000_000, peak: 5, evicted: 0 },
  };
}

/** A capture with nothing wrong. */
export function healthyReport(): Report {
  const r = sampleReport();
  r.connections = r.connections.filter((c) => c.outcome === "closed" || c.outcome === "established");
  r.destinations = r.destinations.filter((d) => d.diagnosis === "healthy");
  r.findings = [];
  r.examples = [];
  return r;
}
