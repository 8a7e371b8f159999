import { describe, expect, it } from "vitest";
import { Harness, only, T0 } from "./helpers.js";

const C = 1000; // client ISN
const S = 900000; // server ISN

describe("outcomes", () => {
  it("unanswered: SYN retried 3 times, nothing back (Zeek S0)", () => {
    const h = new Harness();
    const frames = [0, 1, 3, 7].map((t) => h.seg({ from: "c", flags: "SYN", seq: C, t, mss: 1460, ws: 7, sackOk: true, tsVal: 1 + t }));
    h.seg({ from: "c", flags: "ACK", seq: 5, ack: 5, t: 20 }, { cport: 1 }); // something later in the capture
    const conns = h.finish();
    const c = conns.find((x) => x.client.port === 40000)!;
    expect(c.outcome).toBe("unanswered");
    expect(c.zeekState).toBe("S0");
    expect(c.syn).toBe(4);
    expect(c.synAck).toBe(0);
    expect(c.retransmissions).toEqual({ data: 0, syn: 3, synAck: 0 });
    expect(c.frames).toEqual(frames);
    expect(c.client).toEqual({ ip: "10.0.0.1", port: 40000 });
    expect(c.server).toEqual({ ip: "10.0.0.5", port: 8080 });
    expect(c.synOptions).toEqual({ mss: 1460, windowScale: 7, sackPermitted: true, timestamps: true });
    expect(c.ladder.map((s) => s.note)).toEqual([null, "retransmission", "retransmission", "retransmission"]);
    expect(c.handshakeRttMs).toBeNull();
    expect(c.firstTs).toBeCloseTo(T0, 6);
    expect(c.lastTs).toBeCloseTo(T0 + 7, 6);
  });

  it("pending: capture ends less than synTimeout after the last SYN", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 1 });
    h.seg({ from: "c", flags: "ACK", seq: 5, ack: 5, t: 2.5 }, { cport: 1 });
    const c = h.finish().find((x) => x.client.port === 40000)!;
    expect(c.outcome).toBe("pending");
    expect(c.zeekState).toBe("S0");
  });

  it("finish(captureEndTs): a trailing non-TCP record proves the capture ran past the timeout", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 1 });
    h.tracker.finish(T0 + 5); // e.g. a ping 4 s after the last SYN
    expect(only(h.conns).outcome).toBe("unanswered");
  });

  it("refused: SYN answered by RST,ACK (Zeek REJ)", () => {
    const h = new Harness();
    const f1 = h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    const f2 = h.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: C + 1, t: 0.0002 });
    const c = only(h.finish());
    expect(c.outcome).toBe("refused");
    expect(c.zeekState).toBe("REJ");
    expect(c.rst).toMatchObject({ from: "server", frame: f2, ttl: 64, suspectedForged: false, forgedReason: null });
    expect(c.frames).toEqual([f1, f2]);
    expect(c.ladder[1]).toMatchObject({ from: "server", flags: "RST,ACK", seq: 1, ack: 1 });
  });

  it("aborted-by-client: SYN then client RST, no reply (Zeek RSTOS0)", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    h.seg({ from: "c", flags: "RST", seq: C + 1, t: 0.5 });
    const c = only(h.finish());
    expect(c.outcome).toBe("aborted-by-client");
    expect(c.zeekState).toBe("RSTOS0");
    expect(c.rst?.from).toBe("client");
  });

  it("synack-unacked: SYN-ACK retransmitted, client's ACK never seen (Zeek S1, history Sh)", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: 0.001 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 1 });
    h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: 1.001 });
    h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: 3.001 });
    const c = only(h.finish());
    expect(c.outcome).toBe("synack-unacked");
    expect(c.zeekState).toBe("S1");
    expect(c.syn).toBe(2);
    expect(c.synAck).toBe(3);
    expect(c.retransmissions).toEqual({ data: 0, syn: 1, synAck: 2 });
    expect(c.handshakeRttMs).toBeNull();
  });

  it("established: handshake, data, open at the end (Zeek S1) with RTTs", () => {
    const h = new Harness();
    h.handshake(0, C, S, { synRtt: 0.0123, ackDelay: 0.0004 });
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 1, ack: S + 1, len: 100, t: 0.02 });
    h.seg({ from: "s", flags: "ACK", seq: S + 1, ack: C + 101, t: 0.03 });
    const c = only(h.finish());
    expect(c.outcome).toBe("established");
    expect(c.zeekState).toBe("S1");
    expect(c.handshakeRttMs!.synToSynAck).toBeCloseTo(12.3, 3);
    expect(c.handshakeRttMs!.synAckToAck).toBeCloseTo(0.4, 3);
    expect(c.handshakeRttMs!.total).toBeCloseTo(12.7, 3);
    expect(c.packets).toEqual({ client: 3, server: 2 });
    expect(c.bytes).toEqual({ client: 100, server: 0 });
    expect(c.frames).toEqual([1, 2, 3]);
    expect(c.ladder[2]).toMatchObject({ from: "client", flags: "ACK", seq: 1, ack: 1, len: 0 });
    expect(c.ladder[3]).toMatchObject({ flags: "PSH,ACK", seq: 1, ack: 1, len: 100 });
    expect(c.ladder[4]).toMatchObject({ from: "server", seq: 1, ack: 101 });
  });

  it("RTT uses the last SYN before the ACK (tshark initial_rtt) after SYN retransmissions", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 1 });
    h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: 1.002 });
    h.seg({ from: "c", flags: "ACK", seq: C + 1, ack: S + 1, t: 1.0025 });
    const c = only(h.finish());
    expect(c.handshakeRttMs!.total).toBeCloseTo(2.5, 3);
    expect(c.handshakeRttMs!.synToSynAck).toBeCloseTo(2, 3);
    expect(c.retransmissions.syn).toBe(1);
  });

  it("closed: SF, S2, S3 by Zeek's definitions", () => {
    const sf = new Harness();
    sf.handshake(0, C, S);
    sf.seg({ from: "c", flags: "FIN,ACK", seq: C + 1, ack: S + 1, t: 1 });
    sf.seg({ from: "s", flags: "FIN,ACK", seq: S + 1, ack: C + 2, t: 1.001 });
    sf.seg({ from: "c", flags: "ACK", seq: C + 2, ack: S + 2, t: 1.002 });
    const a = only(sf.finish());
    expect([a.outcome, a.zeekState]).toEqual(["closed", "SF"]);
    expect(a.packets.client).toBe(4); // the last ACK is still counted in the connection

    const s2 = new Harness();
    s2.handshake(0, C, S);
    s2.seg({ from: "c", flags: "FIN,ACK", seq: C + 1, ack: S + 1, t: 1 });
    const b = only(s2.finish());
    expect([b.outcome, b.zeekState]).toEqual(["closed", "S2"]);

    const s3 = new Harness();
    s3.handshake(0, C, S);
    s3.seg({ from: "s", flags: "FIN,ACK", seq: S + 1, ack: C + 1, t: 1 });
    const d = only(s3.finish());
    expect([d.outcome, d.zeekState]).toEqual(["closed", "S3"]);
  });

  it("reset after establishment: RSTO and RSTR, first RST's sender and frame", () => {
    const o = new Harness();
    o.handshake(0, C, S);
    const fr = o.seg({ from: "c", flags: "RST,ACK", seq: C + 1, ack: S + 1, t: 2 });
    const a = only(o.finish());
    expect([a.outcome, a.zeekState, a.rst?.from, a.rst?.frame]).toEqual(["reset", "RSTO", "client", fr]);
    expect(a.rst!.ts).toBeCloseTo(T0 + 2, 6);

    const r = new Harness();
    r.handshake(0, C, S);
    r.seg({ from: "s", flags: "RST", seq: S + 1, t: 2 });
    const b = only(r.finish());
    expect([b.outcome, b.zeekState, b.rst?.from]).toEqual(["reset", "RSTR", "server"]);
  });

  it("midstream: no SYN (Zeek OTH); client = first sender; a SYN-ACK first makes its destination the client", () => {
    const h = new Harness();
    h.seg({ from: "s", flags: "PSH,ACK", seq: 77, ack: 55, len: 10, t: 0 });
    h.seg({ from: "c", flags: "ACK", seq: 55, ack: 87, t: 0.01 });
    const a = only(h.finish());
    expect(a.outcome).toBe("midstream");
    expect(a.zeekState).toBe("OTH");
    expect(a.client).toEqual({ ip: "10.0.0.5", port: 8080 });
    expect(a.synOptions).toBeNull();

    const k = new Harness();
    k.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: 0 });
    const b = only(k.finish());
    expect(b.outcome).toBe("midstream");
    expect(b.client).toEqual({ ip: "10.0.0.1", port: 40000 });
    expect(b.synAck).toBe(1);
  });

  it("a SYN captured after its SYN-ACK (capture reordering) still opens the connection", () => {
    const h = new Harness();
    h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: 0 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0.00001 });
    h.seg({ from: "c", flags: "ACK", seq: C + 1, ack: S + 1, t: 0.001 });
    const c = only(h.finish());
    expect(c.outcome).toBe("established");
    expect(c.syn).toBe(1);
  });
});

