/**
 * Every file of tcpdump's own regression corpus (830 captures, many malformed
 * on purpose) must go through `synsent analyze` with either a result or a
 * one-line error naming the file and where: no stack trace, no hang, no
 * unbounded memory (the V8 heap is capped, so runaway memory fails the run).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CORPUS, isOneLineError, pool, runCli } from "../helpers/cli.js";

const present = fs.existsSync(CORPUS);
const files = present ? fs.readdirSync(CORPUS).filter((f) => !f.startsWith(".")).sort() : [];

describe.skipIf(!present)("tcpdump corpus through synsent analyze", () => {
  it(`all ${files.length} files end in a report or a one-line error`, async () => {
    const problems: string[] = [];
    let analysed = 0;
    let refused = 0;
    await pool(files, 2, async (f) => {
      const file = path.join(CORPUS, f);
      const r = await runCli(["analyze", file, "--format", "json"], { timeoutMs: 10_000, maxOldSpaceMb: 256 });
      if (r.timedOut) return problems.push(`${f}: no result within 10 s`);
      if (r.code === 0) {
        let doc: { source?: { packets?: number } };
        try {
          doc = JSON.parse(r.stdout);
        } catch {
          return problems.push(`${f}: exit 0 but the JSON report does not parse`);
        }
        if (typeof doc.source?.packets !== "number") return problems.push(`${f}: report without source.packets`);
        if (r.stderr.trim() !== "") return problems.push(`${f}: exit 0 with stderr ${JSON.stringify(r.stderr.slice(0, 200))}`);
        analysed++;
        return;
      }
      if (r.code === 3) {
        if (!isOneLineError(r.stderr)) return problems.push(`${f}: exit 3 without a one-line error: ${JSON.stringify(r.stderr.slice(0, 300))}`);
        if (!r.stderr.includes(f)) return problems.push(`${f}: error does not name the file: ${r.stderr.trim()}`);
        refused++;
        return;
      }
      problems.push(`${f}: exit ${r.code} signal ${r.signal}: ${JSON.stringify(r.stderr.slice(0, 300))}`);
    });
    expect(problems).toEqual([]);
    expect(analysed + refused).toBe(files.length);
    // Nearly all of the corpus is readable capture data; most must be analysed.
    expect(analysed).toBeGreaterThan(files.length * 0.9);
  }, 900_000);
});
