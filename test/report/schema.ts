/**
 * The JSON contract of `--format json` / `--format ndjson`, written down as a
 * schema: every field name and its type. The tests check real output against
 * it key by key (no extra keys, no missing keys), so renaming, dropping or
 * retyping a field fails loudly. Add fields here when the contract grows.
 */
import { expect } from "vitest";

export type Shape =
  | "number"
  | "string"
  | "boolean"
  | "null"
  | { enum: readonly string[] }
  | { nullable: Shape }
  | { array: Shape }
  | { object: { [key: string]: Shape } }
  | { record: readonly string[]; of: Shape };

const endpoint: Shape = { object: { ip: "string", port: "number" } };

export const OUTCOME_ENUM = [
  "unanswered",
  "refused",
  "icmp-rejected",
  "aborted-by-client",
  "synack-unacked",
  "established",
  "closed",
  "reset",
  "midstream",
  "pending",
] as const;

export const CONNECTION_SHAPE: { [key: string]: Shape } = {
  id: "number",
  ipVersion: "number",
  client: endpoint,
  server: endpoint,
  outcome: { enum: OUTCOME_ENUM },
  zeekState: "string",
  syn: "number",
  synAck: "number",
  rst: {
    nullable: {
      object: {
        from: { enum: ["client", "server"] },
        ts: "number",
        frame: "number",
        ttl: "number",
        suspectedForged: "boolean",
        forgedReason: { nullable: "string" },
      },
    },
  },
  icmp: { nullable: { object: { type: "number", code: "number", from: "string", ts: "number", frame: "number" } } },
  retransmissions: { object: { data: "number", syn: "number", synAck: "number" } },
  duplicates: "number",
  handshakeRttMs: { nullable: { object: { synToSynAck: "number", synAckToAck: "number", total: "number" } } },
  synOptions: {
    nullable: {
      object: { mss: { nullable: "number" }, windowScale: { nullable: "number" }, sackPermitted: "boolean", timestamps: "boolean" },
    },
  },
  packets: { object: { client: "number", server: "number" } },
  bytes: { object: { client: "number", server: "number" } },
  firstTs: "number",
  lastTs: "number",
  frames: { array: "number" },
  ladder: {
    array: {
      object: {
        frame: "number",
        ts: "number",
        from: { enum: ["client", "server", "icmp"] },
        flags: "string",
        seq: "number",
        ack: "number",
        len: "number",
        ttl: "number",
        note: { nullable: "string" },
      },
    },
  },
  ladderTruncated: "boolean",
  evicted: "boolean",
};

const percentiles: Shape = {
  nullable: { object: { count: "number", min: "number", p50: "number", p90: "number", p99: "number", max: "number" } },
};

export const DESTINATION_SHAPE: Shape = {
  object: {
    server: endpoint,
    attempts: "number",
    clients: "number",
    outcomes: { record: OUTCOME_ENUM, of: "number" },
    retransmissions: { object: { syn: "number", synAck: "number", data: "number" } },
    rttMs: { object: { synToSynAck: percentiles, total: percentiles } },
    diagnosis: "string",
    summary: "string",
  },
};

export const FINDING_SHAPE: Shape = {
  object: {
    kind: "string",
    severity: { enum: ["problem", "warning", "info"] },
    server: { nullable: endpoint },
    connections: "number",
    title: "string",
    detail: "string",
    whoCanFix: "string",
    exampleConnections: { array: "number" },
    frames: { array: "number" },
  },
};

export const SOURCE_SHAPE: Shape = {
  object: {
    files: { array: "string" },
    interface: { nullable: "string" },
    filter: { nullable: "string" },
    packets: "number",
    tcpPackets: "number",
    icmpUnreachable: "number",
    bytes: "number",
    firstTs: { nullable: "number" },
    lastTs: { nullable: "number" },
    durationS: "number",
    linkTypes: { array: { object: { linkType: "number", name: "string", packets: "number" } } },
    skipped: { array: { object: { reason: "string", packets: "number" } } },
    truncated: "number",
    duplicates: "number",
    stopped: { array: { object: { file: "string", record: "number", offset: "number", reason: "string" } } },
    kernel: { nullable: { object: { received: "number", dropped: "number", ifDropped: "number" } } },
  },
};

export const FLOW_TABLE_SHAPE: Shape = { object: { maxFlows: "number", peak: "number", evicted: "number" } };
export const OPTIONS_SHAPE: Shape = { object: { synTimeoutS: "number", maxFlows: "number" } };
export const TOOL_SHAPE: Shape = { object: { name: { enum: ["synsent"] }, version: "string" } };

/** The whole `--format json` document, keys in output order. */
export const REPORT_KEYS = ["connections", "destinations", "findings", "source", "flowTable", "options", "tool"] as const;

export const REPORT_SHAPE: Shape = {
  object: {
    connections: { array: { object: CONNECTION_SHAPE } },
    destinations: { array: DESTINATION_SHAPE },
    findings: { array: FINDING_SHAPE },
    source: SOURCE_SHAPE,
    flowTable: FLOW_TABLE_SHAPE,
    options: OPTIONS_SHAPE,
    tool: TOOL_SHAPE,
  },
};

/** Assert `value` has exactly this shape; the message names the JSON path that differs. */
export function expectShape(value: unknown, shape: Shape, path = "$"): void {
  if (typeof shape === "string") {
    const actual = value === null ? "null" : typeof value;
    expect(actual, `${path} should be ${shape}`).toBe(shape);
    if (shape === "number") expect(Number.isFinite(value as number), `${path} should be a finite number`).toBe(true);
    return;
  }
  if ("nullable" in shape) {
    if (value !== null) expectShape(value, shape.nullable, path);
    return;
  }
  if ("enum" in shape) {
    expect(shape.enum, `${path} = ${JSON.stringify(value)} is not one of ${shape.enum.join(", ")}`).toContain(value);
    return;
  }
  if ("array" in shape) {
    expect(Array.isArray(value), `${path} should be an array`).toBe(true);
    (value as unknown[]).forEach((v, i) => expectShape(v, shape.array, `${path}[${i}]`));
    return;
  }
  expect(typeof value === "object" && value !== null && !Array.isArray(value), `${path} should be an object`).toBe(true);
  const obj = value as Record<string, unknown>;
  if ("record" in shape) {
    expect(Object.keys(obj).sort(), `${path} keys`).toEqual([...shape.record].sort());
    for (const k of shape.record) expectShape(obj[k], shape.of, `${path}.${k}`);
    return;
  }
  expect(Object.keys(obj).sort(), `${path} keys`).toEqual(Object.keys(shape.object).sort());
  for (const [k, s] of Object.entries(shape.object)) expectShape(obj[k], s, `${path}.${k}`);
}