describe("ICMP rejection", () => {
  it("matches the quoted 5-tuple and SYN seq; keeps type, code and sender", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    const fi = h.icmp({ from: "192.0.2.254", type: 3, code: 13, t: 0.002, quotedSeq: C, quotedFlags: 2 });
    const c = only(h.finish());
    expect(c.outcome).toBe("icmp-rejected");
    expect(c.zeekState).toBe("S0");
    expect(c.icmp).toMatchObject({ type: 3, code: 13, from: "192.0.2.254", frame: fi });
    expect(c.frames).toEqual([1, fi]);
    expect(c.ladder[1]).toMatchObject({ from: "icmp", flags: "ICMP 3/13", seq: 0 });
  });

  it("ignores an ICMP error quoting another sequence number", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    h.icmp({ from: "192.0.2.254", type: 3, code: 1, t: 0.002, quotedSeq: C + 12345 });
    h.seg({ from: "c", flags: "ACK", seq: 5, ack: 5, t: 10 }, { cport: 1 });
    const c = h.finish().find((x) => x.client.port === 40000)!;
    expect(c.outcome).toBe("unanswered");
    expect(c.icmp).toBeNull();
  });

  it("accepts a quote without the sequence number (8 bytes of TCP header are not always quoted... seq is, ports only is rare)", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    h.icmp({ from: "10.0.0.5", type: 3, code: 3, t: 0.002 });
    expect(only(h.finish()).icmp?.code).toBe(3);
  });

  it("ICMPv6 address unreachable for an IPv6 SYN", () => {
    const h = new Harness("2001:db8::1", 40000, "2001:db8::5", 443);
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    h.icmp({ from: "2001:db8::fe", type: 1, code: 3, t: 3, quotedSeq: C });
    const c = only(h.finish());
    expect(c.ipVersion).toBe(6);
    expect(c.outcome).toBe("icmp-rejected");
    expect(c.client.ip).toBe("2001:db8::1");
    expect(c.icmp).toMatchObject({ type: 1, code: 3, from: "2001:db8::fe" });
  });
});

