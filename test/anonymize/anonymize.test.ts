import { describe, expect, it } from "vitest";
import { Anonymizer, formatIpv6, parseIpv4, parseIpv6 } from "../../src/report/anonymize.js";

// The sample key of the Crypto-PAn reference distribution (sample_trace_raw.dat / sample_trace_sanitized.dat).
const REFERENCE_KEY = new Uint8Array([
  21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131, 121, 121, 101, 39, 98, 87,
  76, 45, 42, 132, 34, 2,
]);
const V4_VECTORS: [string, string][] = [
  ["128.11.68.132", "135.242.180.132"],
  ["129.118.74.4", "134.136.186.123"],
  ["130.132.252.244", "133.68.164.234"],
  ["141.223.7.43", "141.167.8.160"],
  ["141.233.145.108", "141.129.237.235"],
  ["152.163.225.39", "151.140.114.167"],
  ["156.29.3.236", "147.225.12.42"],
  ["165.247.96.84", "162.9.99.234"],
  ["166.107.77.190", "160.132.178.185"],
  ["192.102.249.13", "252.138.62.131"],
  ["192.215.32.125", "252.43.47.189"],
  ["192.233.80.103", "252.25.108.8"],
  ["192.41.57.43", "252.222.221.184"],
  ["193.150.244.223", "253.169.52.216"],
  ["195.205.63.100", "255.186.223.5"],
  ["198.200.171.101", "249.199.68.213"],
  ["24.0.250.221", "100.15.198.226"],
  ["4.3.88.225", "124.60.155.63"],
  ["64.14.118.196", "0.255.183.58"],
  ["10.185.25.118", "117.161.29.118"],
];
// Vectors of widely used 128-bit extensions of Crypto-PAn (same key; the pad continues past bit 32).
const V6_VECTORS: [string, string][] = [
  ["::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"],
  ["::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"],
  ["::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"],
  ["2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"],
  ["2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"],
];

function commonPrefix(a: Uint32Array | number[], b: Uint32Array | number[], words: number): number {
  for (let i = 0; i < words; i++) {
    const x = (a[i]! ^ b[i]!) >>> 0;
    if (x !== 0) return i * 32 + Math.clz32(x);
  }
  return words * 32;
}

