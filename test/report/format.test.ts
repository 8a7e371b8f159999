import { describe, expect, test } from "vitest";
import {
  OUTCOME_INFO,
  completenessIssues,
  connectionSummary,
  formatBytes,
  formatCount,
  formatDuration,
  formatEndpoint,
  formatFrames,
  formatMs,
  formatTimestamp,
  groupExamples,
  icmpDescription,
  ladderLines,
  ladderRows,
  outcomeLabel,
  palette,
  percent,
  rttCell,
  sortDestinations,
  sortFindings,
  stoppedLine,
  textTable,
  visibleWidth,
  wrap,
} from "../../src/report/format.js";
import { OUTCOMES } from "../../src/flows/connection.js";
import { healthyLiveReport, troubleReport } from "./fixtures.js";

describe("numbers and durations", () => {
  test("formatCount groups thousands regardless of locale", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(1000)).toBe("1,000");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(-12345)).toBe("-12,345");
  });

  test("formatDuration picks a unit a person reads at a glance", () => {
    expect(formatDuration(0.000412)).toBe("0.412 ms");
    expect(formatDuration(0.85)).toBe("850.0 ms");
    expect(formatDuration(7.027)).toBe("7.0 s");
    expect(formatDuration(125)).toBe("2 min 5 s");
    expect(formatDuration(120)).toBe("2 min");
    expect(formatDuration(3725)).toBe("1 h 2 min");
    expect(formatDuration(7200)).toBe("2 h");
  });

  test("formatMs keeps precision where it matters", () => {
    expect(formatMs(0.412)).toBe("0.412 ms");
    expect(formatMs(3.25)).toBe("3.25 ms");
    expect(formatMs(41.66)).toBe("41.7 ms");
    expect(formatMs(1203)).toBe("1.20 s");
    expect(formatMs(0.9999996)).toBe("1.00 ms");
    expect(formatMs(9.9999)).toBe("10.0 ms");
    expect(formatDuration(0)).toBe("0 s");
  });

  test("percent", () => {
    expect(percent(1, 3)).toBe("33%");
    expect(percent(12, 12)).toBe("100%");
    expect(percent(0, 5)).toBe("0%");
    expect(percent(1, 2000)).toBe("<0.1%");
    expect(percent(1, 400)).toBe("0.3%");
    expect(percent(1, 0)).toBe("-");
  });

  test("formatBytes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1234)).toBe("1.2 kB");
    expect(formatBytes(3_100_000)).toBe("3.1 MB");
  });

  test("formatTimestamp is UTC with microseconds", () => {
    expect(formatTimestamp(1795424400.000412)).toBe("2026-11-23 09:00:00.000412 UTC");
    expect(formatTimestamp(1795424400.9999996)).toBe("2026-11-23 09:00:01.000000 UTC");
    expect(formatTimestamp(1e300)).toContain("out of range");
  });

  test("formatEndpoint brackets IPv6", () => {
    expect(formatEndpoint({ ip: "10.0.0.5", port: 8080 })).toBe("10.0.0.5:8080");
    expect(formatEndpoint({ ip: "2001:db8::10", port: 443 })).toBe("[2001:db8::10]:443");
  });

  test("formatFrames is bounded", () => {
    expect(formatFrames([1, 2, 3])).toBe("1, 2, 3");
    expect(formatFrames([1, 2, 3, 4, 5], 2)).toBe("1, 2, … (5 in all)");
  });
});

