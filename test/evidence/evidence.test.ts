import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePacket } from "../../src/decode/decode.js";
import { Kind, PacketView } from "../../src/decode/packet.js";
import type { Connection } from "../../src/flows/connection.js";
import { openCapture } from "../../src/sources/open.js";
import { Anonymizer, formatIpv4, formatIpv6 } from "../../src/report/anonymize.js";
import { ConnectionSelector, writeEvidence } from "../../src/report/evidence.js";
import { conn } from "../report-html/fixtures.js";
import { addrBytes, MAC_CLIENT, MAC_ROUTER, pcapFile, scenario, T, tcp } from "./build.js";

const haveTshark = spawnSync("tshark", ["-v"]).status === 0;
const haveTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
if (!haveTshark) console.warn("evidence tests: tshark not installed, the tshark cross-checks are skipped");

function connection(id: number, client: string, cport: number, server: string, sport: number, first: number, last: number, v6 = false): Connection {
  const c = conn({ id, client, cport, server, sport, outcome: "refused", t: 0, v6 });
  c.firstTs = first;
  c.lastTs = last;
  return c;
}

let dir: string;
let input: string;
let rawInput: string;

const PROBLEMS = (): Connection[] => [
  connection(0, "10.1.1.1", 40000, "10.2.2.2", 5432, T + 1.0, T + 1.0004),
  // lastTs is the SYN: the ICMP error comes after it and is matched by the grace period.
  connection(2, "2001:db8::1", 40002, "2001:db8:2::2", 443, T + 3.0, T + 3.0, true),
  connection(3, "10.1.1.1", 40003, "10.2.2.4", 22, T + 4.0, T + 4.0),
];

const ORIGINAL_ADDRS = ["10.1.1.1", "10.2.2.2", "10.2.2.4", "10.9.9.9", "2001:db8::1", "2001:db8:2::2", "2001:db8:ff::1"];