describe("connection splitting", () => {
  it("port reuse: a SYN with a new ISN after the close starts a new connection; same ISN is a retransmission", () => {
    const h = new Harness();
    h.handshake(0, C, S);
    h.seg({ from: "c", flags: "FIN,ACK", seq: C + 1, ack: S + 1, t: 1 });
    h.seg({ from: "s", flags: "FIN,ACK", seq: S + 1, ack: C + 2, t: 1.001 });
    h.seg({ from: "c", flags: "ACK", seq: C + 2, ack: S + 2, t: 1.002 });
    h.seg({ from: "c", flags: "SYN", seq: 777777, t: 1.5 });
    h.seg({ from: "c", flags: "SYN", seq: 777777, t: 2.5 });
    h.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: 777778, t: 2.5001 });
    const conns = h.finish();
    expect(conns.map((c) => [c.id, c.outcome, c.syn])).toEqual([
      [0, "closed", 1],
      [1, "refused", 2],
    ]);
  });

  it("a late retransmitted FIN after the close stays in the closed connection", () => {
    const h = new Harness();
    h.handshake(0, C, S);
    h.seg({ from: "c", flags: "FIN,ACK", seq: C + 1, ack: S + 1, t: 1 });
    h.seg({ from: "s", flags: "FIN,ACK", seq: S + 1, ack: C + 2, t: 1.001 });
    h.seg({ from: "s", flags: "FIN,ACK", seq: S + 1, ack: C + 2, t: 1.3 });
    const c = only(h.finish());
    expect(c.outcome).toBe("closed");
    expect(c.retransmissions.data).toBe(1);
  });

  it("a closed connection leaves the table after its linger; later packets start a new (midstream) one", () => {
    const h = new Harness();
    h.handshake(0, C, S);
    h.seg({ from: "c", flags: "RST", seq: C + 1, t: 1 });
    h.tracker.advance(T0 + 10);
    expect(h.conns.length).toBe(1);
    expect(h.tracker.stats.active).toBe(0);
    h.seg({ from: "s", flags: "ACK", seq: S + 1, ack: C + 1, t: 10 });
    expect(h.finish().map((c) => c.outcome)).toEqual(["reset", "midstream"]);
  });
});

