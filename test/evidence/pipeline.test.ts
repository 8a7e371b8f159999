/**
 * Evidence over the real pipeline: analyze a capture, write the problem
 * connections' packets, analyze the evidence file again and get the same
 * verdicts (and, anonymized, the same verdicts under the mapped addresses).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/analyze.js";
import { PROBLEM_OUTCOMES, type Connection } from "../../src/flows/connection.js";
import { Anonymizer } from "../../src/report/anonymize.js";
import { ConnectionSelector, writeEvidence } from "../../src/report/evidence.js";
import { renderHtml } from "../../src/report/html.js";
import { pcapFile, scenario } from "./build.js";

let dir: string;
let input: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "synsent-evidence-pipeline-"));
  input = join(dir, "scenario.pcap");
  writeFileSync(input, pcapFile(1, scenario()));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const key = (c: Connection) => `${c.client.ip}:${c.client.port}>${c.server.ip}:${c.server.port}=${c.outcome}`;

describe("evidence through the pipeline", () => {
  it("re-analyzing the evidence gives the same problem verdicts", async () => {
    const report = await analyze([input]);
    const problems = report.connections.filter((c) => PROBLEM_OUTCOMES.includes(c.outcome));
    expect(problems.map((c) => c.outcome).sort()).toEqual(["icmp-rejected", "icmp-rejected", "refused"]);
    const out = join(dir, "evidence.pcap");
    const r = await writeEvidence({ inputs: [input], out, select: new ConnectionSelector(problems) });
    expect(r.packets).toBe(6);
    const again = await analyze([out]);
    expect(again.connections.map(key).sort()).toEqual(problems.map(key).sort());
    expect(again.findings.map((f) => f.kind).sort()).toEqual(report.findings.map((f) => f.kind).sort());
  });

  it("anonymized evidence analyzes to the anonymized report's verdicts", async () => {
    const report = await analyze([input]);
    const an = new Anonymizer("pipeline key");
    const problems = report.connections.filter((c) => PROBLEM_OUTCOMES.includes(c.outcome));
    const out = join(dir, "evidence-anon.pcap");
    await writeEvidence({ inputs: [input], out, select: new ConnectionSelector(problems), anonymizer: an });
    const again = await analyze([out]);
    const anonReport = an.anonymizeReport(report);
    const expected = anonReport.connections.filter((c) => PROBLEM_OUTCOMES.includes(c.outcome)).map(key).sort();
    expect(again.connections.map(key).sort()).toEqual(expected);
    // The ICMP senders map the same way in the report and in the packets.
    const icmpFrom = (cs: Connection[]) => cs.filter((c) => c.icmp).map((c) => c.icmp!.from).sort();
    expect(icmpFrom(again.connections)).toEqual(icmpFrom(anonReport.connections));
    // And the anonymized report's text never names an original address.
    const html = renderHtml(anonReport, { anonymized: an.describe() });
    for (const ip of ["10.1.1.1", "10.2.2.2", "10.2.2.4", "10.9.9.9", "2001:db8::1", "2001:db8:2::2", "2001:db8:ff::1"]) {
      expect(html).not.toContain(ip);
    }
  });

  it("renders the real report to HTML with a ladder per example", async () => {
    const report = await analyze([input]);
    const html = renderHtml(report);
    expect(html).toContain("3 of 5 connection attempts failed");
    for (const f of report.findings) expect(html).toContain(f.title.replace(/"/g, "&quot;"));
    expect(html.match(/<svg class="ladder"/g)!.length).toBe(3);
    expect(html).toContain("ICMP sender");
  });
});
