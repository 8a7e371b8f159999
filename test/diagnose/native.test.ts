/**
 * The compiled diagnoser (native/flows/diagnose.cc: Diagnoser.add() over
 * connection batches, then Diagnoser.restore()) must come to exactly the
 * JavaScript diagnoser's result: the same destinations, findings (titles,
 * numbers, frames, example ids) and example connections, on every bundled
 * capture, generated captures, tcpdump's corpus and random connections built
 * to reach every branch (string addresses and flags, ICMP groups, forged
 * RSTs, SYN-ACKs never acknowledged, retried handshakes, truncated ladders,
 * more than 256 clients and 64 RTT samples per destination), with every
 * bound hit (examples, destinations).
 */
import { describe, expect, test } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConnectionDecoder, ConnectionEncoder, type ConnectionBatch } from "../../src/flows/codec.js";
import { OUTCOMES, type Connection, type LadderStep } from "../../src/flows/connection.js";
import { NativeDiagnoser, nativeTrackerAvailable } from "../../src/flows/native.js";
import { Diagnoser, type DiagnoserOptions } from "../../src/diagnose/diagnose.js";
import { CORPUS } from "../helpers/cli.js";
import { captureBatches, encodeBatches, useGeneratedCaptures } from "../helpers/batches.js";
import { rng } from "../decode/helpers.js";

const captures = fs
  .readdirSync("captures")
  .filter((f) => /\.(pcap|pcapng)$/.test(f))
  .map((f) => `captures/${f}`);

const OPTIONS: DiagnoserOptions[] = [
  {},
  { maxExamplesPerKind: 0 },
  { maxExamplesPerKind: 1, maxDestinations: 1 },
  { maxExamplesPerKind: 50, maxDestinations: 3 },
];

/** The JavaScript diagnoser over decoded batches, and the compiled one over the same batches: the same result. */
function expectSameDiagnosis(bs: ConnectionBatch[], opts: DiagnoserOptions): ReturnType<Diagnoser["finish"]> {
  const js = new Diagnoser(opts);
  const decoder = new ConnectionDecoder();
  for (const b of bs) decoder.decode(b, (c, synAckTtl) => js.add(c, synAckTtl));
  const want = js.finish();
  const compiled = NativeDiagnoser.create(opts)!;
  for (const b of bs) compiled.add(b);
  const got = compiled.finish();
  // part by part first: a difference shows as one destination, finding or example
  expect(got.destinations.length).toBe(want.destinations.length);
  got.destinations.forEach((d, i) => expect(d).toEqual(want.destinations[i]));
  expect(got.findings.length).toBe(want.findings.length);
  got.findings.forEach((f, i) => expect(f).toEqual(want.findings[i]));
  expect(got.examples.map((c) => c.id)).toEqual(want.examples.map((c) => c.id));
  expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  expect(got).toEqual(want);
  return want;
}

/** A capture's connections in batches as the tracker writes them (addresses as words) and as ConnectionEncoder.add does (as text, SYN-ACK TTL unknown). */
async function batches(file: string, every = 3000): Promise<{ tracker: ConnectionBatch[]; objects: ConnectionBatch[]; count: number }> {
  const { tracker, objects, conns } = await captureBatches(file, { every });
  return { tracker, objects, count: conns.length };
}

const gen = useGeneratedCaptures("synsent-diag-", {
  plain: { connections: 6000, seed: 11, ipv6Share: 0.3, retransShare: 0.2 },
  busy: { connections: 15000, seed: 5, rate: 70000, unansweredShare: 0.3, refusedShare: 0.2, ipv6Share: 0.2 },
});