describe("retransmissions like Wireshark", () => {
  it("data retransmission after RTO; sequence numbers wrap mod 2^32", () => {
    const h = new Harness();
    const c0 = 0xfffffff0;
    h.handshake(0, c0, S);
    h.seg({ from: "c", flags: "PSH,ACK", seq: c0 + 1, ack: S + 1, len: 100, t: 0.1 }); // crosses 2^32
    h.seg({ from: "c", flags: "PSH,ACK", seq: (c0 + 101) >>> 0, ack: S + 1, len: 100, t: 0.11 });
    h.seg({ from: "c", flags: "PSH,ACK", seq: c0 + 1, ack: S + 1, len: 100, t: 0.4 }); // RTO retransmission
    h.seg({ from: "s", flags: "ACK", seq: S + 1, ack: (c0 + 201) >>> 0, t: 0.41 });
    const c = only(h.finish());
    expect(c.retransmissions.data).toBe(1);
    expect(c.frames).toEqual([1, 2, 3, 6]); // handshake and the retransmitted segment
    expect(c.ladder[5]).toMatchObject({ note: "retransmission", seq: 1 });
    expect(c.ladder[4]).toMatchObject({ note: null, seq: 101 });
  });

  it("out-of-order (within 3 ms / initial RTT of the highest segment) is not a retransmission", () => {
    const h = new Harness();
    h.handshake(0, C, S, { synRtt: 0.01, ackDelay: 0.0001 });
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 101, ack: S + 1, len: 100, t: 0.1 }); // segment 2 first
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 1, ack: S + 1, len: 100, t: 0.1005 }); // segment 1 0.5 ms later
    const c = only(h.finish());
    expect(c.retransmissions.data).toBe(0);
    expect(c.ladder[4]!.note).toBe("out-of-order");
  });

  it("keep-alives (seq = next - 1, 0 or 1 byte) are not retransmissions", () => {
    const h = new Harness();
    h.handshake(0, C, S);
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 1, ack: S + 1, len: 10, t: 0.1 });
    h.seg({ from: "s", flags: "ACK", seq: S + 1, ack: C + 11, t: 0.11 });
    h.seg({ from: "c", flags: "ACK", seq: C + 10, ack: S + 1, len: 1, t: 60 });
    h.seg({ from: "s", flags: "ACK", seq: S + 1, ack: C + 11, t: 60.001 });
    h.seg({ from: "c", flags: "ACK", seq: C + 10, ack: S + 1, len: 0, t: 120 });
    const c = only(h.finish());
    expect(c.retransmissions.data).toBe(0);
    expect(c.ladder[5]!.note).toBe("keep-alive");
    expect(c.ladder[7]!.note).toBe("keep-alive");
  });

  it("fast retransmission after duplicate ACKs counts (Wireshark also sets tcp.analysis.retransmission)", () => {
    const h = new Harness();
    h.handshake(0, C, S);
    for (let i = 0; i < 4; i++) h.seg({ from: "c", flags: "ACK", seq: C + 1 + i * 100, ack: S + 1, len: 100, t: 0.1 + i * 0.0001 });
    // server got segment 0 but not 1: ack C+101, then 2 duplicate acks
    h.seg({ from: "s", flags: "ACK", seq: S + 1, ack: C + 101, t: 0.11 });
    h.seg({ from: "s", flags: "ACK", seq: S + 1, ack: C + 101, t: 0.111 });
    h.seg({ from: "s", flags: "ACK", seq: S + 1, ack: C + 101, t: 0.112 });
    h.seg({ from: "c", flags: "ACK", seq: C + 101, ack: S + 1, len: 100, t: 0.115 });
    const c = only(h.finish());
    expect(c.retransmissions.data).toBe(1);
  });

  it("the same packet captured twice (same IP ID, within 10 ms) is a duplicate, not a retransmission", () => {
    const h = new Harness();
    h.handshake(0, C, S);
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 1, ack: S + 1, len: 100, t: 0.1, ipId: 4242 });
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 1, ack: S + 1, len: 100, t: 0.1001, ipId: 4242, ttl: 63 });
    // a real retransmission has a new IP ID
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 1, ack: S + 1, len: 100, t: 0.5, ipId: 4300 });
    const c = only(h.finish());
    expect(c.duplicates).toBe(1);
    expect(c.retransmissions.data).toBe(1);
    expect(c.packets.client).toBe(4); // SYN, ACK, data, retransmission: the copy is not counted
    expect(h.tracker.stats.duplicates).toBe(1);
    expect(c.ladder.map((s) => s.note).slice(3)).toEqual([null, "duplicate", "retransmission"]);
  });

  it("duplicate SYNs (SPAN) do not count as SYN retransmissions", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0, ipId: 1 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0.00002, ipId: 1 });
    h.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: C + 1, t: 0.001 });
    const c = only(h.finish());
    expect(c.syn).toBe(1);
    expect(c.duplicates).toBe(1);
    expect(c.outcome).toBe("refused");
  });

  it("a bit-identical SYN-ACK resent for a retransmitted SYN is a real packet, not a duplicate", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0, ipId: 1 });
    h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: 0.00003, ipId: 0, tsVal: 7 });
    h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: 1.00656, ipId: 0, tsVal: 8 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 1.00663, ipId: 2 });
    // Linux answers the SYN again at once: same IP ID 0 and TSval tick as 82 us before
    h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: 1.00664, ipId: 0, tsVal: 8 });
    const c = only(h.finish());
    expect(c.synAck).toBe(3);
    expect(c.duplicates).toBe(0);
  });

  it("IPv6 duplicates: same TCP timestamp stands in for the missing IP ID", () => {
    const h = new Harness("2001:db8::1", 40000, "2001:db8::5", 443);
    h.handshake(0, C, S);
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 1, ack: S + 1, len: 10, t: 0.1, tsVal: 500 });
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 1, ack: S + 1, len: 10, t: 0.1002, tsVal: 500 });
    h.seg({ from: "c", flags: "PSH,ACK", seq: C + 1, ack: S + 1, len: 10, t: 0.1005, tsVal: 501 });
    const c = only(h.finish());
    expect(c.duplicates).toBe(1);
    // the third is a real resend 0.5 ms later: Wireshark would call it a retransmission too
    expect(c.retransmissions.data).toBe(1);
  });
});

