/**
 * Hand-made Reports for the renderer tests, built to look like what the flow
 * tracker and diagnoser produce for real captures: SYNs unanswered with the
 * classic 1/3/7 s retry schedule, a refusal, an ICMP 3/13 from a router, a
 * SYN-ACK the client never acknowledged, a connection reset by a forged RST,
 * healthy IPv4 and IPv6 destinations, a damaged second file, skipped packets
 * and flow-table evictions.
 */
import {
  OUTCOMES,
  type Connection,
  type LadderStep,
  type Outcome,
} from "../../src/flows/connection.js";
import type { Destination, DiagnosisKind, Finding, Percentiles } from "../../src/diagnose/types.js";
import type { Report, SourceSummary } from "../../src/report/model.js";

/** 2026-11-23 09:00:00 UTC. */
export const T0 = 1795424400;

type StepArgs = Partial<Pick<LadderStep, "seq" | "ack" | "len" | "ttl" | "note">>;

export function step(frame: number, ts: number, from: LadderStep["from"], flags: string, a: StepArgs = {}): LadderStep {
  return {
    frame,
    ts,
    from,
    flags,
    seq: a.seq ?? 0,
    ack: a.ack ?? 0,
    len: a.len ?? 0,
    ttl: a.ttl ?? (from === "client" ? 64 : 61),
    note: a.note ?? null,
  };
}

let nextId = 0;

export function conn(p: Partial<Connection> & Pick<Connection, "client" | "server" | "outcome" | "ladder">): Connection {
  const ladder = p.ladder;
  const firstTs = p.firstTs ?? ladder[0]?.ts ?? T0;
  const lastTs = p.lastTs ?? ladder[ladder.length - 1]?.ts ?? firstTs;
  const syn = p.syn ?? ladder.filter((s) => s.from === "client" && s.flags === "SYN").length;
  const synAck = p.synAck ?? ladder.filter((s) => s.flags === "SYN,ACK").length;
  const c: Connection = {
    id: p.id ?? nextId++,
    ipVersion: p.ipVersion ?? (p.server.ip.includes(":") ? 6 : 4),
    client: p.client,
    server: p.server,
    outcome: p.outcome,
    zeekState: p.zeekState ?? "S0",
    syn,
    synAck,
    rst: p.rst ?? null,
    icmp: p.icmp ?? null,
    retransmissions: p.retransmissions ?? { data: 0, syn: Math.max(0, syn - 1), synAck: Math.max(0, synAck - 1) },
    duplicates: p.duplicates ?? 0,
    handshakeRttMs: p.handshakeRttMs ?? null,
    synOptions: p.synOptions === undefined ? { mss: 1460, windowScale: 7, sackPermitted: true, timestamps: true } : p.synOptions,
    packets: p.packets ?? {
      client: ladder.filter((s) => s.from === "client").length,
      server: ladder.filter((s) => s.from === "server").length,
    },
    bytes: p.bytes ?? { client: 0, server: 0 },
    firstTs,
    lastTs,
    frames: p.frames ?? ladder.map((s) => s.frame),
    ladder,
    ladderTruncated: p.ladderTruncated ?? false,
    evicted: p.evicted ?? false,
  };
  return c;
}

const CLIENT = "10.0.0.1";

/** 4 SYNs at 0, 1, 3, 7 s (Linux with tcp_syn_linear_timeouts=0): no answer. */
function unanswered(id: number, port: number, t: number, frame: number, server = { ip: "10.0.0.5", port: 8080 }): Connection {
  const client = { ip: server.ip.includes(":") ? "2001:db8::1" : CLIENT, port };
  return conn({
    id,
    client,
    server,
    outcome: "unanswered",
    zeekState: "S0",
    ladder: [
      step(frame, t, "client", "SYN"),
      step(frame + 7, t + 1.003, "client", "SYN", { note: "retransmission" }),
      step(frame + 21, t + 3.011, "client", "SYN", { note: "retransmission" }),
      step(frame + 48, t + 7.027, "client", "SYN", { note: "retransmission" }),
    ],
  });
}