/** Deterministic PRNG so failures are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0);
  };
}

describe("Crypto-PAn", () => {
  const ref = new Anonymizer(null, REFERENCE_KEY);

  it("matches the reference implementation's sample trace (IPv4)", () => {
    for (const [raw, anon] of V4_VECTORS) expect(ref.ipText(raw), raw).toBe(anon);
  });

  it("matches published 128-bit vectors (IPv6)", () => {
    for (const [raw, anon] of V6_VECTORS) expect(ref.ipText(raw), raw).toBe(anon);
  });

  it("preserves prefixes exactly (IPv4): k shared bits in, k shared bits out", () => {
    const a = new Anonymizer("prefix test");
    const r = rng(1);
    for (let n = 0; n < 300; n++) {
      const x = r();
      const k = n % 33;
      // y shares exactly k leading bits with x (flip bit k, randomize the rest).
      let y = k === 32 ? x : ((x ^ (0x80000000 >>> k)) >>> 0);
      if (k < 31) {
        const low = (0xffffffff >>> (k + 1)) >>> 0;
        y = ((y & ~low) | (r() & low)) >>> 0;
      }
      expect(commonPrefix([x], [y], 1)).toBe(k);
      expect(commonPrefix([a.ipv4Words(x)], [a.ipv4Words(y)], 1)).toBe(k);
    }
  });

  it("preserves prefixes exactly (IPv6)", () => {
    const a = new Anonymizer("prefix test");
    const r = rng(2);
    const x = new Uint32Array(4);
    const y = new Uint32Array(4);
    const ax = new Uint32Array(4);
    const ay = new Uint32Array(4);
    for (let n = 0; n < 129; n += 3) {
      for (let i = 0; i < 4; i++) {
        x[i] = r();
        y[i] = r();
      }
      // Copy the first n bits of x into y, then make bit n differ.
      for (let bit = 0; bit < 128; bit++) {
        const w = bit >> 5;
        const m = (0x80000000 >>> (bit & 31)) >>> 0;
        if (bit < n) y[w] = ((y[w]! & ~m) | (x[w]! & m)) >>> 0;
        else if (bit === n) y[w] = ((y[w]! & ~m) | (~x[w]! & m)) >>> 0;
      }
      expect(commonPrefix(x, y, 4)).toBe(n);
      a.ipv6Words(x, ax);
      a.ipv6Words(y, ay);
      expect(commonPrefix(ax, ay, 4)).toBe(n);
    }
  });

  it("is deterministic with a key and differs between keys", () => {
    const a1 = new Anonymizer("s3cret");
    const a2 = new Anonymizer("s3cret");
    const b = new Anonymizer("other");
    expect(a1.keyWasGenerated).toBe(false);
    for (const ip of ["10.0.0.1", "192.168.77.5", "2001:db8:1::42", "fe80::1"]) {
      expect(a1.ipText(ip)).toBe(a2.ipText(ip));
      expect(a1.ipText(ip)).not.toBe(b.ipText(ip));
      expect(a1.ipText(ip)).not.toBe(ip);
    }
    const rand = new Anonymizer(null);
    expect(rand.keyWasGenerated).toBe(true);
    expect(rand.ipText("10.0.0.1")).not.toBe(new Anonymizer(null).ipText("10.0.0.1"));
  });

  it("parses and formats IPv6 the RFC 5952 way", () => {
    const w = new Uint32Array(4);
    expect(parseIpv6("2001:DB8:0:0:1:0:0:1", w)).toBe(true);
    expect(formatIpv6(w)).toBe("2001:db8::1:0:0:1");
    expect(parseIpv6("::ffff:10.1.2.3", w)).toBe(true);
    // IPv4-mapped: the mixed notation of RFC 5952 section 5, as in the rest of the report and in tshark.
    expect(formatIpv6(w)).toBe("::ffff:10.1.2.3");
    expect(parseIpv6("10.1.2.3", w)).toBe(false);
    expect(parseIpv4("256.1.1.1")).toBe(-1);
  });

  it("replaces addresses inside free text and leaves other text alone", () => {
    const a = new Anonymizer("k");
    const t = "SYNs to 10.0.0.5:443 from 192.168.1.7 get no answer; [2001:db8::1]:80 and 2001:db8::2: refused at 12:30:45, v1.2.3. Ask 2001:db8:ff::1. Or 10.9.9.9.";
    const out = a.textAddresses(t);
    for (const ip of ["10.0.0.5", "192.168.1.7", "2001:db8::1", "2001:db8::2", "2001:db8:ff::1", "10.9.9.9"]) {
      expect(out).not.toContain(ip);
      expect(out).toContain(a.ipText(ip));
    }
    expect(out).toContain("12:30:45");
    expect(out).toContain("v1.2.3");
    expect(out).toContain(":443 from");
  });

  it("maps MACs consistently, keeps group addresses, marks pseudonyms locally administered", () => {
    const a = new Anonymizer("k");
    const mac = new Uint8Array([0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]);
    const o1 = new Uint8Array(6);
    const o2 = new Uint8Array(6);
    a.mac(mac, 0, o1, 0);
    new Anonymizer("k").mac(mac, 0, o2, 0);
    expect([...o1]).toEqual([...o2]);
    expect([...o1]).not.toEqual([...mac]);
    expect(o1[0]! & 0x03).toBe(0x02);
    const bcast = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    a.mac(bcast, 0, o1, 0);
    expect([...o1]).toEqual([...bcast]);
  });
});

import { sampleReport } from "../report-html/fixtures.js";

describe("anonymizeReport", () => {
  it("replaces every address everywhere, keeps ports, file names and the original report intact", () => {
    const report = sampleReport();
    const before = JSON.stringify(report);
    const a = new Anonymizer("report key");
    const out = a.anonymizeReport(report);
    expect(JSON.stringify(report)).toBe(before); // deep copy, original untouched
    const json = JSON.stringify(out);
    const originals = new Set<string>();
    for (const c of [...report.connections, ...report.examples]) {
      originals.add(c.client.ip);
      originals.add(c.server.ip);
      if (c.icmp) originals.add(c.icmp.from);
    }
    for (const d of report.destinations) originals.add(d.server.ip);
    expect(originals.size).toBeGreaterThan(5);
    for (const ip of originals) {
      // Quoted JSON strings, "ip:" and "ip " forms: the address must be gone from every field and sentence.
      expect(json).not.toMatch(new RegExp(`(^|[^0-9a-f:.])${ip.replace(/[.]/g, "\\.")}([^0-9a-f:.]|:\\d|$)`));
      expect(json).toContain(a.ipText(ip));
    }
    expect(out.connections[0]!.client.port).toBe(report.connections[0]!.client.port);
    expect(out.findings[0]!.title).toBe(`SYNs to ${a.ipText("10.0.0.9")}:443 are silently dropped`);
    expect(out.findings[2]!.title).toContain(`[${a.ipText("2001:db8:2::53")}]:853`);
    expect(out.examples[2]!.icmp!.from).toBe(a.ipText("2001:db8:ff::1"));
    expect(out.source.files).toEqual(report.source.files);
    // Same connection, same pseudonym, in connections and examples.
    expect(out.examples[0]!.server.ip).toBe(out.connections[0]!.server.ip);
  });
});
