import { describe, expect, test } from "vitest";
import { JsonReportWriter, renderJson } from "../../src/report/json.js";
import type { Report } from "../../src/report/model.js";
import { expectGolden } from "./golden.js";
import { emptyReport, healthyLiveReport, troubleReport } from "./fixtures.js";
import { CONNECTION_SHAPE, REPORT_KEYS, REPORT_SHAPE, expectShape } from "./schema.js";

/** Stream a report the way the CLI does: connections one by one, then end(). */
function stream(report: Report, pretty = false): { chunks: string[]; text: string } {
  const chunks: string[] = [];
  const w = new JsonReportWriter((s) => chunks.push(s), { pretty });
  for (const c of report.connections) w.connection(c);
  w.end({ ...report, connections: [] });
  return { chunks, text: chunks.join("") };
}

describe("JSON contract", () => {
  test("every field name and type of the document is pinned", () => {
    const doc = JSON.parse(renderJson(troubleReport()));
    expectShape(doc, REPORT_SHAPE);
    expect(Object.keys(doc)).toEqual([...REPORT_KEYS]);
    expect(Object.keys(doc.connections[0])).toEqual(Object.keys(CONNECTION_SHAPE));
  });

  test("the fixtures exercise both branches of every nullable field", () => {
    const doc = JSON.parse(renderJson(troubleReport()));
    const cs = doc.connections as Record<string, unknown>[];
    for (const k of ["rst", "icmp", "handshakeRttMs", "synOptions"]) {
      expect(cs.some((c) => c[k] === null), `${k} null somewhere`).toBe(true);
      expect(cs.some((c) => c[k] !== null), `${k} set somewhere`).toBe(true);
    }
    expect(doc.findings.some((f: { server: unknown }) => f.server === null)).toBe(true);
    expect(doc.source.stopped.length).toBe(1);
    const live = JSON.parse(renderJson(healthyLiveReport()));
    expectShape(live, REPORT_SHAPE);
    expect(live.source.kernel).toEqual({ received: 5012, dropped: 12, ifDropped: 0 });
    expectShape(JSON.parse(renderJson(emptyReport())), REPORT_SHAPE);
  });

  test("the contract fields hold the values of the connection", () => {
    const r = troubleReport();
    const doc = JSON.parse(renderJson(r));
    const unanswered = doc.connections.find((c: { id: number }) => c.id === 1);
    expect(unanswered.client).toEqual({ ip: "10.0.0.1", port: 51514 });
    expect(unanswered.server).toEqual({ ip: "10.0.0.5", port: 8080 });
    expect(unanswered.outcome).toBe("unanswered");
    expect(unanswered.zeekState).toBe("S0");
    expect(unanswered.syn).toBe(4);
    expect(unanswered.retransmissions).toEqual({ data: 0, syn: 3, synAck: 0 });
    expect(unanswered.rst).toBeNull();
    expect(unanswered.icmp).toBeNull();
    expect(unanswered.handshakeRttMs).toBeNull();
    expect(unanswered.frames).toEqual(r.connections[1]!.frames);
    // Timestamps: epoch seconds as numbers, µs kept.
    expect(unanswered.firstTs).toBe(r.connections[1]!.firstTs);
    expect(typeof unanswered.lastTs).toBe("number");

    const icmp = doc.connections.find((c: { id: number }) => c.id === 16);
    expect(icmp.icmp).toMatchObject({ type: 3, code: 13, from: "192.0.2.254" });
    const forged = doc.connections.find((c: { id: number }) => c.id === 19);
    expect(forged.rst).toMatchObject({ from: "server", ttl: 64, suspectedForged: true });
    expect(forged.handshakeRttMs).toEqual({ synToSynAck: 23.4, synAckToAck: 0.05, total: 23.45 });

    const dest = doc.destinations.find((d: { server: { port: number } }) => d.server.port === 8080);
    expect(dest.outcomes.unanswered).toBe(12);
    expect(dest.outcomes.refused).toBe(0);
    expect(dest.diagnosis).toBe("silent-drop");
    expect(doc.flowTable).toEqual({ maxFlows: 20, peak: 20, evicted: 4 });
    expect(doc.tool).toEqual({ name: "synsent", version: "0.1.0" });
  });
});

describe("JsonReportWriter streaming", () => {
  test("each connection is written when it arrives, before end()", () => {
    const chunks: string[] = [];
    const w = new JsonReportWriter((s) => chunks.push(s));
    const r = troubleReport();
    w.connection(r.connections[0]!);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.startsWith('{"connections":[{"id":0,')).toBe(true);
    w.connection(r.connections[1]!);
    expect(chunks).toHaveLength(2);
    expect(chunks[1]!.startsWith(',{"id":1,')).toBe(true);
    w.end({ ...r, connections: [] });
    const doc = JSON.parse(chunks.join(""));
    expect(doc.connections.map((c: { id: number }) => c.id)).toEqual([0, 1]);
    expect(() => w.connection(r.connections[2]!)).toThrow(/after end/);
  });

  test("streamed and library (from report.connections) output are identical", () => {
    const r = troubleReport();
    expect(stream(r).text).toBe(renderJson(r));
    expect(stream(r, true).text).toBe(renderJson(r, { pretty: true }));
  });

  test("report.connections is not written again when connections were streamed", () => {
    const r = troubleReport();
    const chunks: string[] = [];
    const w = new JsonReportWriter((s) => chunks.push(s));
    w.connection(r.connections[5]!);
    w.end(r); // r.connections is full: must not be duplicated
    expect(JSON.parse(chunks.join("")).connections).toHaveLength(1);
  });

  test("no connections at all gives an empty array", () => {
    const doc = JSON.parse(renderJson(emptyReport()));
    expect(doc.connections).toEqual([]);
    const pretty = JSON.parse(renderJson(emptyReport(), { pretty: true }));
    expect(pretty).toEqual(doc);
  });

  test("pretty output parses to the same document", () => {
    const r = troubleReport();
    const compact = renderJson(r);
    const pretty = renderJson(r, { pretty: true });
    expect(JSON.parse(pretty)).toEqual(JSON.parse(compact));
    expect(pretty.split("\n").length).toBeGreaterThan(100);
    expect(compact.trimEnd().includes("\n")).toBe(false);
    expect(compact.endsWith("}\n")).toBe(true);
  });

  test("strings from packets and file names are escaped, never break the document", () => {
    const r = troubleReport();
    r.source.files.push('evil"\n\u0000\u2028name.pcap');
    r.findings[0]!.title = 'quote " backslash \\ and </script>';
    const doc = JSON.parse(renderJson(r));
    expect(doc.source.files[2]).toBe('evil"\n\u0000\u2028name.pcap');
    expect(doc.findings[0].title).toBe('quote " backslash \\ and </script>');
  });

  test("non-finite numbers become null rather than invalid JSON", () => {
    const r = troubleReport();
    r.connections[0]!.handshakeRttMs = { synToSynAck: NaN, synAckToAck: Infinity, total: 1 };
    const doc = JSON.parse(renderJson(r));
    expect(doc.connections[0].handshakeRttMs).toEqual({ synToSynAck: null, synAckToAck: null, total: 1 });
  });
});

describe("JSON golden files", () => {
  test("trouble, compact", () => {
    expectGolden("json/trouble.json", renderJson(troubleReport()));
  });
  test("trouble, pretty", () => {
    expectGolden("json/trouble.pretty.json", renderJson(troubleReport(), { pretty: true }));
  });
  test("healthy live, pretty", () => {
    expectGolden("json/healthy-live.pretty.json", renderJson(healthyLiveReport(), { pretty: true }));
  });
});