function healthy(id: number, client: { ip: string; port: number }, server: { ip: string; port: number }, t: number, frame: number, rtt: number): Connection {
  const r = rtt / 1000;
  const sttl = server.ip.includes(":") ? 57 : 61;
  return conn({
    id,
    client,
    server,
    outcome: "closed",
    zeekState: "SF",
    handshakeRttMs: { synToSynAck: rtt * 0.97, synAckToAck: rtt * 0.03, total: rtt },
    packets: { client: 6, server: 5 },
    bytes: { client: 517, server: 4380 },
    lastTs: t + 0.2,
    ladder: [
      step(frame, t, "client", "SYN"),
      step(frame + 1, t + r * 0.97, "server", "SYN,ACK", { ack: 1, ttl: sttl }),
      step(frame + 2, t + r, "client", "ACK", { seq: 1, ack: 1 }),
      step(frame + 3, t + r + 0.0001, "client", "PSH,ACK", { seq: 1, ack: 1, len: 517 }),
      step(frame + 4, t + 2 * r, "server", "ACK", { seq: 1, ack: 518, ttl: sttl }),
      step(frame + 5, t + 2 * r + 0.0002, "server", "PSH,ACK", { seq: 1, ack: 518, len: 1460, ttl: sttl }),
    ],
    ladderTruncated: true,
  });
}

/**
 * Give every ladder step a frame number in capture (time) order across all
 * connections, with gaps for the packets a ladder does not show, and point
 * rst/icmp at the renumbered frames: fixtures stay consistent without
 * hand-counting frames.
 */
function renumberFrames(conns: Connection[]): void {
  const all = conns.flatMap((c) => c.ladder.map((s) => ({ c, s, old: s.frame })));
  all.sort((a, b) => a.s.ts - b.s.ts);
  let f = 1;
  for (const e of all) {
    f += 1 + (e.old % 3); // deterministic gaps: other packets in between
    if (e.c.rst && e.c.rst.frame === e.old && e.s.from !== "icmp" && e.s.flags.includes("RST")) e.c.rst.frame = f;
    if (e.c.icmp && e.c.icmp.frame === e.old && e.s.from === "icmp") e.c.icmp.frame = f;
    e.s.frame = f;
  }
  for (const c of conns) c.frames = c.ladder.map((s) => s.frame);
}

function pct(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)]!;
  return { count: v.length, min: v[0]!, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: v[v.length - 1]! };
}

/** Aggregate connections per server the way the diagnoser does (enough for renderer tests). */
export function destinationsOf(conns: Connection[], diag: Map<string, [DiagnosisKind, string]>): Destination[] {
  const by = new Map<string, Connection[]>();
  for (const c of conns) {
    const k = `${c.server.ip}|${c.server.port}`;
    const l = by.get(k) ?? [];
    l.push(c);
    by.set(k, l);
  }
  const out: Destination[] = [];
  for (const [k, l] of by) {
    const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
    for (const c of l) outcomes[c.outcome]++;
    const [kind, summary] = diag.get(k) ?? ["healthy", "All handshakes completed."];
    out.push({
      server: l[0]!.server,
      attempts: l.length,
      clients: new Set(l.map((c) => c.client.ip)).size,
      outcomes,
      retransmissions: {
        syn: l.reduce((a, c) => a + c.retransmissions.syn, 0),
        synAck: l.reduce((a, c) => a + c.retransmissions.synAck, 0),
        data: l.reduce((a, c) => a + c.retransmissions.data, 0),
      },
      rttMs: {
        synToSynAck: pct(l.flatMap((c) => (c.handshakeRttMs ? [c.handshakeRttMs.synToSynAck] : []))),
        total: pct(l.flatMap((c) => (c.handshakeRttMs ? [c.handshakeRttMs.total] : []))),
      },
      diagnosis: kind,
      summary,
    });
  }
  return out;
}

