import { describe, expect, test } from "vitest";
import { connectionJson, connectionJsonText, JsonReportWriter, summaryJson } from "../../src/report/json.js";
import { NdjsonReportWriter } from "../../src/report/ndjson.js";
import { analyze } from "../../src/analyze.js";
import { troubleReport, healthyLiveReport } from "./fixtures.js";
import type { Connection } from "../../src/flows/connection.js";

describe("connectionJsonText (the fast serializer)", () => {
  test("is byte-identical to JSON.stringify(connectionJson(c)) on the fixtures", () => {
    const cs = [...troubleReport().connections, ...healthyLiveReport().connections];
    expect(cs.length).toBeGreaterThan(5);
    for (const c of cs) expect(connectionJsonText(c)).toBe(JSON.stringify(connectionJson(c)));
  });

  test("escapes odd strings and writes non-finite numbers as null like JSON.stringify", () => {
    const base = troubleReport().connections.find((c) => c.rst !== null)!;
    const c: Connection = {
      ...base,
      firstTs: NaN,
      lastTs: -0,
      rst: { ...base.rst!, forgedReason: 'TTL "64"\\ \n\u0001 ü \ud800' },
      client: { ip: "fe80::1%eth0\t", port: 1 },
    };
    expect(connectionJsonText(c)).toBe(JSON.stringify(connectionJson(c)));
  });

  test("writes integers at every digit-count boundary like JSON.stringify", () => {
    // uintDigits counts digits from the bit length: check each power of 10
    // and of 2 (and their neighbours) up to 2^31 - 1, and larger integers.
    const ints: number[] = [0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1];
    for (let p = 1; p <= 1e10; p *= 10) ints.push(p - 1, p, p + 1);
    for (let b = 1; b <= 31; b++) ints.push(2 ** b - 1, 2 ** b, 2 ** b + 1);
    const base = troubleReport().connections[0]!;
    const c: Connection = { ...base, frames: ints, duplicates: 2 ** 30, firstTs: 1704067200.5, lastTs: 9999999999.000001 };
    expect(connectionJsonText(c)).toBe(JSON.stringify(connectionJson(c)));
  });

  test("is byte-identical on every connection of a real capture (ladders for all)", async () => {
    const r = await analyze("captures/busy.pcap", { ladderFor: "all" });
    expect(r.connections.length).toBeGreaterThan(10);
    for (const c of r.connections) expect(connectionJsonText(c)).toBe(JSON.stringify(connectionJson(c)));
  });

  test("the streamed report's end and NDJSON summary (destinations one by one) equal JSON.stringify of the whole", async () => {
    const real = await analyze("captures/mixed.pcapng");
    const d0 = real.destinations[0]!;
    // a scan's worth of destinations, past the 64 KB pieces the end is written in
    const many = Array.from({ length: 3000 }, (_, i) => ({ ...d0, server: { ip: `198.18.${i >> 8}.${i & 255}`, port: 1 + i }, summary: `${d0.summary} #${i}` }));
    for (const r of [real, { ...real, destinations: many }, { ...real, destinations: [] }]) {
      for (const streamed of [true, false]) {
        let out = "";
        const w = new JsonReportWriter((t) => (out += t), { batch: true });
        if (streamed) for (const c of r.connections) w.connection(c);
        w.end(r);
        expect(out).toBe(JSON.stringify({ connections: r.connections.map(connectionJson), ...summaryJson(r) }) + "\n");
        const lines: string[] = [];
        const n = new NdjsonReportWriter((t) => lines.push(t));
        if (streamed) for (const c of r.connections) n.connection(c);
        n.end(r);
        const summary = lines.slice(r.connections.length).join("");
        expect(summary).toBe(JSON.stringify({ type: "summary", ...summaryJson(r) }) + "\n");
      }
    }
  });

  test("NDJSON connection lines equal the generic form", () => {
    const lines: string[] = [];
    const w = new NdjsonReportWriter((l) => lines.push(l));
    const cs = troubleReport().connections;
    for (const c of cs) w.connection(c);
    cs.forEach((c, i) => expect(lines[i]).toBe(JSON.stringify({ type: "connection", ...connectionJson(c) }) + "\n"));
  });
});

import { ConnectionDecoder, ConnectionEncoder } from "../../src/report/json.js";

describe("ConnectionEncoder / ConnectionDecoder (connections across threads)", () => {
  test("round-trips every connection exactly, across batches and a string-table restart", async () => {
    const r = await analyze("captures/busy.pcap", { ladderFor: "all" });
    const base = [...r.connections, ...troubleReport().connections, ...healthyLiveReport().connections];
    // Enough distinct addresses to restart the string table (65 536 entries).
    const many: Connection[] = [];
    for (let i = 0; i < 70_000; i++) {
      const c = base[i % base.length]!;
      many.push({ ...c, id: i, client: { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: c.client.port } });
    }
    const enc = new ConnectionEncoder(64);
    const dec = new ConnectionDecoder(false);
    // the writer thread's way: one reused object, cloned by whoever keeps it
    const decReused = new ConnectionDecoder();
    const reusedText: string[] = [];
    const out: Connection[] = [];
    let resets = 0;
    for (let i = 0; i < many.length; i++) {
      enc.add(many[i]!);
      if (enc.size > 5000 || i === many.length - 1) {
        const b = enc.take();
        if (b.resetStrings) resets++;
        // what postMessage would do: a structured clone
        const copy = structuredClone(b);
        dec.decode(copy, (c) => out.push(c));
        decReused.decode(copy, (c) => reusedText.push(connectionJsonText(c)));
      }
    }
    expect(resets).toBeGreaterThan(0);
    expect(out.length).toBe(many.length);
    for (let i = 0; i < many.length; i += 997) expect(out[i]).toEqual(many[i]);
    expect(out.map(connectionJsonText).join("\n")).toBe(many.map(connectionJsonText).join("\n"));
    expect(reusedText.join("\n")).toBe(many.map(connectionJsonText).join("\n"));
  });
});
