import { describe, expect, test } from "vitest";
import { codeBlock, codeSpan, escapeMarkdown, renderMarkdown } from "../../src/report/markdown.js";
import { expectGolden } from "./golden.js";
import { emptyReport, healthyLiveReport, troubleReport } from "./fixtures.js";

/** Cells of a GFM table row, splitting on pipes that are not backslash-escaped. */
function cells(row: string): string[] {
  return row
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

describe("markdown escaping", () => {
  test("characters that would start markup are escaped", () => {
    expect(escapeMarkdown("a|b")).toBe("a\\|b");
    expect(escapeMarkdown("`x`")).toBe("\\`x\\`");
    expect(escapeMarkdown("*bold* _it_ [link](u) <b>")).toBe("\\*bold\\* \\_it\\_ \\[link\\](u) \\<b\\>");
    expect(escapeMarkdown("# not a heading")).toBe("\\# not a heading");
    expect(escapeMarkdown("two\nlines")).toBe("two lines");
    expect(escapeMarkdown("- item", { lineStart: true })).toBe("\\- item");
    expect(escapeMarkdown("1. item", { lineStart: true })).toBe("1\\. item");
    expect(escapeMarkdown("10.0.0.8:5432 answered")).toBe("10.0.0.8:5432 answered");
  });

  test("code spans survive backticks and pipes", () => {
    expect(codeSpan("10.0.0.5:8080")).toBe("`10.0.0.5:8080`");
    expect(codeSpan("a`b")).toBe("``a`b``");
    expect(codeSpan("`x")).toBe("`` `x ``");
    expect(codeSpan("tcp port 80 | x")).toBe("`tcp port 80 \\| x`");
  });

  test("code blocks use a fence longer than any backtick run inside", () => {
    expect(codeBlock(["a"])).toEqual(["```text", "a", "```"]);
    expect(codeBlock(["a ```` b"])).toEqual(["`````text", "a ```` b", "`````"]);
  });
});

describe("markdown report", () => {
  const md = renderMarkdown(troubleReport());
  const lines = md.split("\n");

  test("verdict first, in a sentence a non-expert reads", () => {
    expect(lines[0]).toBe("## synsent: 5 problems and 1 warning in 25 connections to 8 destinations");
    expect(lines[2]).toMatch(/^\*\*12 of 12 SYNs to 10\.0\.0\.5:8080 got no answer, each retried 3 times over 7 s\.\*\* /);
    expect(lines[2]).toContain("Take this report to whoever runs the network path");
    expect(md.indexOf("got no answer")).toBeLessThan(md.indexOf("### Destinations"));
  });

  test("the destinations table is a well-formed pipe table", () => {
    const start = lines.findIndex((l) => l.startsWith("| server |"));
    const header = cells(lines[start]!);
    expect(header).toEqual(["server", "attempts", "outcomes", "SYN rtx", "data rtx", "rtt ms p50/p90/max", "diagnosis"]);
    expect(lines[start + 1]).toMatch(/^\|(:?-+:?\|)+$/);
    const rows = [];
    for (let i = start + 2; lines[i]!.startsWith("|"); i++) rows.push(lines[i]!);
    expect(rows).toHaveLength(8);
    for (const r of rows) expect(cells(r)).toHaveLength(header.length);
    expect(rows[0]).toBe("| `10.0.0.5:8080` | 12 | 12 unanswered | 36 | 0 | - | **SYNs dropped silently** |");
  });

  test("example connections with ladders in fenced code blocks and frame numbers", () => {
    expect(md).toContain("#### unanswered: SYNs got no answer (3 of 13 shown)");
    expect(md).toContain("**`#1`** `10.0.0.1:51514` → `10.0.0.5:8080`: unanswered (S0), 4 SYNs over 7.0 s, no answer");
    const fences = lines.filter((l) => /^```/.test(l));
    expect(fences.length % 2).toBe(0);
    expect(fences.length / 2).toBe(3 + 2 + 2 + 1 + 1); // shown examples
    const c1 = troubleReport().connections[1]!;
    for (const f of c1.frames) expect(md).toMatch(new RegExp(`^\\s*${f}\\s+\\d+\\.\\d{6}\\s+SYN seq=0 ─+▶`, "m"));
  });

  test("max examples", () => {
    const one = renderMarkdown(troubleReport(), { maxExamples: 1 });
    expect(one).toContain("(1 of 13 shown)");
    expect(one.split("\n").filter((l) => l.startsWith("```")).length / 2).toBe(5);
    expect(renderMarkdown(troubleReport(), { maxExamples: 0 })).not.toContain("### Example connections");
  });

  test("how the capture was made; damaged file names are escaped", () => {
    expect(md).toContain("### How the capture was made");
    expect(md).toContain("- **Files:** captures/drop.pcap, captures/odd\\|name \\`x\\`.pcapng");
    expect(md).toContain(
      "- **Damaged file:** file captures/odd\\|name \\`x\\`.pcapng: reading stopped at record 1024 (byte offset 1048592): block length 4294967295 runs past the end of the file; the analysis covers what came before",
    );
    const live = renderMarkdown(healthyLiveReport());
    expect(live).toContain("- **Interface:** eth0 (live capture)");
    expect(live).toContain("- **Filter:** `tcp port 443 or tcp port 8443`");
    expect(live).toContain("- **Kernel:** 5,012 received, 12 dropped by the kernel, 0 by the interface");
  });

  test("hostile strings cannot break the layout", () => {
    const r = troubleReport();
    r.source.files = ["# heading.pcap", "<script>alert(1)</script>.pcap", "a\nb|c.pcap"];
    r.findings[0]!.title = "| broken | table ` and **bold";
    r.destinations[0]!.summary = "x | y";
    const out = renderMarkdown(r);
    expect(out).not.toMatch(/<script>/);
    expect(out).toContain("\\<script\\>");
    expect(out).toContain("**\\| broken \\| table \\` and \\*\\*bold.**");
    expect(out).not.toMatch(/^#\s*heading/m);
    // Every table row still has the same number of cells.
    const rows = out.split("\n").filter((l) => l.startsWith("| "));
    for (const row of rows) expect(cells(row)).toHaveLength(7);
  });

  test("no HTML at all in the output", () => {
    for (const r of [troubleReport(), healthyLiveReport(), emptyReport()]) {
      expect(renderMarkdown(r)).not.toMatch(/<\/?[a-z][^>]*>/i);
    }
  });

  test("long destination lists are capped at 20 rows with a count of the rest", () => {
    const r = healthyLiveReport();
    const base = r.destinations[0]!;
    r.destinations = Array.from({ length: 35 }, (_, i) => ({ ...base, server: { ip: "192.168.1.1", port: 1000 + i } }));
    const out = renderMarkdown(r);
    const rows = out.split("\n").filter((l) => l.startsWith("| `192.168.1.1:"));
    expect(rows).toHaveLength(20);
    expect(out).toContain("…and 15 more destinations (all of them: `--format json`).");
  });

  test("healthy and empty captures say so plainly", () => {
    const live = renderMarkdown(healthyLiveReport());
    expect(live.split("\n")[0]).toBe("## synsent: no problems found");
    expect(live).toContain("12 packets lost while capturing");
    expect(renderMarkdown(emptyReport())).toContain("The capture holds no TCP packets (40 packets read).");
  });

  test("golden", () => {
    expectGolden("markdown/trouble.md", md);
    expectGolden("markdown/healthy-live.md", renderMarkdown(healthyLiveReport()));
    expectGolden("markdown/empty.md", renderMarkdown(emptyReport()));
  });
});