describe("compiled diagnoser", () => {
  test("is built (npm install builds it; without it every test here would compare JavaScript with itself)", () => {
    expect(nativeTrackerAvailable()).toBe(true);
  });

  test.each(captures)("same diagnosis as Diagnoser.add(): %s", async (file) => {
    const { tracker, objects, count } = await batches(file);
    expect(count).toBeGreaterThan(0);
    for (const opts of OPTIONS) {
      expectSameDiagnosis(tracker, opts);
      expectSameDiagnosis(objects, opts);
    }
  });

  test("same diagnosis on generated captures (RTT histograms: more than 64 samples per destination)", async () => {
    for (const name of ["plain", "busy"]) {
      const { tracker, objects, count } = await batches(gen[name]!, 1 << 16);
      expect(count).toBeGreaterThan(5000);
      for (const opts of OPTIONS) {
        const d = expectSameDiagnosis(tracker, opts);
        if (opts.maxDestinations === undefined) expect(d.destinations.some((x) => (x.rttMs.total?.count ?? 0) > 64)).toBe(true);
        expectSameDiagnosis(objects, opts);
      }
    }
  }, 120_000);

  test("same diagnosis on every file of the tcpdump corpus", async () => {
    const files = fs.existsSync(CORPUS) ? fs.readdirSync(CORPUS).filter((f) => fs.statSync(path.join(CORPUS, f)).isFile()) : [];
    let n = 0;
    for (const f of files) {
      let b: Awaited<ReturnType<typeof batches>>;
      try {
        b = await batches(path.join(CORPUS, f));
      } catch (e) {
        if ((e as Error).name !== "InputError") throw e;
        continue;
      }
      n += b.count;
      expectSameDiagnosis(b.tracker, {});
      expectSameDiagnosis(b.objects, { maxExamplesPerKind: 2, maxDestinations: 2 });
    }
    if (files.length > 0) expect(n).toBeGreaterThan(150);
  }, 300_000);

  test("random connections reaching every branch: same diagnosis", () => {
    const r = rng(20261124);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const servers = ["192.0.2.1", "192.0.2.2", "2001:db8::1", "198.51.100.7", "x\"\\é\ud800"];
    // a scan besides: thousands of destinations, past maxDestinations below
    const scanned = (id: number) => ({ ip: `198.18.${(id >> 8) & 255}.${id & 255}`, port: 1 + (id % 7) });
    const clients = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `2001:db8:1::${i.toString(16)}` : `10.${i >> 8}.${i & 255}.1`));
    const flags = ["SYN", "SYN,ACK", "ACK", "FIN,ACK", "RST", "RST,ACK", "PSH,ACK", "FIN,SYN", "ICMP 3/3", "SYN,ECE,CWR", "none"];
    const notes = [null, null, null, "retransmission", "duplicate", "keep-alive", "out-of-order"];
    const rtts = [0.12, 0.5, 1.25, 3, 40.5, 250, 1e-6, 9000];
    const conns: Connection[] = [];
    for (let id = 1; id <= 6000; id++) {
      const firstTs = 1_700_000_000 + id * 0.01;
      const ladder: LadderStep[] = [];
      const steps = Math.floor(r() * 9);
      for (let k = 0; k < steps; k++) {
        ladder.push({
          frame: id * 20 + k,
          ts: firstTs + k * r(),
          from: pick(["client", "server", "client", "server", "icmp"] as const),
          flags: pick(flags),
          seq: k,
          ack: 0,
          len: 0,
          ttl: pick([64, 63, 128, 255, 50]),
          note: pick(notes),
        });
      }
      const outcome = pick(OUTCOMES);
      const hasRst = r() < 0.5;
      const forged = hasRst && r() < 0.4;
      const syn = Math.floor(r() * 5);
      const synAck = Math.floor(r() * 3);
      const rtt = r() < 0.6;
      const server = id % 4 !== 0 ? pick(servers) : scanned(id).ip;
      conns.push({
        id,
        ipVersion: server.includes(":") ? 6 : 4,
        client: { ip: pick(clients), port: 40000 + id },
        server: { ip: server, port: id % 4 !== 0 ? pick([80, 443, 8080]) : scanned(id).port },
        outcome,
        zeekState: "OTH",
        syn,
        synAck,
        rst: hasRst ? { from: pick(["client", "server"] as const), ts: firstTs + 1, frame: id * 20 + 19, ttl: pick([64, 50, 128]), suspectedForged: forged, forgedReason: forged && r() < 0.8 ? pick(["TTL 50, not 64", 'other "reason"']) : null } : null,
        icmp: r() < 0.3 ? { type: 3, code: pick([1, 3, 10, 13]), from: pick(["192.0.2.254", server, "2001:db8::fe"]), ts: firstTs + 0.5, frame: id * 20 + 18 } : null,
        retransmissions: { data: r() < 0.3 ? Math.floor(r() * 6) : 0, syn: Math.max(syn - 1, 0), synAck: Math.max(synAck - 1, 0) },
        duplicates: 0,
        handshakeRttMs: rtt ? { synToSynAck: pick(rtts) * (1 + r()), synAckToAck: 0.1, total: pick(rtts) * (1 + r()) } : null,
        synOptions: null,
        packets: { client: Math.floor(r() * 20), server: Math.floor(r() * 20) },
        bytes: { client: 0, server: 0 },
        firstTs,
        lastTs: firstTs + r() * 30,
        frames: Array.from({ length: Math.floor(r() * 40) }, (_, k) => id * 20 + k),
        ladder,
        ladderTruncated: r() < 0.3,
        evicted: false,
      });
    }
    for (const opts of [...OPTIONS, { maxExamplesPerKind: 1000 }, { maxDestinations: 1000 }]) {
      // SYN-ACK TTL unknown (read from the ladder), and known
      const unknown = expectSameDiagnosis(encodeBatches(conns), opts);
      expect(unknown.findings.length).toBeGreaterThan(5);
      // past 256 clients a destination counts them in a bitmap
      if (opts.maxDestinations === undefined) expect(unknown.destinations.some((x) => x.clients > 256)).toBe(true);
      const enc = new ConnectionEncoder(64);
      const known: ConnectionBatch[] = [];
      conns.forEach((c, i) => {
        enc.add(c, i % 2 === 0 ? 64 : -1);
        if (enc.size > 5000) known.push(enc.take());
      });
      known.push(enc.take());
      expectSameDiagnosis(known, opts);
    }
  }, 60_000);
});
