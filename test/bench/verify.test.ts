import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generate, type GenerateTruth } from "../../bench/generate.js";
import { checkAgainstTruth, ndjsonSummary, renderChecks, type SummaryLine } from "../../bench/verify.js";
import { CLI } from "../helpers/cli.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-verify-test-"));
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function summaryOf(file: string): Promise<SummaryLine> {
  return ndjsonSummary([process.execPath, CLI, "analyze", file, "--format", "ndjson"], 120);
}

describe("bench ground-truth check", () => {
  // A busy link (thousands open at once, SYN retries, refusals, data
  // retransmissions, IPv6): every count synsent reports equals the generator's.
  it("synsent's counts equal the generator's truth on a busy-link capture", async () => {
    const file = path.join(dir, "busy.pcap");
    const truth = generate({ out: file, connections: 20_000, seed: 11, rate: 7000, ipv6Share: 0.2, truthFile: false });
    const checks = checkAgainstTruth(await summaryOf(file), truth);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.what === "connections")?.got).toBe(20_000);
    expect(truth.synRetransmissions).toBeGreaterThan(0);
    expect(truth.dataRetransmissions).toBeGreaterThan(0);
    expect(renderChecks(checks, truth)).toMatch(/^ground truth: all \d+ counts match: 20000 connections/);
  }, 120_000);

  // Unanswered SYNs right at the end of the capture are still within the SYN
  // timeout: synsent calls them pending, and the check allows exactly that.
  it("counts unanswered connections still within the SYN timeout at the end as pending", async () => {
    const file = path.join(dir, "tail.pcap");
    const truth = generate({ out: file, connections: 3000, seed: 12, rate: 2000, unansweredShare: 0.5, tailS: 0, truthFile: false });
    expect(truth.unansweredEndingWithin["3"]).toBeGreaterThan(0);
    const summary = await summaryOf(file);
    const checks = checkAgainstTruth(summary, truth);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const pending = summary.destinations.reduce((n, d) => n + (d.outcomes.pending ?? 0), 0);
    expect(pending).toBeGreaterThan(0);
  }, 120_000);

  it("names every count that differs", async () => {
    const file = path.join(dir, "small.pcap");
    const truth = generate({ out: file, connections: 1000, seed: 13, truthFile: false });
    const summary = await summaryOf(file);
    const wrong: GenerateTruth = {
      ...truth,
      outcomes: { ...truth.outcomes, closed: truth.outcomes.closed + 1 },
      dataRetransmissions: truth.dataRetransmissions + 2,
    };
    const checks = checkAgainstTruth(summary, wrong);
    expect(checks.filter((c) => !c.ok).map((c) => c.what)).toEqual(["closed", "data retransmissions"]);
    const line = renderChecks(checks, wrong);
    expect(line).toContain("2 of");
    expect(line).toContain(`closed ${truth.outcomes.closed}, truth ${truth.outcomes.closed + 1}`);
    expect(line).toContain(`data retransmissions ${truth.dataRetransmissions}, truth ${truth.dataRetransmissions + 2}`);
  }, 120_000);

  it("says why when synsent fails instead of returning a summary", async () => {
    await expect(summaryOf(path.join(dir, "missing.pcap"))).rejects.toThrow(/^exit 3: synsent: .*missing\.pcap: no such file$/);
  }, 60_000);
});
