/**
 * Golden Markdown and HTML reports of the bundled real captures: what a user
 * pastes into a ticket, pinned byte for byte. Review diffs by eye when a
 * change to wording or layout is intended (UPDATE_GOLDEN=1 rewrites them).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/analyze.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { renderHtml } from "../../src/report/html.js";
import { CAPTURES } from "../helpers/cli.js";
import { expectGolden } from "./golden.js";

const files = fs.existsSync(CAPTURES) ? fs.readdirSync(CAPTURES).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort() : [];

describe("golden reports over captures/", () => {
  it("has bundled captures", () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  for (const f of files) {
    it(`${f}: markdown and html`, async () => {
      // Reports name the file as given; use the repository-relative path so the goldens do not depend on the checkout location.
      const report = await analyze(path.join("captures", f));
      const md = renderMarkdown(report, { maxExamples: 3 });
      expectGolden(`captures/${f}.md`, md);
      const html = renderHtml(report, { maxExamples: 3 });
      expectGolden(`captures/${f}.html`, html);
      // Every problem connection's outcome named in the report's verdict or tables.
      for (const d of report.destinations) expect(md).toContain(String(d.server.port));
    });
  }
});
