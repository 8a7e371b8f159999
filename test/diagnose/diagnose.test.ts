import { describe, expect, it } from "vitest";
import { Diagnoser } from "../../src/diagnose/diagnose.js";
import { Quantiles } from "../../src/diagnose/quantiles.js";
import { Harness } from "../flows/helpers.js";
import type { Connection } from "../../src/flows/connection.js";

/** Run a scenario through the real tracker, then the diagnoser. */
function diagnose(build: (h: Harness) => void, opts?: ConstructorParameters<typeof Diagnoser>[0]) {
  const h = new Harness();
  build(h);
  const conns = h.finish();
  const d = new Diagnoser(opts);
  for (const c of conns) d.add(c);
  return { conns, ...d.finish() };
}

describe("Diagnoser sentences", () => {
  it("silent drop: counts, retries and span are exact", () => {
    const r = diagnose((h) => {
      for (let i = 0; i < 12; i++) {
        for (const t of [0, 1, 3, 7]) h.seg({ from: "c", flags: "SYN", seq: 100 + i, t: i * 10 + t }, { cport: 30000 + i });
      }
      h.seg({ from: "c", flags: "ACK", seq: 1, ack: 1, t: 200 }, { cport: 1, sport: 1 }); // capture goes on
    });
    const f = r.findings[0]!;
    expect(f.kind).toBe("silent-drop");
    expect(f.severity).toBe("problem");
    expect(r.conns.filter((c) => c.outcome === "unanswered").length).toBe(12);
    expect(f.connections).toBe(12);
    expect(f.title).toBe("12 of 12 connection attempts to 10.0.0.5:8080 got no answer (48 SYNs, each retried 3 times over 7 s)");
    expect(f.whoCanFix).toContain("network path");
    expect(f.frames.slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(f.exampleConnections).toEqual([0, 1]);
    expect(r.examples.map((c) => c.id)).toEqual([0, 1]);
    const d = r.destinations.find((x) => x.server.port === 8080)!;
    expect(d.diagnosis).toBe("silent-drop");
    expect(d.summary).toMatch(/^12 of 12 connection attempts to 10\.0\.0\.5:8080 got no answer .*: Nothing came back: no SYN-ACK, no RST, no ICMP error\. Take this report to whoever runs the network path/);
    expect(d.retransmissions.syn).toBe(36);
    expect(d.outcomes.unanswered).toBe(12);
    expect(d.clients).toBe(1);
  });

  it("SYNs still being retried when the capture ended: a warning, not silence", () => {
    const r = diagnose((h) => {
      for (const t of [0, 1, 3, 7]) h.seg({ from: "c", flags: "SYN", seq: 5, t });
    });
    expect(r.conns[0]!.outcome).toBe("pending");
    const f = r.findings[0]!;
    expect([f.kind, f.severity]).toEqual(["silent-drop", "warning"]);
    expect(f.title).toBe("1 of 1 connection attempt to 10.0.0.5:8080 had no answer yet when the capture ended (4 SYNs over up to 7 s, the client still retrying)");
  });

  it("refused by the host itself (RST TTL matches its SYN-ACKs) vs by a middlebox (forged RST)", () => {
    const host = diagnose((h) => {
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 0 }, { cport: 1 });
      h.seg({ from: "s", flags: "SYN,ACK", seq: 9, ack: 2, t: 0.001, ttl: 61 }, { cport: 1 });
      h.seg({ from: "c", flags: "SYN", seq: 5, t: 1 });
      h.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: 6, t: 1.001, ttl: 61 });
    });
    const fh = host.findings.find((f) => f.kind === "refused")!;
    expect(fh.title).toBe("1 of 2 connection attempts to 10.0.0.5:8080 was refused with a RST");
    expect(fh.detail).toContain("came from 10.0.0.5 itself");
    expect(fh.whoCanFix).toContain("owner of 10.0.0.5");

    const mb = diagnose((h) => {
      for (let i = 0; i < 4; i++) {
        h.seg({ from: "c", flags: "SYN", seq: 1, t: i }, { cport: 100 + i });
        h.seg({ from: "s", flags: "SYN,ACK", seq: 9, ack: 2, t: i + 0.001, ttl: 61 }, { cport: 100 + i });
        h.seg({ from: "c", flags: "ACK", seq: 2, ack: 10, t: i + 0.002 }, { cport: 100 + i });
      }
      h.seg({ from: "c", flags: "SYN", seq: 5, t: 10 });
      h.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: 6, t: 10.001, ttl: 64 });
    });
    const fm = mb.findings.find((f) => f.kind === "refused")!;
    expect(fm.detail).toContain("probably did not come from 10.0.0.5");
    expect(fm.detail).toContain("TTL 64");
    expect(fm.whoCanFix).toContain("firewall, IPS or load balancer");
  });

  it("ICMP rejection explains the code and names the sender", () => {
    const r = diagnose((h) => {
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 0 });
      h.icmp({ from: "192.0.2.1", type: 3, code: 13, t: 0.01, quotedSeq: 1 });
    });
    const f = r.findings[0]!;
    expect(f.kind).toBe("icmp-rejected");
    expect(f.title).toBe('1 of 1 connection attempt to 10.0.0.5:8080 was rejected by ICMP "communication administratively prohibited" (type 3 code 13) from 192.0.2.1');
    expect(f.detail).toContain("firewall");
    expect(f.whoCanFix).toBe("whoever runs the firewall or router ACL at 192.0.2.1");
    expect(f.frames).toEqual([1, 2]);
  });

  it("SYN-ACK never acknowledged points at the return path", () => {
    const r = diagnose((h) => {
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 0 });
      h.seg({ from: "s", flags: "SYN,ACK", seq: 9, ack: 2, t: 0.001 });
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 1 });
      h.seg({ from: "s", flags: "SYN,ACK", seq: 9, ack: 2, t: 1.001 });
    });
    const f = r.findings[0]!;
    expect(f.kind).toBe("synack-unacked");
    expect(f.title).toBe("1 of 1 connection attempt to 10.0.0.5:8080: the server answered (SYN-ACK, resent 1 time) but the client's ACK was never seen");
    expect(f.detail).toContain("in 1 the client kept resending its SYN after the SYN-ACK");
    expect(f.whoCanFix).toContain("return path");
  });

  it("handshakes that needed SYN retransmissions: how many and the added latency", () => {
    const r = diagnose((h) => {
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 0 });
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 1 });
      h.seg({ from: "s", flags: "SYN,ACK", seq: 9, ack: 2, t: 1.002 });
      h.seg({ from: "c", flags: "ACK", seq: 2, ack: 10, t: 1.003 });
      h.handshake(5, 50, 60);
    });
    const f = r.findings[0]!;
    expect(f.kind).toBe("retried-handshake");
    expect(f.severity).toBe("warning");
    expect(f.title).toBe(
      "1 of 2 successful handshakes to 10.0.0.5:8080 needed SYN retransmissions (1 extra SYN), adding 1000 ms on average (up to 1000 ms) before the handshake could finish",
    );
  });

  it("resets after establishment say which side", () => {
    const r = diagnose((h) => {
      h.handshake(0, 1, 9);
      h.seg({ from: "s", flags: "RST", seq: 10, t: 1 });
    });
    const f = r.findings[0]!;
    expect(f.kind).toBe("reset-after-established");
    expect(f.title).toBe("1 of 1 established connection to 10.0.0.5:8080 was reset after the handshake (1 by the server)");
  });

  it("a healthy capture says so, with the median handshake", () => {
    const r = diagnose((h) => {
      h.handshake(0, 1, 9, { synRtt: 0.0004, ackDelay: 0.0001 });
      h.handshake(1, 5000, 9000, { synRtt: 0.0004, ackDelay: 0.0001 }); // port reuse: a new ISN
    });
    expect(r.findings.length).toBe(1);
    expect(r.findings[0]!.severity).toBe("info");
    expect(r.findings[0]!.title).toBe("All 2 connections completed their handshake; median handshake 0.50 ms");
    expect(r.destinations[0]!.diagnosis).toBe("healthy");
    expect(r.destinations[0]!.summary).toBe("All 2 connections to 10.0.0.5:8080 completed their handshake; median handshake 0.50 ms.");
    expect(r.destinations[0]!.rttMs.total).toMatchObject({ count: 2 });
    expect(r.examples).toEqual([]);
  });

  it("findings are sorted by severity, then connections", () => {
    const r = diagnose((h) => {
      for (let i = 0; i < 3; i++) {
        h.handshake(i, 1 + i * 1000, 9);
        h.seg({ from: "c", flags: "RST", seq: 2 + i * 1000, t: i + 0.5 });
      }
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 10 }, { sport: 9999 });
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 20 }, { cport: 2, sport: 7777 });
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 20 }, { cport: 3, sport: 7777 });
      h.seg({ from: "c", flags: "ACK", seq: 1, ack: 1, t: 40 }, { cport: 1, sport: 1 });
    });
    expect(r.findings.map((f) => [f.severity, f.kind, f.connections, f.server?.port])).toEqual([
      ["problem", "silent-drop", 2, 7777],
      ["problem", "silent-drop", 1, 9999],
      ["warning", "reset-after-established", 3, 8080],
    ]);
  });
});

