/**
 * Kernel drops reach the report: a burst replayed with tcpreplay --topspeed
 * onto a veth in namespaces made here, captured by `synsent capture` with a
 * tiny kernel buffer. The frames carry only this test's own addresses and a
 * destination MAC nobody has, so the receiving kernel discards them after the
 * capture point.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../helpers/cli.js";
import { PcapWriter } from "../../src/sources/pcap-writer.js";
import { liveSkipReason, makeTopology, rmrf, sh, start, waitForStderr, type Proc, type Topology } from "./helpers.js";

const skip = liveSkipReason(["tcpreplay"]) ?? (fs.existsSync(CLI) ? null : `${CLI} missing: npm run build first`);
if (skip) console.warn(`test/live/drops: skipped: ${skip}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-drops-"));

/** `n` SYNs from `src` to `dst` (distinct source ports), Ethernet to a MAC nobody owns. */
export function writeSynBurst(file: string, n: number, src: string, dst: string): void {
  const w = PcapWriter.create(file, { linkType: 1, snapLen: 65535 });
  const pkt = new Uint8Array(14 + 20 + 20);
  const dv = new DataView(pkt.buffer);
  pkt.set([0x02, 0, 0, 0, 0x79, 0x01], 0); // locally administered, unused
  pkt.set([0x02, 0, 0, 0, 0x79, 0x02], 6);
  dv.setUint16(12, 0x0800);
  const s = src.split(".").map(Number);
  const d = dst.split(".").map(Number);
  for (let i = 0; i < n; i++) {
    const ip = 14;
    pkt[ip] = 0x45;
    pkt[ip + 1] = 0;
    dv.setUint16(ip + 2, 40);
    dv.setUint16(ip + 4, i & 0xffff);
    dv.setUint16(ip + 6, 0x4000);
    pkt[ip + 8] = 64;
    pkt[ip + 9] = 6;
    dv.setUint16(ip + 10, 0);
    pkt.set(s, ip + 12);
    pkt.set(d, ip + 16);
    let sum = 0;
    for (let k = 0; k < 20; k += 2) sum += dv.getUint16(ip + k);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    dv.setUint16(ip + 10, ~sum & 0xffff);
    const tcp = 34;
    dv.setUint16(tcp, 10000 + (i % 50000));
    dv.setUint16(tcp + 2, 9000);
    dv.setUint32(tcp + 4, i * 7919);
    dv.setUint32(tcp + 8, 0);
    pkt[tcp + 12] = 0x50;
    pkt[tcp + 13] = 0x02;
    dv.setUint16(tcp + 14, 64240);
    w.write(pkt, 0, pkt.length, pkt.length, 1_700_000_000 + Math.floor(i / 1000), (i % 1000) * 1000);
  }
  w.close();
}

describe.skipIf(skip !== null)("kernel drops", () => {
  let t: Topology;
  const procs: Proc[] = [];
  beforeAll(() => {
    t = makeTopology("b", 12);
  });
  afterAll(() => {
    for (const p of procs) p.child.kill("SIGKILL");
    t?.cleanup();
    rmrf(tmp);
  });

  it("reports what the kernel dropped with a tiny buffer under a burst", async () => {
    const burst = path.join(tmp, "burst.pcap");
    const N = 100_000;
    writeSynBurst(burst, N, t.c4, t.s4);
    const out = path.join(tmp, "report.json");
    const live = start(
      "ip",
      ["netns", "exec", t.server, process.execPath, CLI, "capture", t.sIf, "tcp", "--buffer-size", "1", "--format", "json", "-o", out, "--duration", "20"],
      25_000,
    );
    procs.push(live);
    await waitForStderr(live.child, /capturing on/, 5000);
    sh(`ip netns exec ${t.client} tcpreplay -q --topspeed -i ${t.cIf} ${burst}`, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    live.child.kill("SIGINT");
    expect(await live.done).toBe(130);
    const rep = JSON.parse(fs.readFileSync(out, "utf8"));
    const k = rep.source.kernel;
    expect(k).not.toBeNull();
    expect(k.dropped).toBeGreaterThan(0);
    // Every packet that passed the filter was either analysed or dropped.
    expect(rep.source.packets + k.dropped).toBe(k.received);
    expect(rep.source.packets).toBeLessThan(N);
    expect(live.stderr()).toMatch(new RegExp(`${rep.source.packets} packets captured, ${k.received} received by filter, ${k.dropped} dropped by kernel`));
  }, 30_000);
});