function baseSource(over: Partial<SourceSummary>): SourceSummary {
  return {
    files: [],
    interface: null,
    filter: null,
    packets: 0,
    tcpPackets: 0,
    icmpUnreachable: 0,
    bytes: 0,
    firstTs: null,
    lastTs: null,
    durationS: 0,
    linkTypes: [],
    skipped: [],
    truncated: 0,
    duplicates: 0,
    stopped: [],
    kernel: null,
    ...over,
  };
}

/**
 * Two files, every kind of trouble. The second file is damaged part-way, some
 * flows were evicted, some packets skipped.
 */
export function troubleReport(): Report {
  nextId = 0;
  const conns: Connection[] = [];
  // #0: a healthy web server, seen first.
  conns.push(healthy(0, { ip: CLIENT, port: 51500 }, { ip: "10.0.0.9", port: 80 }, T0, 1, 0.874));
  // #1..#12: 12 attempts to 10.0.0.5:8080, all unanswered, 4 SYNs each over 7 s.
  for (let i = 0; i < 12; i++) conns.push(unanswered(1 + i, 51514 + i, T0 + 0.5 + i * 0.25, 12 + i * 2));
  // #13..#15: refused by 10.0.0.6:443 (RST,ACK straight back).
  for (let i = 0; i < 3; i++) {
    const t = T0 + 12 + i;
    const f = 120 + i * 2;
    conns.push(
      conn({
        id: 13 + i,
        client: { ip: CLIENT, port: 40100 + i },
        server: { ip: "10.0.0.6", port: 443 },
        outcome: "refused",
        zeekState: "REJ",
        rst: { from: "server", ts: t + 0.000412, frame: f + 1, ttl: 61, suspectedForged: false, forgedReason: null },
        ladder: [step(f, t, "client", "SYN"), step(f + 1, t + 0.000412, "server", "RST,ACK", { ack: 1 })],
      }),
    );
  }
  // #16, #17: ICMP 3/13 "communication administratively prohibited" from a router.
  for (let i = 0; i < 2; i++) {
    const t = T0 + 20 + i * 2;
    const f = 140 + i * 2;
    conns.push(
      conn({
        id: 16 + i,
        client: { ip: CLIENT, port: 33000 + i },
        server: { ip: "10.0.0.7", port: 25 },
        outcome: "icmp-rejected",
        zeekState: "S0",
        icmp: { type: 3, code: 13, from: "192.0.2.254", ts: t + 0.0021, frame: f + 1 },
        ladder: [step(f, t, "client", "SYN"), step(f + 1, t + 0.0021, "icmp", "ICMP 3/13", { ttl: 254 })],
      }),
    );
  }
  // #18: SYN-ACK retransmitted by the server, the client's ACK never seen.
  conns.push(
    conn({
      id: 18,
      client: { ip: CLIENT, port: 45000 },
      server: { ip: "10.0.0.8", port: 5432 },
      outcome: "synack-unacked",
      zeekState: "SH",
      retransmissions: { data: 0, syn: 0, synAck: 3 },
      ladder: [
        step(150, T0 + 25, "client", "SYN"),
        step(151, T0 + 25.0009, "server", "SYN,ACK", { ack: 1 }),
        step(160, T0 + 26.02, "server", "SYN,ACK", { ack: 1, note: "retransmission" }),
        step(171, T0 + 28.06, "server", "SYN,ACK", { ack: 1, note: "retransmission" }),
        step(190, T0 + 32.14, "server", "SYN,ACK", { ack: 1, note: "retransmission" }),
      ],
    }),
  );
  // #19: established, data flowing, then a RST "from the server" with TTL 64
  // while the server's own packets arrive with TTL 52: injected on the path.
  conns.push(
    conn({
      id: 19,
      client: { ip: CLIENT, port: 51600 },
      server: { ip: "203.0.113.10", port: 443 },
      outcome: "reset",
      zeekState: "RSTR",
      handshakeRttMs: { synToSynAck: 23.4, synAckToAck: 0.05, total: 23.45 },
      rst: {
        from: "server",
        ts: T0 + 30.0712,
        frame: 205,
        ttl: 64,
        suspectedForged: true,
        forgedReason: "TTL 64, other packets from 203.0.113.10 arrive with TTL 52",
      },
      retransmissions: { data: 1, syn: 0, synAck: 0 },
      packets: { client: 4, server: 3 },
      bytes: { client: 517, server: 1460 },
      ladder: [
        step(200, T0 + 30, "client", "SYN"),
        step(201, T0 + 30.0234, "server", "SYN,ACK", { ack: 1, ttl: 52 }),
        step(202, T0 + 30.02345, "client", "ACK", { seq: 1, ack: 1 }),
        step(203, T0 + 30.0236, "client", "PSH,ACK", { seq: 1, ack: 1, len: 517 }),
        step(204, T0 + 30.0471, "server", "ACK", { seq: 1, ack: 518, ttl: 52 }),
        step(205, T0 + 30.0712, "server", "RST", { seq: 1, ttl: 64 }),
        step(206, T0 + 30.2501, "client", "PSH,ACK", { seq: 1, ack: 1, len: 517, note: "retransmission" }),
      ],
    }),
  );
  // #20, #21: IPv6, healthy.
  conns.push(healthy(20, { ip: "2001:db8::1", port: 50000 }, { ip: "2001:db8::10", port: 443 }, T0 + 33, 210, 12.5));
  conns.push(healthy(21, { ip: "2001:db8::1", port: 50001 }, { ip: "2001:db8::10", port: 443 }, T0 + 34, 220, 14.1));
  // #22: IPv6, unanswered, and evicted from the full flow table before its verdict was final.
  const ev = unanswered(22, 50002, T0 + 35, 230, { ip: "2001:db8::20", port: 22 });
  ev.evicted = true;
  conns.push(ev);
  // #23: capture ended 1 s after the SYN: too soon to call it unanswered.
  conns.push(
    conn({
      id: 23,
      client: { ip: CLIENT, port: 51700 },
      server: { ip: "10.0.0.9", port: 80 },
      outcome: "pending",
      zeekState: "S0",
      ladder: [step(300, T0 + 41, "client", "SYN")],
    }),
  );

  // #24: started before the capture (no SYN seen).
  conns.push(
    conn({
      id: 24,
      client: { ip: CLIENT, port: 49999 },
      server: { ip: "10.0.0.9", port: 80 },
      outcome: "midstream",
      zeekState: "OTH",
      synOptions: null,
      syn: 0,
      synAck: 0,
      retransmissions: { data: 0, syn: 0, synAck: 0 },
      bytes: { client: 0, server: 2920 },
      ladder: [
        step(310, T0 + 41.5, "server", "ACK", { seq: 90001, ack: 5001, len: 1460 }),
        step(311, T0 + 41.5001, "server", "PSH,ACK", { seq: 91461, ack: 5001, len: 1460 }),
        step(312, T0 + 41.51, "client", "ACK", { seq: 5001, ack: 92921 }),
      ],
    }),
  );
  renumberFrames(conns);
  const fr = (ids: number[]) => ids.flatMap((i) => conns[i]!.frames).sort((a, b) => a - b).slice(0, 12);

  const diag = new Map<string, [DiagnosisKind, string]>([
    ["10.0.0.5|8080", ["silent-drop", "12 of 12 connection attempts got no answer; each SYN was retried 3 times over 7 s."]],
    ["10.0.0.6|443", ["refused", "3 of 3 SYNs were answered by a reset: nothing listens on port 443."]],
    ["10.0.0.7|25", ["icmp-rejected", "Router 192.0.2.254 answered 2 SYNs with ICMP 3/13 (administratively prohibited)."]],
    ["10.0.0.8|5432", ["synack-unacked", "The server answered, but the client's ACK never arrived."]],
    ["203.0.113.10|443", ["forged-rst", "1 connection was reset by a RST that looks injected."]],
    ["2001:db8::20|22", ["silent-drop", "1 of 1 connection attempts got no answer."]],
  ]);
  const destinations = destinationsOf(conns, diag);
  const ex = (ids: number[]) => ids.map((i) => conns[i]!);

  const findings: Finding[] = [
    {
      kind: "silent-drop",
      severity: "problem",
      server: { ip: "10.0.0.5", port: 8080 },
      connections: 12,
      title: "12 of 12 SYNs to 10.0.0.5:8080 got no answer, each retried 3 times over 7 s",
      detail:
        "The client kept retrying and nothing came back: no SYN-ACK, no reset, no ICMP error. Packets are dropped silently, usually by a firewall or security group on the path, or the host is down.",
      whoCanFix: "whoever runs the network path (firewall or security group in front of 10.0.0.5)",
      exampleConnections: [1, 2, 3, 4, 5],
      frames: fr([1, 2, 3, 4, 5]),
    },
    {
      kind: "refused",
      severity: "problem",
      server: { ip: "10.0.0.6", port: 443 },
      connections: 3,
      title: "3 of 3 SYNs to 10.0.0.6:443 were refused with a reset",
      detail:
        "The host answered each SYN with RST,ACK within 0.4 ms: it is reachable, but nothing listens on port 443 (or a local firewall rejects it).",
      whoCanFix: "the owner of 10.0.0.6 (is the service running, on this port?)",
      exampleConnections: [13, 14, 15],
      frames: fr([13, 14, 15]),
    },
    {
      kind: "icmp-rejected",
      severity: "problem",
      server: { ip: "10.0.0.7", port: 25 },
      connections: 2,
      title: "Router 192.0.2.254 rejected 2 SYNs to 10.0.0.7:25 (ICMP 3/13, administratively prohibited)",
      detail:
        "A device on the path, not the server, answered with 'communication administratively prohibited': a firewall rule or ACL rejects this traffic.",
      whoCanFix: "whoever runs 192.0.2.254 (the firewall or router that sent the ICMP error)",
      exampleConnections: [16, 17],
      frames: fr([16, 17]),
    },
    {
      kind: "synack-unacked",
      severity: "problem",
      server: { ip: "10.0.0.8", port: 5432 },
      connections: 1,
      title: "10.0.0.8:5432 answered, but the client never acknowledged the SYN-ACK",
      detail:
        "The server sent its SYN-ACK 4 times over 7.1 s and the client's ACK never showed up. The SYN-ACK is probably lost on the way back (asymmetric routing, a stateful firewall that dropped it) or the client's host firewall drops it.",
      whoCanFix: "whoever runs the return path to 10.0.0.1",
      exampleConnections: [18],
      frames: fr([18]),
    },
    {
      kind: "forged-rst",
      severity: "problem",
      server: { ip: "203.0.113.10", port: 443 },
      connections: 1,
      title: "A reset on a connection to 203.0.113.10:443 looks forged",
      detail:
        "The RST came with TTL 64, but every other packet from 203.0.113.10 arrived with TTL 52: a middlebox (IPS, proxy, DPI) most likely injected it.",
      whoCanFix: "whoever runs the security devices on the path",
      exampleConnections: [19],
      frames: fr([19]),
    },
    {
      kind: "silent-drop",
      severity: "warning",
      server: { ip: "2001:db8::20", port: 22 },
      connections: 1,
      title: "1 SYN to [2001:db8::20]:22 got no answer (verdict provisional: flow evicted)",
      detail: "The flow was evicted from the full flow table before the capture ended; raise --max-flows to be sure.",
      whoCanFix: "whoever runs the network path",
      exampleConnections: [22],
      frames: fr([22]),
    },
  ];

  findings.push({
    kind: "data-retransmissions",
    severity: "info",
    server: null,
    connections: 1,
    title: "1 data segment was retransmitted in the whole capture",
    detail: "Too few to point at loss on the path.",
    whoCanFix: "",
    exampleConnections: [19],
    frames: fr([19]).slice(-1),
  });

  const source = baseSource({
    files: ["captures/drop.pcap", "captures/odd|name `x`.pcapng"],
    packets: 1834,
    tcpPackets: 1690,
    icmpUnreachable: 2,
    bytes: 412_771,
    firstTs: T0,
    lastTs: T0 + 42.5,
    durationS: 42.5,
    linkTypes: [
      { linkType: 1, name: "Ethernet", packets: 1800 },
      { linkType: 113, name: "Linux cooked (SLL)", packets: 34 },
    ],
    skipped: [
      { reason: "not TCP", packets: 130 },
      { reason: "not IP", packets: 12 },
    ],
    truncated: 3,
    duplicates: 17,
    stopped: [
      {
        file: "captures/odd|name `x`.pcapng",
        record: 1024,
        offset: 1_048_592,
        reason: "block length 4294967295 runs past the end of the file",
      },
    ],
  });

  return {
    tool: { name: "synsent", version: "0.1.0" },
    options: { synTimeoutS: 3, maxFlows: 20 },
    source,
    connections: conns,
    destinations,
    findings,
    examples: ex([1, 2, 3, 4, 13, 14, 16, 17, 18, 19, 22]),
    flowTable: { maxFlows: 20, peak: 20, evicted: 4 },
  };
}