function tshark(args: string[]): string {
  return execFileSync("tshark", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

async function decodeAll(file: string): Promise<{ kind: number; v: number; src: string; dst: string; sport: number; dport: number; inner: string | null; ts: number }[]> {
  const src = await openCapture([file]);
  const view = new PacketView();
  const out = [];
  const fmt = (w: Uint32Array, ver: number) => (ver === 6 ? formatIpv6(w) : formatIpv4(w[0]!));
  try {
    for (let b = await src.next(); b; b = await src.next()) {
      for (let i = 0; i < b.count; i++) {
        const k = decodePacket(view, b.data, b.offset[i]!, b.capLen[i]!, b.origLen[i]!, b.linkType[i]!, b.fcsLen[i]!);
        out.push({
          kind: k,
          v: view.ipVersion,
          src: fmt(view.src, view.ipVersion),
          dst: fmt(view.dst, view.ipVersion),
          sport: view.srcPort,
          dport: view.dstPort,
          inner:
            k === Kind.ICMP_UNREACH && view.innerHasPorts
              ? `${fmt(view.innerSrc, view.innerIpVersion)}:${view.innerSrcPort}>${fmt(view.innerDst, view.innerIpVersion)}:${view.innerDstPort}`
              : null,
          ts: b.tsSec[i]! + b.tsNsec[i]! / 1e9,
        });
      }
    }
  } finally {
    await src.close();
  }
  return out;
}

async function rawRecords(file: string): Promise<Uint8Array[]> {
  const src = await openCapture([file]);
  const out: Uint8Array[] = [];
  try {
    for (let b = await src.next(); b; b = await src.next()) {
      for (let i = 0; i < b.count; i++) out.push(new Uint8Array(b.data.subarray(b.offset[i]!, b.offset[i]! + b.capLen[i]!)));
    }
  } finally {
    await src.close();
  }
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "synsent-evidence-"));
  input = join(dir, "scenario.pcap");
  writeFileSync(input, pcapFile(1, scenario()));
  // The same SYN of A as raw IP (LINKTYPE_RAW), to mix link types.
  rawInput = join(dir, "raw.pcap");
  writeFileSync(rawInput, pcapFile(101, [{ ts: T + 1.5, data: tcp({ src: "10.1.1.1", sport: 40009, dst: "10.2.2.2", dport: 5432, flags: "SYN", seq: 1 }) }]));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("evidence selection and writing", () => {
  it("the hand-built scenario is itself valid (tshark sees good checksums)", () => {
    if (!haveTshark) return;
    const v = tshark(["-r", input, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-V"]);
    expect(v).not.toMatch(/\[?Bad\]?|incorrect/i);
    expect(v).toContain("GET /secret-path");
  });

  it("writes exactly the problem connections' packets, with ICMP errors, not the reused ports' later connection", async () => {
    const out = join(dir, "evidence.pcap");
    const r = await writeEvidence({ inputs: [input], out, select: new ConnectionSelector(PROBLEMS()) });
    expect(r).toEqual({ packets: 6, format: "pcap", linkTypes: [1] });
    const pk = await decodeAll(out);
    expect(pk.map((p) => +(p.ts - T).toFixed(4))).toEqual([1.0, 1.0004, 3.0, 3.002, 4.0, 4.001]);
    expect(pk.filter((p) => p.kind === Kind.ICMP_UNREACH).map((p) => p.inner)).toEqual([
      "2001:db8::1:40002>2001:db8:2::2:443",
      "10.1.1.1:40003>10.2.2.4:22",
    ]);
    // Bytes are the original ones.
    const orig = readFileSync(input);
    const ev = readFileSync(out);
    expect(orig.includes(ev.subarray(24 + 16, 24 + 16 + 58))).toBe(true);
    if (haveTshark) {
      const lines = tshark(["-r", out]).trim().split("\n");
      expect(lines).toHaveLength(6);
    }
  });

  it("writes pcapng with one interface per link type when the inputs mix link types", async () => {
    const out = join(dir, "mixed.pcap");
    const sel = new ConnectionSelector([...PROBLEMS(), connection(9, "10.1.1.1", 40009, "10.2.2.2", 5432, T + 1.5, T + 1.5)]);
    const r = await writeEvidence({ inputs: [input, rawInput], out, select: sel });
    expect(r.format).toBe("pcapng");
    expect(r.packets).toBe(7);
    expect(new Set(r.linkTypes)).toEqual(new Set([1, 101]));
    const pk = await decodeAll(out);
    expect(pk).toHaveLength(7);
    expect(pk.map((p) => +(p.ts - T).toFixed(4))).toEqual([1.0, 1.0004, 1.5, 3.0, 3.002, 4.0, 4.001]);
    if (haveTshark) {
      expect(tshark(["-r", out]).trim().split("\n")).toHaveLength(7);
      expect(tshark(["-r", out, "-T", "fields", "-e", "frame.interface_id"]).trim().split("\n")).toEqual(["0", "0", "1", "0", "0", "0", "0"]);
    }
  });

  it("anonymized evidence: no original address, MAC or payload; checksums valid; same structure", async () => {
    const out = join(dir, "anon.pcap");
    const an = new Anonymizer("evidence test key");
    // Include the healthy connection with payload too, to check that payload is removed.
    const sel = new ConnectionSelector([...PROBLEMS(), connection(1, "10.1.1.1", 40001, "10.2.2.3", 80, T + 2.0, T + 2.003)]);
    const r = await writeEvidence({ inputs: [input], out, select: sel, anonymizer: an });
    if (process.env.SYNSENT_KEEP_EVIDENCE) writeFileSync(process.env.SYNSENT_KEEP_EVIDENCE, readFileSync(out));
    expect(r.packets).toBe(10);
    const bytes = readFileSync(out);
    for (const ip of [...ORIGINAL_ADDRS, "10.2.2.3"]) {
      expect(bytes.includes(Buffer.from(addrBytes(ip))), ip).toBe(false);
    }
    expect(bytes.includes(Buffer.from(MAC_CLIENT))).toBe(false);
    expect(bytes.includes(Buffer.from(MAC_ROUTER))).toBe(false);
    expect(bytes.includes(Buffer.from("secret-path"))).toBe(false);

    // Same structure, addresses mapped consistently (also inside ICMP quotes).
    const before = (await decodeAll(input)).filter((p) => p.ts < T + 10);
    const after = await decodeAll(out);
    expect(after).toHaveLength(before.length);
    const mapEp = (s: string) => s.replace(/^(.*):(\d+)$/, (_m, ip: string, port: string) => `${an.ipText(ip)}:${port}`);
    after.forEach((p, i) => {
      const o = before[i]!;
      expect(p.kind).toBe(o.kind);
      expect(p.src).toBe(an.ipText(o.src));
      expect(p.dst).toBe(an.ipText(o.dst));
      expect([p.sport, p.dport]).toEqual([o.sport, o.dport]);
      if (o.inner) expect(p.inner).toBe(o.inner.split(">").map(mapEp).join(">"));
    });

    // Checksums that tshark cannot verify (payload gone, quoted header) are still the documented values.
    const recs = await rawRecords(out);
    // Frame 6: PSH,ACK whose 29 payload bytes were removed: checksum = same segment with zero payload.
    const zeroed = tcp({ src: an.ipText("10.1.1.1"), sport: 40001, dst: an.ipText("10.2.2.3"), dport: 80, flags: "PSH,ACK", seq: 5001, ack: 9001, payload: "\0".repeat(29) });
    expect(recs[5]!.subarray(14 + 20 + 16, 14 + 20 + 18)).toEqual(zeroed.subarray(20 + 16, 20 + 18));
    expect(recs[5]!.length).toBe(14 + 20 + 20);
    // Frame 10: the TCP header quoted in the ICMP error keeps a checksum that is right for the new addresses.
    const synE = tcp({ src: an.ipText("10.1.1.1"), sport: 40003, dst: an.ipText("10.2.2.4"), dport: 22, flags: "SYN", seq: 3 });
    const q = 14 + 20 + 8 + 20;
    expect(recs[9]!.subarray(q + 16, q + 18)).toEqual(synE.subarray(20 + 16, 20 + 18));
    expect(recs[9]!.length).toBe(q + 20);

    if (haveTshark) {
      const text = tshark([
        "-r", out, "-V",
        "-o", "ip.check_checksum:TRUE",
        "-o", "tcp.check_checksum:TRUE",
      ]);
      for (const ip of [...ORIGINAL_ADDRS, "10.2.2.3"]) expect(text).not.toContain(ip + " ");
      expect(text).not.toMatch(/\[Bad\]|incorrect|Bad checksum/i);
      // Segments without payload (SYN, RST, ACK) verify as good; ICMPv6 too.
      const tcpGood = text.match(/\[Checksum Status: Good\]/g) ?? [];
      expect(tcpGood.length).toBeGreaterThanOrEqual(6);
      const summary = tshark(["-r", out, "-T", "fields", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport"]);
      expect(summary).toContain(an.ipText("10.1.1.1"));
      expect(summary).toContain(an.ipText("2001:db8::1"));
    }
  });

  it("says in one line when the evidence file cannot be written", async () => {
    const out = join(dir, "no-such-dir", "e.pcap");
    await expect(writeEvidence({ inputs: [input], out, select: new ConnectionSelector(PROBLEMS()) })).rejects.toThrow(
      /^.*no-such-dir\/e\.pcap: cannot write the evidence file \(ENOENT/,
    );
  });

  it.skipIf(!haveTcpdump || !haveTshark)("works on a real loopback capture made with tcpdump (a refused connection)", async () => {
    // A port with nothing listening: bind one, remember it, close it.
    const port = await new Promise<number>((res) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const file = join(dir, "lo.pcap");
    const td = spawn("tcpdump", ["-i", "lo", "--immediate-mode", "-U", "-n", "-w", file, `tcp port ${port}`], { stdio: ["ignore", "ignore", "pipe"] });
    try {
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error("tcpdump did not start")), 10_000);
        td.stderr!.on("data", (d: Buffer) => {
          if (d.toString().includes("listening on")) {
            clearTimeout(timer);
            res();
          }
        });
        td.on("exit", () => rej(new Error("tcpdump exited")));
      });
      for (let i = 0; i < 2; i++) {
        await new Promise<void>((res) => {
          const c = connect(port, "127.0.0.1");
          c.on("error", () => res());
          c.on("connect", () => {
            c.destroy();
            res();
          });
        });
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      td.kill("SIGINT");
      await new Promise((r) => td.once("exit", r));
    }
    const pk = await decodeAll(file);
    expect(pk.length).toBeGreaterThanOrEqual(4);
    // Select only the first attempt (SYN + RST).
    const syn = pk[0]!;
    const c = connection(0, syn.src, syn.sport, syn.dst, syn.dport, syn.ts, pk[1]!.ts);
    const out = join(dir, "lo-evidence.pcap");
    const r = await writeEvidence({ inputs: [file], out, select: new ConnectionSelector([c]) });
    expect(r.packets).toBe(2);
    expect(tshark(["-r", out]).trim().split("\n")).toHaveLength(2);
    const outA = join(dir, "lo-evidence-anon.pcap");
    const an = new Anonymizer(null);
    const ra = await writeEvidence({ inputs: [file], out: outA, select: new ConnectionSelector([c]), anonymizer: an });
    expect(ra.packets).toBe(2);
    const text = tshark(["-r", outA, "-V", "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"]);
    expect(text).not.toContain("127.0.0.1");
    expect(text).toContain(an.ipText("127.0.0.1"));
    expect(text).not.toMatch(/\[Bad\]|incorrect/i);
  });
});
