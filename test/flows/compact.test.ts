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
  // (each tracker: the compiled one, the default, and the JavaScript one)
  test.each(captures.flatMap((f) => [[f, "auto"], [f, "js"]] as const))("%s (%s tracker): same connections and report with the compact tier always on", async (file, tracker) => {
    const off = await analyze(file, { compactAbove: 1e9, ladderFor: "all", tracker });
    const on = await analyze(file, { compactAbove: 0, ladderFor: "all", tracker });
    expect(off.connections.length).toBeGreaterThan(0);
    expect(byId(on)).toEqual(byId(off));
    expect(on.destinations).toEqual(off.destinations);
    expect(on.findings).toEqual(off.findings);
    expect(on.source.duplicates).toBe(off.source.duplicates);
  });

  test("clients that retry many times (copies among the retries, answers after any of them): same as the object path", () => {
    const run = (compactAbove: number) => {
      const h = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { compactAbove });
      let seed = 7;
      const rnd = (n: number) => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      // every client's SYNs (backing off 1, 2, 4 ... 16 s), fed in time order
      const events: { t: number; seg: Parameters<Harness["seg"]>[0]; cport: number }[] = [];
      for (let i = 0; i < 300; i++) {
        const cport = 2000 + i;
        const syns = 1 + rnd(11); // 1..11 SYNs: past the compact tier's 8 too
        let t = i * 0.37;
        let gap = 1;
        for (let k = 0; k < syns; k++) {
          const ipId = 100 + i * 20 + k;
          const tsVal = rnd(3) === 0 ? undefined : 5000 + k;
          events.push({ t, seg: { from: "c", flags: "SYN", seq: 1000 + i, t, ipId, tsVal }, cport });
          // the same packet captured twice (SPAN, -i any), now and then
          if (rnd(5) === 0) events.push({ t: t + 0.002, seg: { from: "c", flags: "SYN", seq: 1000 + i, t: t + 0.002, ipId, tsVal }, cport });
          // a second SYN right away, then a late copy of the first (matches the one before the last)
          if (rnd(6) === 0) {
            events.push({ t: t + 0.003, seg: { from: "c", flags: "SYN", seq: 1000 + i, t: t + 0.003, ipId: ipId + 7, tsVal }, cport });
            events.push({ t: t + 0.005, seg: { from: "c", flags: "SYN", seq: 1000 + i, t: t + 0.005, ipId, tsVal }, cport });
          }
          t += gap;
          // backing off, up to 16 s (below the 30 s the table waits past a SYN's
          // due time, so no client is cut in two; where that line falls depends
          // on which tier's list a flow waits in)
          gap = Math.min(gap * 2, 16);
        }
        const ta = t - gap / 2 + 0.001; // after the last SYN
        const end = rnd(5);
        if (end === 0) events.push({ t: ta, seg: { from: "s", flags: "SYN,ACK", seq: 9, ack: 1001 + i, t: ta }, cport });
        else if (end === 1) events.push({ t: ta, seg: { from: "s", flags: "RST,ACK", seq: 0, ack: 1001 + i, t: ta }, cport });
        else if (end === 2) events.push({ t: ta, seg: { from: "c", flags: "RST", seq: 1001 + i, t: ta }, cport });
      }
      events.sort((a, b) => a.t - b.t);
      const emitted: number[] = [];
      for (const e of events) {
        h.seg(e.seg, { cport: e.cport });
        emitted.push(h.conns.length);
      }
      const conns = h.finish();
      return { order: conns.map((c) => c.id), json: [...conns].sort((a, b) => a.id - b.id).map(connectionJsonText), emitted, stats: { ...h.tracker.stats } };
    };
    const off = run(1e9);
    const on = run(0);
    expect(on.json.length).toBe(300);
    expect(on.json.some((j) => j.includes('"syn":11'))).toBe(true);
    expect(on.stats.duplicates).toBeGreaterThan(10);
    // The same connections, each reported once. (When each leaves the table
    // may differ: each tier's waiting list is checked from its head, the
    // oldest SYN, whose due time can be later than the next one's.)
    expect(on.json).toEqual(off.json);
    expect([...on.order].sort((a, b) => a - b)).toEqual([...off.order].sort((a, b) => a - b));
    expect(on.emitted.at(-1)).toBe(off.emitted.at(-1));
    expect(on.stats.duplicates).toBe(off.stats.duplicates);
    expect(on.stats.evicted).toBe(off.stats.evicted);
  });

  test("refused and aborted attempts stay compact while they linger; what comes after the RST: same as the object path", () => {
    const run = (compactAbove: number) => {
      const h = new Harness("10.0.0.1", 40000, "10.0.0.5", 80, { compactAbove });
      const after = [
        () => undefined, // nothing more
        (p: number, t: number) => h.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: 1001, t: t + 0.001, ipId: 77 }, { cport: p }), // a copy
        (p: number, t: number) => h.seg({ from: "c", flags: "SYN", seq: 1000, t: t + 1 }, { cport: p }), // the client did not see it
        (p: number, t: number) => h.seg({ from: "c", flags: "SYN", seq: 5000, t: t + 0.5 }, { cport: p }), // a new attempt, same port
        (p: number, t: number) => h.seg({ from: "s", flags: "SYN,ACK", seq: 9, ack: 1001, t: t + 0.01 }, { cport: p }), // a late answer
        (p: number, t: number) => h.seg({ from: "c", flags: "ACK", seq: 1001, ack: 10, t: t + 0.02 }, { cport: p }),
      ];
      for (let i = 0; i < 120; i++) {
        const p = 5000 + i;
        const t = i * 0.9; // lingers overlap, some end before the next
        h.seg({ from: "c", flags: "SYN", seq: 1000, t }, { cport: p });
        if (i % 4 === 0) h.seg({ from: "c", flags: "SYN", seq: 1000, t: t + 0.2 }, { cport: p });
        const tr = t + 0.3;
        if (i % 3 === 2) h.seg({ from: "c", flags: "RST", seq: 1001, t: tr }, { cport: p });
        else h.seg({ from: "s", flags: "RST,ACK", seq: 0, ack: 1001, t: tr, ipId: 77 }, { cport: p });
        after[i % after.length]!(p, tr);
      }
      const conns = h.finish();
      return { json: [...conns].sort((a, b) => a.id - b.id).map(connectionJsonText), stats: { ...h.tracker.stats } };
    };
    const off = run(1e9);
    const on = run(0);
    expect(on.json.length).toBeGreaterThan(120);
    expect(on.json.filter((j) => j.includes('"outcome":"refused"')).length).toBeGreaterThan(50);
    expect(on.json.filter((j) => j.includes('"outcome":"aborted-by-client"')).length).toBeGreaterThan(20);
    expect(on.json).toEqual(off.json);
    expect(on.stats.duplicates).toBe(off.stats.duplicates);
    expect(on.stats.duplicates).toBeGreaterThan(0);
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
