import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, Prng, type GenerateTruth } from "../../bench/generate.js";
import { synFlood } from "../../bench/synflood.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-bench-test-"));
const hasTshark = spawnSync("sh", ["-c", "command -v tshark"]).status === 0;

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Walked {
  packets: number;
  synOnly: number;
  synAck: number;
  rst: number;
  monotonic: boolean;
  badIpChecksums: number;
  badTcpChecksums: number;
  /** TCP checksums verified (packet fully captured). */
  verified: number;
  sources: Set<string>;
}

function sum16(b: Buffer, start: number, end: number): number {
  let s = 0;
  for (let i = start; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if ((end - start) & 1) s += b[end - 1] << 8;
  return s;
}

function folded(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/** An independent pcap walker: record headers, Ethernet, IPv4/IPv6, TCP, checksums recomputed from scratch. */
function walk(file: string): Walked {
  const b = fs.readFileSync(file);
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
  expect(b.readUInt32LE(20)).toBe(1); // Ethernet
  const out: Walked = { packets: 0, synOnly: 0, synAck: 0, rst: 0, monotonic: true, badIpChecksums: 0, badTcpChecksums: 0, verified: 0, sources: new Set() };
  let p = 24;
  let lastTs = -1;
  while (p < b.length) {
    const ts = b.readUInt32LE(p) * 1e6 + b.readUInt32LE(p + 4);
    const cap = b.readUInt32LE(p + 8);
    const wire = b.readUInt32LE(p + 12);
    expect(b.readUInt32LE(p + 4)).toBeLessThan(1_000_000);
    if (ts < lastTs) out.monotonic = false;
    lastTs = ts;
    const f = p + 16;
    const v6 = b.readUInt16BE(f + 12) === 0x86dd;
    const ip = f + 14;
    let tcp: number;
    let pseudo: number;
    let tcpLen: number;
    let src: string;
    if (v6) {
      tcpLen = b.readUInt16BE(ip + 4);
      pseudo = sum16(b, ip + 8, ip + 40) + 6 + tcpLen;
      tcp = ip + 40;
      src = b.subarray(ip + 8, ip + 24).toString("hex");
    } else {
      expect(b[ip]).toBe(0x45);
      if (folded(sum16(b, ip, ip + 20)) !== 0xffff) out.badIpChecksums++;
      tcpLen = b.readUInt16BE(ip + 2) - 20;
      pseudo = sum16(b, ip + 12, ip + 20) + 6 + tcpLen;
      tcp = ip + 20;
      src = b.subarray(ip + 12, ip + 16).toString("hex");
    }
    expect(14 + (v6 ? 40 : 20) + tcpLen).toBe(wire);
    if (cap === wire) {
      out.verified++;
      if (folded(pseudo + sum16(b, tcp, tcp + tcpLen)) !== 0xffff) out.badTcpChecksums++;
    }
    const flags = b[tcp + 13];
    if ((flags & 0x12) === 0x02) {
      out.synOnly++;
      out.sources.add(`${src}:${b.readUInt16BE(tcp)}`);
    }
    if ((flags & 0x12) === 0x12) out.synAck++;
    if (flags & 0x04) out.rst++;
    out.packets++;
    p = f + cap;
  }
  expect(p).toBe(b.length);
  return out;
}

function tshark(args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync("tshark", args, { encoding: "utf8", maxBuffer: 256 << 20, timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return { stdout: r.stdout, stderr: r.stderr };
}

describe("Prng", () => {
  it("is deterministic per seed and spreads values", () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 1000 }, () => a.u32());
    const ys = Array.from({ length: 1000 }, () => b.u32());
    const zs = Array.from({ length: 1000 }, () => c.u32());
    expect(xs).toEqual(ys);
    expect(xs).not.toEqual(zs);
    expect(new Set(xs).size).toBe(1000);
    const mean = xs.reduce((s, x) => s + x / 4294967296, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe("bench/generate", () => {
  let small: GenerateTruth;
  let full: GenerateTruth;
  const smallFile = path.join(dir, "small.pcap");
  const fullFile = path.join(dir, "full.pcap");

  beforeAll(() => {
    small = generate({ out: smallFile, connections: 2000, seed: 7 });
    full = generate({ out: fullFile, connections: 2000, seed: 7, snaplen: 65535 });
  });

  it("same seed gives byte-identical files, another seed a different one", () => {
    const again = path.join(dir, "again.pcap");
    const other = path.join(dir, "other.pcap");
    generate({ out: again, connections: 2000, seed: 7, truthFile: false });
    generate({ out: other, connections: 2000, seed: 8, truthFile: false });
    const a = fs.readFileSync(smallFile);
    expect(fs.readFileSync(again).equals(a)).toBe(true);
    expect(fs.readFileSync(other).equals(a)).toBe(false);
    expect(fs.existsSync(`${again}.truth.json`)).toBe(false);
    // Snap length changes bytes kept, not the traffic.
    expect(full.packets).toBe(small.packets);
    expect(full.syn).toBe(small.syn);
  });

  it("writes a truth sidecar that matches the returned truth and the file", () => {
    const side = JSON.parse(fs.readFileSync(`${smallFile}.truth.json`, "utf8")) as GenerateTruth;
    expect({ ...side, generateSeconds: 0 }).toEqual({ ...small, generateSeconds: 0 });
    expect(small.bytes).toBe(fs.statSync(smallFile).size);
    expect(small.connections).toBe(2000);
    expect(small.outcomes.closed + small.outcomes.unanswered + small.outcomes.refused).toBe(2000);
    expect(small.ipv4Connections + small.ipv6Connections).toBe(2000);
    // Mix close to the reference: ~10 % unanswered, ~8 % refused, ~7.2 packets a connection.
    expect(small.outcomes.unanswered).toBeGreaterThan(140);
    expect(small.outcomes.unanswered).toBeLessThan(260);
    expect(small.outcomes.refused).toBeGreaterThan(100);
    expect(small.outcomes.refused).toBeLessThan(220);
    expect(small.packets / small.connections).toBeGreaterThan(6.5);
    expect(small.packets / small.connections).toBeLessThan(8);
    // 4 SYNs per unanswered connection, 1 per other.
    expect(small.syn).toBe(small.connections + 3 * small.outcomes.unanswered);
    expect(small.synRetransmissions).toBe(3 * small.outcomes.unanswered);
    expect(small.synAck).toBe(small.outcomes.closed);
    expect(small.rst).toBe(small.outcomes.refused);
    expect(small.dataRetransmissions).toBeGreaterThan(0);
    expect(small.unansweredEndingWithin["30"]).toBe(0);
  });

  it("writes well-formed records with correct checksums, in time order", () => {
    const w = walk(fullFile);
    expect(w.packets).toBe(full.packets);
    expect(w.monotonic).toBe(true);
    expect(w.synOnly).toBe(full.syn);
    expect(w.synAck).toBe(full.synAck);
    expect(w.rst).toBe(full.rst);
    expect(w.verified).toBe(full.packets);
    expect(w.badIpChecksums).toBe(0);
    expect(w.badTcpChecksums).toBe(0);
    const s = walk(smallFile);
    expect(s.packets).toBe(small.packets);
    expect(s.monotonic).toBe(true);
    expect(s.synOnly).toBe(small.syn);
    expect(s.badIpChecksums).toBe(0);
    // Distinct client ip:port per connection (SYN retries reuse theirs).
    expect(s.sources.size).toBe(small.connections);
  });

  it("--packets stops within one connection of the target", () => {
    const t = generate({ out: path.join(dir, "p.pcap"), packets: 5000, seed: 3, truthFile: false });
    expect(Math.abs(t.packets - 5000)).toBeLessThan(24);
    expect(t.options.packets).toBe(5000);
  });

  it.skipIf(!hasTshark)("tshark reads it cleanly and agrees with the truth", () => {
    const conv = tshark(["-r", smallFile, "-q", "-z", "conv,tcp"]);
    expect(conv.stderr).not.toMatch(/damaged|cut short|corrupt/i);
    const convLines = conv.stdout.split("\n").filter((l) => l.includes("<->"));
    expect(convLines.length).toBe(small.connections);

    const syn = tshark(["-r", smallFile, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields", "-e", "frame.number"]);
    expect(syn.stdout.trim().split("\n").length).toBe(small.syn);

    // Wireshark counts SYN retransmissions as retransmissions too.
    const re = tshark(["-r", smallFile, "-Y", "tcp.analysis.retransmission", "-T", "fields", "-e", "frame.number"]);
    expect(re.stdout.trim().split("\n").length).toBe(small.dataRetransmissions + small.synRetransmissions);
  });

  it.skipIf(!hasTshark)("tshark finds every checksum good", () => {
    const r = tshark([
      "-r",
      fullFile,
      "-o",
      "tcp.check_checksum:TRUE",
      "-o",
      "ip.check_checksum:TRUE",
      "-T",
      "fields",
      "-e",
      "tcp.checksum.status",
      "-e",
      "ip.checksum.status",
    ]);
    const rows = r.stdout.trim().split("\n").map((l) => l.split("\t"));
    expect(rows.length).toBe(full.packets);
    // Status 1 = good, 0 = bad, 2 = unverified. IPv6 has no header checksum.
    expect(rows.filter((x) => x[0] !== "1").length).toBe(0);
    expect(rows.filter((x) => x[1] !== "" && x[1] !== "1").length).toBe(0);
    expect(rows.filter((x) => x[1] === "1").length).toBe(full.packets - countIpv6(fullFile));
    const bad = tshark(["-r", fullFile, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-Y", "tcp.checksum.status == 0 || ip.checksum.status == 0"]);
    expect(bad.stdout.trim()).toBe("");
  });
});

function countIpv6(file: string): number {
  const out = execFileSync("tshark", ["-r", file, "-Y", "ipv6", "-T", "fields", "-e", "frame.number"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return out.trim() === "" ? 0 : out.trim().split("\n").length;
}

describe("bench/synflood", () => {
  it("writes exactly N SYNs from distinct sources to one server, with retries 1 s later", async () => {
    const chunks: Buffer[] = [];
    let drains = 0;
    const truth = await synFlood(
      { count: 50_000, retryShare: 0.25, seed: 5 },
      (chunk, len) => chunks.push(Buffer.from(chunk.subarray(0, len))),
      () => {
        drains++;
        return Promise.resolve();
      },
    );
    const file = path.join(dir, "flood.pcap");
    fs.writeFileSync(file, Buffer.concat(chunks));
    expect(drains).toBeGreaterThan(0); // chunks were handed out as it went, not at the end
    expect(truth.syn).toBe(50_000);
    expect(truth.connections + truth.retried).toBe(50_000);
    expect(truth.retried).toBeGreaterThan(8_000);
    expect(truth.bytes).toBe(fs.statSync(file).size);
    const w = walk(file);
    expect(w.packets).toBe(50_000);
    expect(w.synOnly).toBe(50_000);
    expect(w.synAck + w.rst).toBe(0);
    expect(w.monotonic).toBe(true);
    expect(w.sources.size).toBe(truth.connections);
    expect(w.badIpChecksums + w.badTcpChecksums).toBe(0);
    expect(w.verified).toBe(50_000);
  });

  it("--scan: one scanner, every SYN to another destination; synsent lists each destination", async () => {
    const chunks: Buffer[] = [];
    const truth = await synFlood({ count: 4_000, retryShare: 0, seed: 3, scan: true }, (chunk, len) => void chunks.push(Buffer.from(chunk.subarray(0, len))), () => null);
    const file = path.join(dir, "scan.pcap");
    fs.writeFileSync(file, Buffer.concat(chunks));
    expect(truth.server).toBeNull();
    expect(truth.connections).toBe(4_000);
    const w = walk(file);
    expect(w.packets).toBe(4_000);
    expect(w.synOnly).toBe(4_000);
    expect(w.badIpChecksums + w.badTcpChecksums).toBe(0);
    const { analyze } = await import("../../src/analyze.js");
    const r = await analyze(file);
    expect(r.destinations.length).toBe(4_000);
    expect(r.destinations.every((d) => d.attempts === 1 && d.clients === 1)).toBe(true);
    expect(new Set(r.connections.map((c) => c.client.ip))).toEqual(new Set(["203.0.113.5"]));
  });
});