describe("outcome vocabulary", () => {
  test("every outcome has a label and a Zeek state", () => {
    for (const o of OUTCOMES) {
      expect(OUTCOME_INFO[o].label).toBe(o);
      expect(OUTCOME_INFO[o].zeek.length).toBeGreaterThan(0);
    }
    expect(OUTCOME_INFO.unanswered.zeek).toEqual(["S0"]);
    expect(OUTCOME_INFO.refused.zeek).toEqual(["REJ"]);
    expect(OUTCOME_INFO.midstream.zeek).toEqual(["OTH"]);
  });

  test("outcomeLabel prefers the connection's own Zeek state", () => {
    expect(outcomeLabel("unanswered")).toBe("unanswered (S0)");
    expect(outcomeLabel("reset", "RSTR")).toBe("reset (RSTR)");
  });

  test("ICMP code names for v4 and v6", () => {
    expect(icmpDescription(4, 3, 13)).toBe("communication administratively prohibited");
    expect(icmpDescription(4, 3, 3)).toBe("port unreachable");
    expect(icmpDescription(6, 1, 1)).toBe("communication administratively prohibited");
    expect(icmpDescription(6, 1, 4)).toBe("port unreachable");
    expect(icmpDescription(4, 3, 99)).toBe("unreachable code 99");
  });
});

describe("connection summaries", () => {
  const r = troubleReport();
  const byId = (id: number) => r.connections.find((c) => c.id === id)!;

  test("unanswered: SYN count and time span", () => {
    expect(connectionSummary(byId(1))).toBe("4 SYNs over 7.0 s, no answer");
  });
  test("refused: who reset and how fast", () => {
    expect(connectionSummary(byId(13))).toBe("1 SYN, reset by the server after 0.412 ms");
  });
  test("icmp-rejected: code name and the router that sent it", () => {
    expect(connectionSummary(byId(16))).toBe("1 SYN, ICMP 3/13 communication administratively prohibited from 192.0.2.254");
  });
  test("forged reset is called out", () => {
    expect(connectionSummary(byId(19))).toContain("(RST looks forged)");
  });
});

describe("text layout", () => {
  test("visibleWidth ignores ANSI codes and counts box characters once", () => {
    expect(visibleWidth("\x1b[31mabc\x1b[39m")).toBe(3);
    expect(visibleWidth("──▶")).toBe(3);
  });

  test("wrap keeps lines within width and long words whole", () => {
    const text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma";
    const lines = wrap(text, 30, "  ");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(30);
    expect(lines.every((l) => l.startsWith("  "))).toBe(true);
    expect(lines.join(" ").replace(/\s+/g, " ").trim()).toBe(text);
    const long = wrap("see 2001:0db8:0000:0000:0000:ff00:0042:8329 now", 20);
    expect(long).toContain("2001:0db8:0000:0000:0000:ff00:0042:8329");
  });

  test("textTable aligns columns even with coloured cells", () => {
    const p = palette(true);
    const lines = textTable(
      [
        { header: "server", align: "left" },
        { header: "n", align: "right" },
      ],
      [
        [p.red("10.0.0.5:8080"), "12"],
        ["1.2.3.4:1", "3"],
      ],
    );
    const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));
    expect(plain[0]).toBe("server          n");
    expect(plain[2]).toBe("10.0.0.5:8080  12");
    expect(plain[3]).toBe("1.2.3.4:1       3");
  });

  test("palette(false) adds nothing, palette(true) adds SGR codes", () => {
    const off = palette(false);
    expect(off.red("x") + off.dim("y") + off.bold("z")).toBe("xyz");
    const on = palette(true);
    expect(on.red("x")).toBe("\x1b[31mx\x1b[39m");
    expect(on.green("x")).toBe("\x1b[32mx\x1b[39m");
  });
});