/** Live capture on eth0 with a filter, everything healthy, but the kernel dropped packets. */
export function healthyLiveReport(): Report {
  nextId = 100;
  const conns = [
    healthy(100, { ip: "192.168.1.20", port: 40000 }, { ip: "192.168.1.1", port: 443 }, T0, 1, 0.412),
    healthy(101, { ip: "192.168.1.20", port: 40001 }, { ip: "192.168.1.1", port: 443 }, T0 + 1, 12, 0.523),
    healthy(102, { ip: "192.168.1.21", port: 40002 }, { ip: "192.168.1.1", port: 443 }, T0 + 2, 23, 1.207),
    healthy(103, { ip: "fe80::1", port: 40003 }, { ip: "fe80::2", port: 8443 }, T0 + 3, 34, 0.201),
  ];
  return {
    tool: { name: "synsent", version: "0.1.0" },
    options: { synTimeoutS: 3, maxFlows: 1_000_000 },
    source: baseSource({
      interface: "eth0",
      filter: "tcp port 443 or tcp port 8443",
      packets: 5000,
      tcpPackets: 5000,
      bytes: 3_100_000,
      firstTs: T0,
      lastTs: T0 + 3725,
      durationS: 3725,
      linkTypes: [{ linkType: 1, name: "Ethernet", packets: 5000 }],
      kernel: { received: 5012, dropped: 12, ifDropped: 0 },
    }),
    connections: [],
    destinations: destinationsOf(conns, new Map()),
    findings: [],
    examples: [],
    flowTable: { maxFlows: 1_000_000, peak: 3, evicted: 0 },
  };
}

/** A capture with no TCP at all (only UDP). */
export function emptyReport(): Report {
  return {
    tool: { name: "synsent", version: "0.1.0" },
    options: { synTimeoutS: 3, maxFlows: 1_000_000 },
    source: baseSource({
      files: ["dns-only.pcap"],
      packets: 40,
      bytes: 4000,
      firstTs: T0,
      lastTs: T0 + 2,
      durationS: 2,
      linkTypes: [{ linkType: 1, name: "Ethernet", packets: 40 }],
      skipped: [{ reason: "not TCP", packets: 40 }],
    }),
    connections: [],
    destinations: [],
    findings: [],
    examples: [],
    flowTable: { maxFlows: 1_000_000, peak: 0, evicted: 0 },
  };
}
