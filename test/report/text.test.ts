import { describe, expect, test } from "vitest";
import { renderText } from "../../src/report/text.js";
import { expectGolden } from "./golden.js";
import { emptyReport, healthyLiveReport, troubleReport } from "./fixtures.js";

const ANSI = /\x1b\[/;
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

describe("text report golden files", () => {
  test("trouble (every kind of problem, damaged file, evictions)", () => {
    expectGolden("text/trouble.txt", renderText(troubleReport(), { color: false }));
  });
  test("trouble, coloured", () => {
    expectGolden("text/trouble.color.txt", renderText(troubleReport(), { color: true }));
  });
  test("trouble at 80 columns with one example per kind", () => {
    expectGolden("text/trouble.w80.txt", renderText(troubleReport(), { color: false, width: 80, maxExamples: 1 }));
  });
  test("healthy live capture with kernel drops", () => {
    expectGolden("text/healthy-live.txt", renderText(healthyLiveReport(), { color: false }));
  });
  test("no TCP at all", () => {
    expectGolden("text/empty.txt", renderText(emptyReport(), { color: false }));
  });
});

describe("text report content", () => {
  const out = renderText(troubleReport(), { color: false });
  const lines = out.split("\n");

  test("the verdict comes first: what, where, how often retried, who to ask", () => {
    expect(lines[0]).toBe("synsent: 5 problems and 1 warning in 25 connections to 8 destinations");
    const head = lines.slice(0, 8).join("\n");
    expect(head).toContain("12 of 12 SYNs to 10.0.0.5:8080 got no answer, each retried 3 times over 7 s");
    expect(head).toContain("dropped silently");
    expect(head).toContain("Take this report to whoever runs the network path");
    // Before any table.
    expect(out.indexOf("got no answer")).toBeLessThan(out.indexOf("Destinations ("));
  });

  test("findings point at frames and example connections", () => {
    expect(out).toMatch(/Evidence: frames \d+, \d+/);
    expect(out).toContain("connections #13, #14, #15 (ladders below)");
    // #22 is kept as an example but not shown with the default 3 per kind: no "below" promise.
    expect(out).toMatch(/connections #22\n/);
  });

  test("per-destination table with outcome counts, retransmissions and RTT", () => {
    const i = lines.findIndex((l) => l.startsWith("Destinations (8)"));
    expect(i).toBeGreaterThan(0);
    const header = lines[i + 1]!;
    for (const h of ["server", "attempts", "outcomes", "rtx SYN/data", "rtt ms p50/p90/max"]) expect(header).toContain(h);
    const row = lines.slice(i + 3, i + 11).find((l) => l.includes("10.0.0.5:8080"))!;
    expect(row).toMatch(/10\.0\.0\.5:8080\s+12\s+12 unanswered\s+36\/-\s+-/);
    const v6 = lines.slice(i + 3, i + 11).find((l) => l.includes("[2001:db8::10]:443"))!;
    expect(v6).toContain("12.5/14.1/14.1");
    // Problems listed before healthy destinations.
    const wide = renderText(troubleReport(), { color: false, width: 200 }).split("\n");
    const wideHeader = wide.find((l) => l.includes("attempts"))!;
    for (const h of ["unanswered", "refused", "icmp-rejected", "synack-unacked", "SYN rtx", "data rtx", "diagnosis"]) {
      expect(wideHeader).toContain(h);
    }
    const order = lines.slice(i + 3, i + 11).map((l) => l.trim().split(/\s+/)[0]);
    expect(order.indexOf("10.0.0.5:8080")).toBeLessThan(order.indexOf("10.0.0.9:80"));
  });

  test("example ladders with frame numbers, up to 3 per kind by default", () => {
    expect(out).toContain("  #1  10.0.0.1:51514 -> 10.0.0.5:8080  unanswered (S0)  4 SYNs over 7.0 s, no answer");
    expect(out).toContain("(3 of 13 shown)");
    expect(out).not.toMatch(/^ {2}#4 /m);
    const c1 = troubleReport().connections[1]!;
    for (const f of c1.frames) expect(out).toMatch(new RegExp(`^\\s+${f}\\s+\\d+\\.\\d{6}\\s+SYN seq=0 ─+▶`, "m"));
    expect(out).toContain("RST in frame 148 looks forged: TTL 64, other packets from 203.0.113.10 arrive with TTL 52.");
    expect(out).toContain("◀┄");
  });

  test("maxExamples caps per kind; 0 drops the section", () => {
    const one = renderText(troubleReport(), { color: false, maxExamples: 1 });
    expect(one).toContain("(1 of 13 shown)");
    expect(one).not.toMatch(/^ {2}#2 /m);
    const none = renderText(troubleReport(), { color: false, maxExamples: 0 });
    expect(none).not.toContain("Problem connections");
    expect(none).toContain("Destinations (8)");
  });

  test("capture summary: skipped, truncated, duplicates, evictions, damaged file", () => {
    expect(out).toContain("skipped     142 packets: 130 not TCP, 12 not IP");
    expect(out).toContain("truncated   3 TCP packets cut by the snap length");
    expect(out).toContain("duplicates  17 packets captured twice");
    expect(out).toMatch(/flow table {2}peak 20 of 20 flows; 4 evicted/);
    expect(strip(out).replace(/\n {2}/g, " ")).toContain(
      "! file captures/odd|name `x`.pcapng: reading stopped at record 1024 (byte offset 1048592): block length 4294967295 runs past the end of the file; the analysis covers what came before",
    );
    // And a warning up top, next to the verdict.
    expect(out.indexOf("Note: the capture is incomplete")).toBeLessThan(out.indexOf("Destinations ("));
  });

  test("live capture: interface, filter and kernel drops", () => {
    const live = renderText(healthyLiveReport(), { color: false });
    expect(live.split("\n")[0]).toBe("synsent: no problems found in 4 connections to 2 destinations");
    expect(live).toContain("interface   eth0");
    expect(live).toContain("filter      tcp port 443 or tcp port 8443");
    expect(live).toContain("kernel      5,012 received, 12 dropped by the kernel, 0 by the interface");
    expect(live.replace(/\s+/g, " ")).toContain("a missing answer may be a missed packet");
  });

  test("no TCP: says so and why", () => {
    const e = renderText(emptyReport(), { color: false });
    expect(e).toContain("no TCP connections found in 40 packets");
    expect(e).toContain("skipped: 40 not TCP");
  });

  test("no colour codes at all when color is false; colours when true", () => {
    expect(out).not.toMatch(ANSI);
    expect(renderText(healthyLiveReport(), { color: false })).not.toMatch(ANSI);
    const col = renderText(troubleReport(), { color: true });
    expect(col).toContain("\x1b[31mPROBLEM\x1b[39m");
    expect(col).toContain("\x1b[33mWARNING\x1b[39m");
    expect(renderText(healthyLiveReport(), { color: true })).toContain("\x1b[32m");
    // Same text underneath.
    expect(strip(col)).toBe(out);
  });

  test("prose and tables respect the width (only unbreakable ladder rows may not)", () => {
    for (const width of [80, 100, 120]) {
      const t = renderText(troubleReport(), { color: false, width });
      const over = t.split("\n").filter((l) => l.length > width);
      for (const l of over) expect(l).toMatch(/[▶◀]/);
    }
    const t100 = renderText(troubleReport(), { color: false, width: 100 });
    expect(t100.split("\n").filter((l) => l.length > 100)).toEqual([]);
  });

  test("ends with exactly one newline, no trailing spaces", () => {
    expect(out.endsWith("\n")).toBe(true);
    expect(out.endsWith("\n\n")).toBe(false);
    expect(lines.filter((l) => / $/.test(l))).toEqual([]);
  });
});
