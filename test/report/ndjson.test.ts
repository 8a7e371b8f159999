import { describe, expect, test } from "vitest";
import { NdjsonReportWriter, renderNdjson } from "../../src/report/ndjson.js";
import { renderJson } from "../../src/report/json.js";
import { expectGolden } from "./golden.js";
import { emptyReport, healthyLiveReport, troubleReport } from "./fixtures.js";
import {
  CONNECTION_SHAPE,
  DESTINATION_SHAPE,
  FINDING_SHAPE,
  FLOW_TABLE_SHAPE,
  OPTIONS_SHAPE,
  SOURCE_SHAPE,
  TOOL_SHAPE,
  expectShape,
} from "./schema.js";

describe("NDJSON", () => {
  test("one line per connection as it finishes, then one summary line", () => {
    const lines: string[] = [];
    const w = new NdjsonReportWriter((l) => lines.push(l));
    const r = troubleReport();
    w.connection(r.connections[3]!);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    expect(lines[0]!.indexOf("\n")).toBe(lines[0]!.length - 1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: "connection", id: 3, outcome: "unanswered" });
    w.connection(r.connections[19]!);
    w.end({ ...r, connections: [] });
    expect(lines).toHaveLength(3);
    const summary = JSON.parse(lines[2]!);
    expect(summary.type).toBe("summary");
    expect(Object.keys(summary)).toEqual(["type", "destinations", "findings", "source", "flowTable", "options", "tool"]);
    expect(() => w.connection(r.connections[0]!)).toThrow(/after end/);
  });

  test("every line parses and matches the JSON contract", () => {
    const out = renderNdjson(troubleReport());
    const lines = out.split("\n");
    expect(lines.pop()).toBe(""); // trailing newline
    const objs = lines.map((l) => JSON.parse(l));
    const conns = objs.filter((o) => o.type === "connection");
    expect(conns).toHaveLength(troubleReport().connections.length);
    for (const c of conns) {
      const { type, ...rest } = c;
      expect(type).toBe("connection");
      expectShape(rest, { object: CONNECTION_SHAPE });
    }
    const last = objs[objs.length - 1];
    expect(last.type).toBe("summary");
    expectShape(last.destinations, { array: DESTINATION_SHAPE });
    expectShape(last.findings, { array: FINDING_SHAPE });
    expectShape(last.source, SOURCE_SHAPE);
    expectShape(last.flowTable, FLOW_TABLE_SHAPE);
    expectShape(last.options, OPTIONS_SHAPE);
    expectShape(last.tool, TOOL_SHAPE);
  });

  test("same fields and values as --format json", () => {
    const r = troubleReport();
    const doc = JSON.parse(renderJson(r));
    const objs = renderNdjson(r)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    const conns = objs.filter((o) => o.type === "connection").map(({ type: _t, ...rest }) => rest);
    expect(conns).toEqual(doc.connections);
    const { type: _t, ...summary } = objs[objs.length - 1];
    const { connections: _c, ...docRest } = doc;
    expect(summary).toEqual(docRest);
  });

  test("a capture without connections gives just the summary line", () => {
    const out = renderNdjson(emptyReport());
    expect(out.split("\n")).toHaveLength(2);
    expect(JSON.parse(out).type).toBe("summary");
  });

  test("golden", () => {
    expectGolden("ndjson/trouble.ndjson", renderNdjson(troubleReport()));
    expectGolden("ndjson/healthy-live.ndjson", renderNdjson(healthyLiveReport()));
  });
});