describe("forged RST detection", () => {
  function learnServer(h: Harness, ttl: number, n: number, port0: number): void {
    // n earlier successful connections from other client ports: SYN-ACKs from the server with `ttl`
    for (let i = 0; i < n; i++) {
      const cp = port0 + i;
      h.seg({ from: "c", flags: "SYN", seq: 1, t: 0.1 * i }, { cport: cp });
      h.seg({ from: "s", flags: "SYN,ACK", seq: 2, ack: 2, t: 0.1 * i + 0.01, ttl }, { cport: cp });
      h.seg({ from: "c", flags: "ACK", seq: 2, ack: 3, t: 0.1 * i + 0.02 }, { cport: cp });
    }
  }

  it("flags a RST whose TTL implies a different hop count than the server's other packets", () => {
    const h = new Harness();
    learnServer(h, 61, 4, 50000);
    h.seg({ from: "c", flags: "SYN", seq: C, t: 1 });
    h.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: C + 1, t: 1.001, ttl: 64 });
    const c = h.finish().find((x) => x.client.port === 40000)!;
    expect(c.outcome).toBe("refused");
    expect(c.rst!.suspectedForged).toBe(true);
    expect(c.rst!.forgedReason).toContain("TTL 64");
    expect(c.rst!.forgedReason).toContain("TTL 61");
    expect(c.rst!.forgedReason).toContain("10.0.0.5");
    expect(c.rst!.forgedReason).toContain("3 hops closer");
  });

  it("does not flag with too little evidence, a matching TTL, or only a different initial TTL", () => {
    const few = new Harness();
    learnServer(few, 61, 2, 50000);
    few.seg({ from: "c", flags: "SYN", seq: C, t: 1 });
    few.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: C + 1, t: 1.001, ttl: 64 });
    expect(few.finish().find((x) => x.client.port === 40000)!.rst!.suspectedForged).toBe(false);

    const same = new Harness();
    learnServer(same, 61, 5, 50000);
    same.seg({ from: "c", flags: "SYN", seq: C, t: 1 });
    same.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: C + 1, t: 1.001, ttl: 61 });
    expect(same.finish().find((x) => x.client.port === 40000)!.rst!.suspectedForged).toBe(false);

    const initial = new Harness();
    learnServer(initial, 61, 5, 50000); // 64 - 3 hops
    initial.seg({ from: "c", flags: "SYN", seq: C, t: 1 });
    initial.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: C + 1, t: 1.001, ttl: 125 }); // 128 - 3 hops
    expect(initial.finish().find((x) => x.client.port === 40000)!.rst!.suspectedForged).toBe(false);
  });
});

