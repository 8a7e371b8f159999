/**
 * The flow tracker's compact tier (SYN-only flows in typed arrays) must give
 * exactly the verdicts of the object path: every capture analysed with the
 * tier always on (compactAbove 0) and off must produce the same connections.
 */
import { describe, expect, test } from "vitest";
import * as fs from "node:fs";
import { analyze } from "../../src/analyze.js";
import { connectionJsonText } from "../../src/report/json.js";
import { Harness } from "./helpers.js";

const captures = fs
  .readdirSync("captures")
  .filter((f) => /\.(pcap|pcapng)$/.test(f))
  .map((f) => `captures/${f}`);

function byId(r: Awaited<ReturnType<typeof analyze>>): string[] {
  return [...r.connections].sort((a, b) => a.id - b.id).map(connectionJsonText);
}

describe("compact tier", () => {
  test.each(captures)("%s: same connections and report with the compact tier always on", async (file) => {
    const off = await analyze(file, { compactAbove: 1e9, ladderFor: "all" });
    const on = await analyze(file, { compactAbove: 0, ladderFor: "all" });
    expect(off.connections.length).toBeGreaterThan(0);
    expect(byId(on)).toEqual(byId(off));
    expect(on.destinations).toEqual(off.destinations);
    expect(on.findings).toEqual(off.findings);
    expect(on.source.duplicates).toBe(off.source.duplicates);
  });

  test("a flood larger than the table: evictions counted, every attempt reported once, same as the object path", async () => {
    const run = (compactAbove: number) => {
      const h = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { maxFlows: 100, compactAbove });
      for (let i = 0; i < 1000; i++) {
        h.seg({ from: "c", flags: "SYN", seq: 1000 + i, t: i * 0.001 }, { cport: 1024 + i });
        if (i % 10 === 0) h.seg({ from: "c", flags: "SYN", seq: 1000 + i, t: i * 0.001 + 0.5 }, { cport: 1024 + i });
        if (i % 7 === 0) h.seg({ from: "s", flags: "SYN,ACK", seq: 9, ack: 1001 + i, t: i * 0.001 + 0.0005 }, { cport: 1024 + i });
      }
      const conns = h.finish();
      return { conns: [...conns].sort((a, b) => a.id - b.id), stats: { ...h.tracker.stats } };
    };
    const off = run(1e9);
    const on = run(0);
    expect(on.stats.evicted).toBeGreaterThan(0);
    expect(on.stats).toEqual(off.stats);
    expect(on.conns.map(connectionJsonText)).toEqual(off.conns.map(connectionJsonText));
    const ids = new Set(on.conns.map((c) => c.id));
    expect(ids.size).toBe(on.conns.length);
  });
});