describe("bounded memory", () => {
  function fakeConn(id: number, ip: string, port: number): Connection {
    return {
      id,
      ipVersion: 4,
      client: { ip: "10.9.9.9", port: 1000 + (id % 50000) },
      server: { ip, port },
      outcome: "unanswered",
      zeekState: "S0",
      syn: 1,
      synAck: 0,
      rst: null,
      icmp: null,
      retransmissions: { data: 0, syn: 0, synAck: 0 },
      duplicates: 0,
      handshakeRttMs: null,
      synOptions: null,
      packets: { client: 1, server: 0 },
      bytes: { client: 0, server: 0 },
      firstTs: 1,
      lastTs: 1,
      frames: [id + 1],
      ladder: [],
      ladderTruncated: false,
      evicted: false,
    };
  }

  it("caps destinations into an 'other destinations' bucket and says so; merges a port scan into one finding", () => {
    const d = new Diagnoser({ maxDestinations: 100, maxExamplesPerKind: 3 });
    for (let i = 0; i < 1000; i++) d.add(fakeConn(i, "10.0.0.5", 1 + i));
    const r = d.finish();
    expect(r.destinations.length).toBe(101);
    const other = r.destinations.find((x) => x.server.ip === "other destinations")!;
    expect(other.attempts).toBe(900);
    expect(r.examples.length).toBe(3);
    const scan = r.findings.find((f) => f.server?.port === 0 && f.server.ip === "10.0.0.5")!;
    expect(scan.title).toBe("100 ports on 10.0.0.5 (1-100), 100 connections: no answer to the SYNs");
    expect(r.findings.some((f) => f.title.startsWith('900 connections to destinations beyond the first 100 are summed under "other destinations"'))).toBe(true);
  });

  it("counts distinct clients exactly when few, and estimates within 3 % when many", () => {
    const d = new Diagnoser();
    for (let i = 0; i < 5000; i++) {
      const c = fakeConn(i, "10.0.0.5", 80);
      c.client = { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1000 };
      d.add(c);
      if (i < 200) d.add({ ...c, id: 100000 + i }); // repeats do not count twice
    }
    const small = new Diagnoser();
    for (let i = 0; i < 100; i++) small.add(fakeConn(i, "10.0.0.6", 80)); // one client address
    expect(small.finish().destinations[0]!.clients).toBe(1);
    const n = d.finish().destinations[0]!.clients;
    expect(Math.abs(n - 5000) / 5000).toBeLessThan(0.03);
  });

  it("RTT percentiles: exact for small counts, within 1 % from the histogram for large ones", () => {
    const q = new Quantiles();
    for (const v of [5, 1, 3, 2, 4]) q.add(v);
    expect(q.summary()).toEqual({ count: 5, min: 1, p50: 3, p90: 5, p99: 5, max: 5 });
    const big = new Quantiles();
    for (let i = 1; i <= 100_000; i++) big.add(i / 100); // 0.01 .. 1000 ms
    const s = big.summary()!;
    expect(s.count).toBe(100_000);
    expect(s.min).toBe(0.01);
    expect(s.max).toBe(1000);
    expect(Math.abs(s.p50 - 500) / 500).toBeLessThan(0.01);
    expect(Math.abs(s.p99 - 990) / 990).toBeLessThan(0.01);
  });
});