describe("packet ladder", () => {
  const r = troubleReport();
  const byId = (id: number) => r.connections.find((c) => c.id === id)!;

  test("rows carry frame numbers and times since the first packet", () => {
    const rows = ladderRows(byId(1));
    expect(rows.map((x) => x.frame)).toEqual(byId(1).frames);
    expect(rows[0]!.time).toBe(0);
    expect(rows[3]!.time).toBeCloseTo(7.027, 5);
    expect(rows[1]!.note).toBe("retransmission");
  });

  test("client packets point right, server packets left, ICMP dotted", () => {
    const lines = ladderLines(byId(16), { arrowWidth: 12 });
    expect(lines[0]).toMatch(/^frame\s+time\(s\)\s+client\s+server$/);
    expect(lines[1]).toMatch(/SYN seq=0 ─+▶$/);
    expect(lines[2]).toMatch(/◀┄+ ICMP 3\/13 from 192\.0\.2\.254$/);
    const refused = ladderLines(byId(13), { arrowWidth: 12 });
    expect(refused[2]).toMatch(/^\s+\d+\s+0\.000412\s+◀─{11} RST,ACK seq=0 ack=1 ttl=61$/);
  });

  test("arrows end in the same column on every row", () => {
    const lines = ladderLines(byId(19), { arrowWidth: 14 });
    // Where each arrow's far end is: the head for client packets, the tail for server ones.
    const ends = lines.slice(1).map((l) => (l.includes("▶") ? l.indexOf("▶") : l.indexOf("◀") + 13));
    expect(new Set(ends).size).toBe(1);
    // The "server" header ends right above the arrow heads.
    expect(lines[0]!.indexOf("server") + "server".length - 1).toBe(ends[0]);
  });

  test("a forged RST is flagged on its row, and truncated ladders say so", () => {
    const lines = ladderLines(byId(19));
    const rstLine = lines.find((l) => l.includes("RST seq=1"))!;
    expect(rstLine).toContain("ttl=64");
    expect(rstLine).toContain("(suspected forged)");
    const healthy = ladderLines(byId(0));
    expect(healthy[healthy.length - 1]).toMatch(/… 5 more packets not shown$/);
  });

  test("maxWidth shrinks arrows, never below 8", () => {
    const wide = ladderLines(byId(19), { arrowWidth: 30 });
    const narrow = ladderLines(byId(19), { arrowWidth: 30, maxWidth: 80 });
    expect(Math.max(...narrow.map(visibleWidth))).toBeLessThan(Math.max(...wide.map(visibleWidth)));
    expect(narrow.some((l) => /─{7}▶/.test(l))).toBe(true);
  });
});

describe("report structure helpers", () => {
  test("findings sorted problem > warning > info, stable", () => {
    const f = sortFindings([
      { severity: "info" as const, n: 1 },
      { severity: "problem" as const, n: 2 },
      { severity: "warning" as const, n: 3 },
      { severity: "problem" as const, n: 4 },
    ]);
    expect(f.map((x) => x.n)).toEqual([2, 4, 3, 1]);
  });

  test("destinations with problems first", () => {
    const d = sortDestinations([
      { diagnosis: "healthy" as const, n: 1 },
      { diagnosis: "data-retransmissions" as const, n: 2 },
      { diagnosis: "silent-drop" as const, n: 3 },
    ]);
    expect(d.map((x) => x.n)).toEqual([3, 2, 1]);
  });

  test("examples grouped by outcome, capped per kind", () => {
    const r = troubleReport();
    const g = groupExamples(r.examples, 2);
    expect(g.map((x) => x.outcome)).toEqual(["unanswered", "refused", "icmp-rejected", "synack-unacked", "reset"]);
    expect(g[0]!.shown.map((c) => c.id)).toEqual([1, 2]);
    expect(g[0]!.kept).toBe(5);
    expect(groupExamples(r.examples, 0)).toEqual([]);
  });

  test("rttCell uses total handshake percentiles", () => {
    const r = healthyLiveReport();
    expect(rttCell(r.destinations[0]!.rttMs)).toBe("0.523/1.21/1.21");
    expect(rttCell({ synToSynAck: null, total: null })).toBe("-");
  });

  test("stoppedLine and completeness issues", () => {
    const r = troubleReport();
    expect(stoppedLine(r.source.stopped[0]!)).toBe(
      "file captures/odd|name `x`.pcapng: reading stopped at record 1024 (byte offset 1048592): block length 4294967295 runs past the end of the file; the analysis covers what came before",
    );
    const issues = completenessIssues(r);
    expect(issues).toHaveLength(2);
    expect(issues[1]).toContain("4 flows evicted");
    expect(completenessIssues(healthyLiveReport())[0]).toContain("12 packets lost while capturing");
  });
});
