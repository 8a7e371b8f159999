/** The live view's frame: waiting SYNs, per-destination tallies, drops; fits the terminal. */
import { describe, expect, it } from "vitest";
import { LiveView, type LiveSnapshot } from "../../src/report/live-view.js";
import type { Connection, Outcome } from "../../src/flows/connection.js";

function conn(port: number, outcome: Outcome, rttMs: number | null = null, synRetrans = 0): Connection {
  return {
    id: 0,
    ipVersion: 4,
    client: { ip: "10.79.0.1", port: 40000 },
    server: { ip: "10.79.0.2", port },
    outcome,
    zeekState: "S0",
    syn: 1 + synRetrans,
    synAck: 0,
    rst: null,
    icmp: null,
    retransmissions: { data: 0, syn: synRetrans, synAck: 0 },
    duplicates: 0,
    handshakeRttMs: rttMs === null ? null : { synToSynAck: rttMs / 2, synAckToAck: rttMs / 2, total: rttMs },
    synOptions: null,
    packets: { client: 1, server: 0 },
    bytes: { client: 0, server: 0 },
    firstTs: 0,
    lastTs: 0,
    frames: [],
    ladder: [],
    ladderTruncated: false,
    evicted: false,
  };
}

const fakeOut = { columns: 120, rows: 30, write: () => true } as unknown as NodeJS.WriteStream;

describe("live view frame", () => {
  const snap = (over: Partial<LiveSnapshot> = {}): LiveSnapshot => ({
    now: 1_800_000_010,
    packets: 1234,
    connections: 5,
    kernel: { received: 1300, dropped: 66, ifDropped: 0 },
    waiting: [{ client: { ip: "10.79.0.1", port: 50000 }, server: { ip: "10.79.0.2", port: 81 }, firstSynTs: 1_800_000_007.5, syns: 3 }],
    waitingTotal: 1,
    ...over,
  });

  it("shows waiting SYNs with their age, per-destination outcomes, retransmissions, RTT and drops", () => {
    const v = new LiveView({ out: fakeOut, interface: "ssl-v0", filter: "tcp", snapshot: () => snap() });
    v.connection(conn(80, "closed", 0.5));
    v.connection(conn(80, "closed", 1.5));
    v.connection(conn(82, "refused"));
    v.connection(conn(81, "unanswered", null, 2));
    v.connection(conn(83, "icmp-rejected"));
    const lines = v.render(snap(), 120, 30);
    const text = lines.join("\n");
    expect(lines[0]).toMatch(/^synsent capture on ssl-v0  filter: tcp/);
    expect(text).toMatch(/packets 1,234 .* connections 5 .* dropped 66/);
    expect(text).toContain("66 packets lost before synsent saw them");
    expect(text).toMatch(/SYNs waiting for an answer now: 1\n {2}10\.79\.0\.1:50000 +-> 10\.79\.0\.2:81 +waiting +2\.5 s +SYNs 3/);
    const row80 = lines.find((l) => l.startsWith("10.79.0.2:80 "))!;
    expect(row80.trim().split(/\s+/)).toEqual(["10.79.0.2:80", "2", "2", "0", "0", "0", "0", "0", "0", "1.00", "ms"]);
    const row81 = lines.find((l) => l.startsWith("10.79.0.2:81 "))!;
    expect(row81.trim().split(/\s+/).slice(1, 9)).toEqual(["1", "0", "1", "0", "0", "0", "0", "2"]);
    // Problems sort above healthy destinations.
    expect(lines.indexOf(row81)).toBeLessThan(lines.indexOf(row80));
    expect(lines.every((l) => l.length <= 120)).toBe(true);
  });

  it("fits a small terminal and cuts long lines", () => {
    const v = new LiveView({ out: fakeOut, interface: "ssl-v0", filter: null, snapshot: () => snap() });
    for (let p = 1; p <= 50; p++) v.connection(conn(p, "closed", 1));
    const many = Array.from({ length: 40 }, (_, i) => ({ client: { ip: "10.79.0.1", port: 50000 + i }, server: { ip: "10.79.0.2", port: 81 }, firstSynTs: 1_800_000_009, syns: 1 }));
    const lines = v.render(snap({ waiting: many, waitingTotal: 40 }), 60, 20);
    expect(lines.length).toBeLessThanOrEqual(19);
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines.join("\n")).toMatch(/\.\.\. and \d+ more/);
  });
});
