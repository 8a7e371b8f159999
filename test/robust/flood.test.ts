/**
 * A SYN flood from distinct sources, streamed through stdin (nothing is sent
 * on any network): the flow table stays bounded (--max-flows, under a capped
 * V8 heap), per-destination counts stay exact against the generator's ground
 * truth, and the report says how many flows were evicted. The 10 M SYN / 300 MB
 * figure is measured by `npm run bench -- --flood 10M`.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, ROOT } from "../helpers/cli.js";

const FLOOD = path.join(ROOT, "dist/bench/synflood.js");

interface Truth {
  syn: number;
  connections: number;
  synRetransmissions: number;
  server: { ip: string; port: number };
}

function flood(count: number, rate: number, args: string[], onLine: (line: string) => void): Promise<{ code: number | null; truth: Truth; stderr: string }> {
  return new Promise((resolve, reject) => {
    const gen = spawn(process.execPath, [FLOOD, "--count", String(count), "--rate", String(rate), "--seed", "7"], { stdio: ["ignore", "pipe", "pipe"] });
    const an = spawn(process.execPath, ["--max-old-space-size=160", CLI, "analyze", "-", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    gen.stdout.pipe(an.stdin);
    let genErr = "";
    let anErr = "";
    gen.stderr.on("data", (d: Buffer) => (genErr += d.toString()));
    an.stderr.on("data", (d: Buffer) => (anErr += d.toString()));
    let tail = "";
    an.stdout.on("data", (d: Buffer) => {
      const text = tail + d.toString("utf8");
      const lines = text.split("\n");
      tail = lines.pop() ?? "";
      for (const l of lines) if (l) onLine(l);
    });
    const timer = setTimeout(() => {
      gen.kill("SIGKILL");
      an.kill("SIGKILL");
      reject(new Error("flood run did not finish within 240 s"));
    }, 240_000);
    an.on("close", (code) => {
      clearTimeout(timer);
      if (tail) onLine(tail);
      try {
        resolve({ code, truth: JSON.parse(genErr.trim().split("\n").pop()!), stderr: anErr });
      } catch (e) {
        reject(new Error(`no ground truth from the generator: ${genErr} ${(e as Error).message}`));
      }
    });
  });
}

describe("SYN flood through stdin", () => {
  it("1 M SYNs from distinct sources: bounded table, exact counts, evictions reported", async () => {
    let connections = 0;
    let summary: any = null;
    let syns = 0;
    // 10k new sources/s into a 50k-flow table: a flow is evicted ~5 s after its
    // SYN, after the 3 s --syn-timeout, so its verdict is already final.
    const r = await flood(1_000_000, 10_000, ["--format", "ndjson", "--max-flows", "50000"], (line) => {
      const o = JSON.parse(line);
      if (o.type === "connection") {
        connections++;
        syns += o.syn;
      } else if (o.type === "summary") summary = o;
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(summary).not.toBeNull();
    const t = r.truth;
    expect(t.syn).toBe(1_000_000);
    // Every attempt is one connection, retries are retransmissions of it.
    expect(connections).toBe(t.connections);
    expect(syns).toBe(t.syn);
    expect(summary.destinations.length).toBe(1);
    const d = summary.destinations[0];
    expect(d.server).toEqual(t.server);
    expect(d.attempts).toBe(t.connections);
    expect(d.retransmissions.syn).toBe(t.synRetransmissions);
    expect(d.outcomes.unanswered + d.outcomes.pending).toBe(t.connections);
    // Only the SYNs of the last 3 s of the flood are still pending.
    expect(d.outcomes.pending).toBeLessThanOrEqual(3 * 10_000 * 1.2);
    // The table was full: evictions happened and are counted.
    expect(summary.flowTable.maxFlows).toBe(50_000);
    expect(summary.flowTable.peak).toBeLessThanOrEqual(50_000);
    expect(summary.flowTable.evicted).toBeGreaterThan(0);
    expect(summary.findings[0].kind).toBe("silent-drop");
  }, 300_000);

  it("the text report says how many flows were evicted", async () => {
    let text = "";
    const r = await flood(100_000, 20_000, ["--max-flows", "5000"], (line) => (text += line + "\n"));
    expect(r.code).toBe(0);
    expect(text).toMatch(/evicted/);
    expect(text).toMatch(/192\.0\.2\.10:443/);
  }, 120_000);
});