describe("table bound and time", () => {
  it("evicts the least recently active flow at maxFlows, marks it evicted, counts it", () => {
    const h = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { maxFlows: 3 });
    for (let i = 0; i < 5; i++) h.seg({ from: "c", flags: "SYN", seq: C, t: i * 0.01 }, { cport: 1000 + i });
    expect(h.tracker.stats).toMatchObject({ active: 3, peak: 3, evicted: 2, maxFlows: 3 });
    expect(h.conns.map((c) => [c.client.port, c.evicted])).toEqual([
      [1000, true],
      [1001, true],
    ]);
    // touching 1002 makes 1003 the oldest
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0.06 }, { cport: 1002 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0.07 }, { cport: 1005 });
    expect(h.conns[2]!.client.port).toBe(1003);
    h.finish();
    expect(h.conns.length).toBe(6);
    expect(h.conns.filter((c) => c.evicted).length).toBe(3);
    expect(h.tracker.stats.active).toBe(0);
  });

  it("evicts exactly the least recently active flow over many touches (LRU log compactions, full and compact tiers)", () => {
    for (const compactAbove of [0, 1 << 20]) {
      const maxFlows = 50;
      const h = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { maxFlows, compactAbove });
      // Reference model: client port -> tick of its last packet, for the flows in the table.
      const last = new Map<number, number>();
      let seed = 12345;
      const rnd = (n: number) => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      let nextPort = 1000;
      let checked = 0;
      for (let tick = 0; tick < 6000; tick++) {
        const before = h.conns.length;
        let port: number;
        if (last.size < maxFlows || rnd(4) === 0) {
          port = nextPort++;
          h.seg({ from: "c", flags: "SYN", seq: C, t: tick * 1e-4 }, { cport: port });
        } else {
          // an answer, or a retransmitted SYN, to a flow in the table
          const ports = [...last.keys()];
          port = ports[rnd(ports.length)]!;
          if (rnd(2) === 0) h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + 1, t: tick * 1e-4 }, { cport: port });
          else h.seg({ from: "c", flags: "SYN", seq: C, t: tick * 1e-4 }, { cport: port });
        }
        for (const c of h.conns.slice(before)) {
          expect(c.evicted).toBe(true);
          // the evicted flow was the least recently active one
          const oldest = Math.min(...last.values());
          expect(last.get(c.client.port)).toBe(oldest);
          last.delete(c.client.port);
          checked++;
        }
        last.set(port, tick);
      }
      expect(checked).toBeGreaterThan(1000);
      expect(h.tracker.stats.active).toBe(maxFlows);
    }
  });

  it("finishSome() hands out the connections left at the end in steps, in the same order as finish()", () => {
    const feed = (h: Harness) => {
      for (let i = 0; i < 40; i++) {
        h.seg({ from: "c", flags: "SYN", seq: C + i, t: i * 0.01 }, { cport: 3000 + i });
        if (i % 3 === 0) h.seg({ from: "s", flags: "SYN,ACK", seq: S, ack: C + i + 1, t: i * 0.01 + 0.001 }, { cport: 3000 + i });
      }
    };
    for (const compactAbove of [0, 1 << 20]) {
      const all = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { compactAbove });
      feed(all);
      all.tracker.finish(T0 + 5);
      const expected = all.conns.map((c) => [c.id, c.outcome]);
      expect(new Set(expected.map((e) => e[1]))).toEqual(new Set(["synack-unacked", "unanswered"]));
      const stepped = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { compactAbove });
      feed(stepped);
      const sizes: number[] = [];
      let done = false;
      while (!done) {
        const before = stepped.conns.length;
        done = stepped.tracker.finishSome(7, T0 + 5);
        sizes.push(stepped.conns.length - before);
      }
      expect(sizes).toEqual([7, 7, 7, 7, 7, 5]);
      expect(stepped.conns.map((c) => [c.id, c.outcome])).toEqual(expected);
      expect(stepped.tracker.finishSome(7)).toBe(true); // done stays done
      expect(stepped.conns.length).toBe(40);
    }
  });

  it("advance() emits unanswered SYNs once due, but not while the client is still backing off", () => {
    const h = new Harness();
    h.seg({ from: "c", flags: "SYN", seq: C, t: 0 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 1 });
    h.seg({ from: "c", flags: "SYN", seq: C, t: 3 }); // gap 2 s: next expected ~4 s later
    h.tracker.advance(T0 + 6.5);
    expect(h.conns.length).toBe(0);
    expect(h.tracker.waitingSyns(T0 + 6.5, 10)).toEqual([
      { client: { ip: "10.0.0.1", port: 40000 }, server: { ip: "10.0.0.5", port: 8080 }, firstSynTs: T0, syns: 3 },
    ]);
    h.seg({ from: "c", flags: "SYN", seq: C, t: 7 });
    h.tracker.advance(T0 + 16.1); // 7 + max(3, 2.5 * 4)
    expect(h.conns.length).toBe(0);
    h.tracker.advance(T0 + 17.1);
    expect(h.conns.map((c) => [c.outcome, c.syn])).toEqual([["unanswered", 4]]);
    expect(h.tracker.waitingSyns(T0 + 20, 10)).toEqual([]);
  });

  it("file mode: a port scan does not fill the table (SYN-only flows leave 30 s after they were due)", () => {
    const h = new Harness();
    for (let i = 0; i < 2000; i++) h.seg({ from: "c", flags: "SYN", seq: i, t: i * 0.05 }, { sport: 1 + i }); // 100 s of scan
    // due 3 s after the SYN, gone 30 s later: at most ~33 s of scan (660 flows) in the table
    expect(h.tracker.stats.peak).toBeLessThanOrEqual(670);
    expect(h.conns.length).toBeGreaterThan(1000);
    expect(h.conns.every((c) => c.outcome === "unanswered" && !c.evicted)).toBe(true);
    h.finish();
    expect(h.conns.length).toBe(2000);
  });

  it("advance() emits refused and aborted attempts after their linger, from either tier", () => {
    for (const compactAbove of [0, 1 << 20]) {
      const h = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { compactAbove });
      h.seg({ from: "c", flags: "SYN", seq: C, t: 0 }, { cport: 1 });
      h.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: C + 1, t: 0.001 }, { cport: 1 });
      h.seg({ from: "c", flags: "SYN", seq: C, t: 0.5 }, { cport: 2 });
      h.seg({ from: "c", flags: "RST", seq: C + 1, t: 0.6 }, { cport: 2 });
      h.tracker.advance(T0 + 1.5);
      expect(h.conns.length).toBe(0); // still lingering (late packets count)
      h.tracker.advance(T0 + 2.1);
      expect(h.conns.map((c) => [c.client.port, c.outcome])).toEqual([[1, "refused"]]);
      h.tracker.advance(T0 + 2.7);
      expect(h.conns.map((c) => [c.client.port, c.outcome])).toEqual([
        [1, "refused"],
        [2, "aborted-by-client"],
      ]);
      expect(h.tracker.stats.active).toBe(0);
    }
  });

  it("advance() never emits established flows", () => {
    const h = new Harness();
    h.handshake(0, C, S);
    h.tracker.advance(T0 + 10_000);
    expect(h.conns.length).toBe(0);
    expect(only(h.finish()).outcome).toBe("established");
  });

  it('ladderFor "problems" drops the ladder of clean connections only', () => {
    const h = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { ladderFor: "problems" });
    h.handshake(0, C, S);
    h.seg({ from: "c", flags: "SYN", seq: 5, t: 1 }, { cport: 2 });
    const [clean, bad] = h.finish();
    expect(clean!.ladder).toEqual([]);
    expect(clean!.ladderTruncated).toBe(false);
    expect(bad!.ladder.length).toBe(1);
  });

  it("ladder is bounded and says when it was cut", () => {
    const h = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { ladderLimit: 4 });
    h.handshake(0, C, S);
    for (let i = 0; i < 5; i++) h.seg({ from: "c", flags: "ACK", seq: C + 1 + i * 10, ack: S + 1, len: 10, t: 1 + i });
    const c = only(h.finish());
    expect(c.ladder.length).toBe(4);
    expect(c.ladderTruncated).toBe(true);
    expect(c.packets.client).toBe(7);
  });
});
