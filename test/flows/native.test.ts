/**
 * The compiled flow tracker (native/flows/flows.cc) and its connection text
 * must say exactly what the JavaScript ones say: the same reports, byte for
 * byte, on every bundled capture, every file of the tcpdump corpus and
 * generated captures (busy links, IPv6, retransmissions, a full table that
 * evicts), and the same JSON/NDJSON from the command line.
 */
import { describe, expect, test } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { analyze, type AnalyzeOptions } from "../../src/analyze.js";
import { ConnectionEncoder, type ConnectionBatch } from "../../src/flows/codec.js";
import type { Connection } from "../../src/flows/connection.js";
import { NativeConnectionText, nativeTrackerAvailable } from "../../src/flows/native.js";
import { connectionJsonText } from "../../src/report/json.js";
import { CORPUS, runCli } from "../helpers/cli.js";
import { captureBatches, useGeneratedCaptures } from "../helpers/batches.js";
import { rng } from "../decode/helpers.js";

const captures = fs
  .readdirSync("captures")
  .filter((f) => /\.(pcap|pcapng)$/.test(f))
  .map((f) => `captures/${f}`);

/** The whole report as text, or the error it ended in. */
async function report(file: string, opts: AnalyzeOptions): Promise<string> {
  try {
    return JSON.stringify(await analyze(file, opts));
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** Compiled (default) and JavaScript trackers give the same report; returns its connection count. */
async function same(file: string, opts: AnalyzeOptions = {}): Promise<number> {
  let n = 0;
  for (const ladderFor of ["all", "problems"] as const) {
    const js = await report(file, { ...opts, ladderFor, tracker: "js" });
    const compiled = await report(file, { ...opts, ladderFor });
    expect(compiled).toBe(js);
    n = js.startsWith("{") ? (JSON.parse(js) as { connections: unknown[] }).connections.length : 0;
  }
  return n;
}

const gen = useGeneratedCaptures("synsent-native-", {
  plain: { connections: 4000, seed: 7, ipv6Share: 0.3, retransShare: 0.2 },
  // 15 k connections at 70 k/s: more than 8192 open at once (the JavaScript tracker's compact tier)
  busy: { connections: 15000, seed: 3, rate: 70000, unansweredShare: 0.4, refusedShare: 0.2, ipv6Share: 0.2 },
});

describe("compiled flow tracker", () => {
  test("is built (npm install builds it; without it every test here would compare JavaScript with itself)", () => {
    expect(nativeTrackerAvailable()).toBe(true);
  });

  test.each(captures)("same report as the JavaScript tracker: %s", async (file) => {
    expect(await same(file)).toBeGreaterThan(0);
  });

  test("same reports on generated captures: IPv6, retransmissions, a busy link, a full table that evicts", async () => {
    expect(await same(gen.plain!)).toBe(4000);
    // past 8192 open connections the SYN-only ones go to the compact tier; also with it always and never
    expect(await same(gen.busy!)).toBe(15000);
    expect(await same(gen.busy!, { compactAbove: 0 })).toBe(15000);
    expect(await same(gen.busy!, { compactAbove: 1e9 })).toBe(15000);
    await same(gen.busy!, { compactAbove: 0, maxFlows: 300 });
    // a table of 300: evictions in least-recently-active order
    // (an evicted connection's later packets start another, midstream, one)
    const n = await same(gen.busy!, { maxFlows: 300 });
    expect(n).toBeGreaterThan(15000);
    const r = await analyze(gen.busy!, { maxFlows: 300 });
    expect(r.flowTable.evicted).toBeGreaterThan(1000);
    // another SYN timeout: pending / unanswered and due times move
    await same(gen.plain!, { synTimeoutS: 0.5 });
  }, 120_000);

  test("same reports on every file of the tcpdump corpus", async () => {
    const files = fs.existsSync(CORPUS) ? fs.readdirSync(CORPUS).filter((f) => fs.statSync(path.join(CORPUS, f)).isFile()) : [];
    let conns = 0;
    for (const f of files) conns += await same(path.join(CORPUS, f));
    if (files.length > 0) expect(conns).toBeGreaterThan(150);
  }, 300_000);
});

/** Batches of a capture's connections as the tracker writes them (addresses as words) and as ConnectionEncoder.add does (as text). */
function batches(file: string): ReturnType<typeof captureBatches> {
  return captureBatches(file, { ladderFor: "all" });
}

function text(bs: ConnectionBatch[], ndjson: boolean): string {
  const t = NativeConnectionText.create()!;
  let out = "";
  let first = true;
  for (const b of bs) {
    t.write(b, ndjson, first, (text) => {
      out += Buffer.from(text).toString("utf8");
    });
    first = false;
  }
  return out;
}

describe("compiled connection text", () => {
  const expectSame = async (file: string) => {
    const { tracker, objects, conns } = await batches(file);
    const json = conns.map((c) => connectionJsonText(c));
    const wantJson = json.length ? '{"connections":[' + json.join(",") : "";
    const wantNdjson = json.map((j) => '{"type":"connection",' + j.slice(1) + "\n").join("");
    expect(text(tracker, false)).toBe(wantJson);
    expect(text(objects, false)).toBe(wantJson);
    expect(text(tracker, true)).toBe(wantNdjson);
    expect(text(objects, true)).toBe(wantNdjson);
    return conns.length;
  };

  test.each(captures)("= json.ts's text: %s", async (file) => {
    expect(await expectSame(file)).toBeGreaterThan(0);
  });

  test("= json.ts's text on generated captures and the corpus", async () => {
    expect(await expectSame(gen.plain!)).toBe(4000);
    const files = fs.existsSync(CORPUS) ? fs.readdirSync(CORPUS).filter((f) => fs.statSync(path.join(CORPUS, f)).isFile()) : [];
    for (const f of files) {
      try {
        await expectSame(path.join(CORPUS, f));
      } catch (e) {
        if ((e as Error).name !== "InputError") throw e;
      }
    }
  }, 300_000);

  test("strings that need escaping, numbers of every shape", () => {
    const c = JSON.parse(
      '{"id":12345678901,"ipVersion":6,"client":{"ip":"2001:db8::1","port":1},"server":{"ip":"x\\"\\\\\\n\\u0001é\\ud800z","port":65535},' +
        '"outcome":"refused","zeekState":"REJ","syn":3,"synAck":0,"rst":{"from":"server","ts":1.5e-7,"frame":4294967297,"ttl":255,"suspectedForged":true,"forgedReason":"TTL 1 \\"odd\\""},' +
        '"icmp":{"type":3,"code":3,"from":"::ffff:1.2.3.4","ts":0.1,"frame":2},"retransmissions":{"data":0,"syn":2,"synAck":0},"duplicates":1,' +
        '"handshakeRttMs":{"synToSynAck":0.30000000000000004,"synAckToAck":123456789.123,"total":1e21},"synOptions":{"mss":null,"windowScale":14,"sackPermitted":true,"timestamps":true},' +
        '"packets":{"client":3,"server":1},"bytes":{"client":0,"server":0},"firstTs":1704067200.000001,"lastTs":9007199254740991,"frames":[1,2,3],' +
        '"ladder":[{"frame":1,"ts":-0.5,"from":"client","flags":"SYN","seq":0,"ack":0,"len":0,"ttl":64,"note":null},{"frame":2,"ts":8589934592.5,"from":"icmp","flags":"ICMP 3/3","seq":0,"ack":0,"len":0,"ttl":60,"note":"out-of-order"}],' +
        '"ladderTruncated":true,"evicted":true}',
    ) as Connection;
    const enc = new ConnectionEncoder(64);
    enc.add(c, 60);
    expect(text([enc.take()], false)).toBe('{"connections":[' + connectionJsonText(c));
  });
});

describe("compiled decoding of damaged headers", () => {
  test("bundled captures with random header bytes and wire lengths changed: same reports", async () => {
    const rand = rng(20261124);
    let files = 0;
    for (const name of ["busy.pcap", "normal6.pcap", "data-retrans.pcap", "router-any-dup.pcap", "reject-port-unreachable.pcap"]) {
      const orig = fs.readFileSync(path.join("captures", name));
      const le = orig.readUInt32LE(0) === 0xa1b2c3d4 || orig.readUInt32LE(0) === 0xa1b23c4d;
      for (let round = 0; round < 40; round++) {
        const b = Buffer.from(orig);
        for (let o = 24; o + 16 <= b.length; ) {
          const capLen = le ? b.readUInt32LE(o + 8) : b.readUInt32BE(o + 8);
          const rec = o + 16;
          if (rand() < 0.3) {
            // a few bytes of the Ethernet/IP/TCP headers and options
            for (let k = 0; k < 3; k++) {
              const at = rec + Math.floor(rand() * Math.min(capLen, 80));
              if (at < b.length) b[at] = Math.floor(rand() * 256);
            }
          }
          if (rand() < 0.05) {
            // the wire length: shorter or longer than what was captured
            const w = Math.floor(rand() * (capLen + 64));
            if (le) b.writeUInt32LE(w, o + 12);
            else b.writeUInt32BE(w, o + 12);
          }
          o = rec + capLen;
        }
        const file = path.join(path.dirname(gen.plain!), `mut-${name}-${round}.pcap`);
        fs.writeFileSync(file, b);
        await same(file);
        fs.rmSync(file);
        files++;
      }
    }
    expect(files).toBe(200);
  }, 120_000);
});

/** The pcap (little-endian, Ethernet) with an 802.1Q tag inserted into the records `tag(i)` picks. */
function withVlanTags(src: Buffer, tag: (i: number) => boolean): Buffer {
  const parts: Buffer[] = [src.subarray(0, 24)];
  let i = 0;
  for (let o = 24; o + 16 <= src.length; i++) {
    const capLen = src.readUInt32LE(o + 8);
    const head = Buffer.from(src.subarray(o, o + 16));
    const frame = src.subarray(o + 16, o + 16 + capLen);
    if (tag(i) && capLen >= 14) {
      head.writeUInt32LE(capLen + 4, 8);
      head.writeUInt32LE(src.readUInt32LE(o + 12) + 4, 12);
      parts.push(head, frame.subarray(0, 12), Buffer.from([0x81, 0x00, 0x00, 0x05]), frame.subarray(12));
    } else parts.push(head, frame);
    o += 16 + capLen;
  }
  return Buffer.concat(parts);
}

describe("records the compiled decoder hands back", () => {
  test("VLAN-tagged records (JavaScript decoder) among plain ones, in runs and one by one: same reports", async () => {
    const orig = fs.readFileSync(gen.plain!);
    expect(orig.readUInt32LE(0)).toBe(0xa1b2c3d4);
    const cases: [string, (i: number) => boolean][] = [
      ["all", () => true],
      ["every other", (i) => i % 2 === 1],
      ["runs of 5000", (i) => Math.floor(i / 5000) % 2 === 1],
    ];
    for (const [name, tag] of cases) {
      const file = path.join(path.dirname(gen.plain!), `vlan-${name.replace(/ /g, "-")}.pcap`);
      fs.writeFileSync(file, withVlanTags(orig, tag));
      expect(await same(file)).toBe(4000);
      fs.rmSync(file);
    }
  }, 120_000);
});

describe("command line: compiled and JavaScript paths write the same files", () => {
  // text/markdown on two threads: the writer thread only diagnoses (the compiled diagnoser)
  test.each(["json", "ndjson", "text", "markdown"])("--format %s, one and two threads", async (format) => {
    for (const file of [gen.plain!, "captures/mixed.pcapng", "captures/reject-tcp-reset.pcap"]) {
      for (const threads of ["1", "2"]) {
        const args = ["analyze", file, "--format", format, "--threads", threads];
        const compiled = await runCli(args);
        const js = await runCli(args, { env: { SYNSENT_TRACKER: "js" } });
        expect(compiled.code).toBe(js.code);
        expect(compiled.stdout.length).toBeGreaterThan(100);
        expect(compiled.stdout).toBe(js.stdout);
      }
    }
  }, 120_000);
});
