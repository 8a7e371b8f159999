/**
 * The default report: plain text for a terminal or a ticket, verdict first.
 *
 * Order: what is wrong and where (from report.findings) -> what may make the
 * report incomplete -> per-destination table -> example problem connections
 * with packet ladders -> how the capture was read. Every claim points at
 * frame numbers so it can be checked in Wireshark (`frame.number == N`).
 */

import type { Connection, Outcome } from "../flows/connection.js";
import type { Destination, Finding } from "../diagnose/types.js";
import type { Report } from "./model.js";
import {
  OUTCOME_INFO,
  bySeverity,
  completenessIssues,
  connectionSummary,
  diagnosisSeverity,
  DIAGNOSIS_LABEL,
  formatBytes,
  formatCount,
  formatDuration,
  formatEndpoint,
  formatFrames,
  formatMs,
  formatTimestamp,
  groupExamples,
  ladderLines,
  outcomeLabel,
  outcomesPresent,
  palette,
  plural,
  rttCell,
  sortDestinations,
  sortFindings,
  stoppedLine,
  textTable,
  textTableWidth,
  totalAttempts,
  wrap,
  type Column,
  type Palette,
} from "./format.js";

export interface TextOptions {
  /** ANSI colours (the CLI passes true only on a TTY with NO_COLOR unset). */
  color: boolean;
  /** Example connections per kind of problem (default 3). */
  maxExamples?: number;
  /** Columns to wrap and align to (default 100). */
  width?: number;
}

/** Findings listed in the verdict before "and N more". */
const MAX_FINDINGS = 10;
/** Destination rows before "and N more". */
const MAX_DESTINATIONS = 40;

export function renderText(report: Report, opts: TextOptions): string {
  const p = palette(opts.color);
  const width = Math.max(60, opts.width ?? 100);
  const maxExamples = opts.maxExamples ?? 3;
  const out: string[] = [];

  const groups = groupExamples(report.examples, maxExamples);
  const shownIds = new Set(groups.flatMap((g) => g.shown.map((c) => c.id)));
  verdict(out, report, p, width, shownIds);
  const dests = destinationsSection(report.destinations, p, width);
  if (dests.length > 0) out.push("", ...dests);
  const ex = examplesSection(report, groups, p, width);
  if (ex.length > 0) out.push("", ...ex);
  out.push("", ...captureSection(report, p, width));
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- verdict

function verdict(out: string[], r: Report, p: Palette, width: number, shownIds: Set<number>): void {
  const conns = totalAttempts(r.destinations);
  const problems = r.findings.filter((f) => f.severity === "problem").length;
  const warnings = r.findings.filter((f) => f.severity === "warning").length;
  const scope = `${plural(conns, "connection")} to ${plural(r.destinations.length, "destination")}`;

  if (conns === 0) {
    out.push(p.bold(`synsent: no TCP connections found in ${plural(r.source.packets, "packet")}`));
    const why =
      r.source.tcpPackets === 0
        ? "The capture holds no TCP packets" +
          (r.source.skipped.length > 0
            ? ` (skipped: ${r.source.skipped.map((s) => `${formatCount(s.packets)} ${s.reason}`).join(", ")})`
            : "") +
          (r.source.interface !== null ? ". Check the capture filter and the interface." : ". Check the filter it was captured with.")
        : "TCP packets were read, but none of them started or belonged to a connection synsent could follow.";
    out.push(...wrap(why, width, "  "));
  } else if (problems + warnings === 0) {
    out.push(p.green(p.bold(`synsent: no problems found in ${scope}`)));
  } else {
    const parts = [problems > 0 ? plural(problems, "problem") : "", warnings > 0 ? plural(warnings, "warning") : ""].filter(
      (s) => s,
    );
    const head = `synsent: ${parts.join(" and ")} in ${scope}`;
    out.push(p.bold(problems > 0 ? p.red(head) : p.yellow(head)));
  }

  const sorted = sortFindings(r.findings);
  for (const f of sorted.slice(0, MAX_FINDINGS)) {
    out.push("", ...finding(f, p, width, shownIds));
  }
  if (sorted.length > MAX_FINDINGS) {
    out.push("", p.dim(`  … and ${plural(sorted.length - MAX_FINDINGS, "more finding")} (see the table below, or --format json)`));
  }

  const issues = completenessIssues(r);
  if (issues.length > 0) {
    out.push("");
    out.push(...wrap(`Note: the capture is incomplete: ${issues.join("; ")}. See "Capture" below.`, width).map((l) => p.yellow(l)));
  }
}

function finding(f: Finding, p: Palette, width: number, shownIds: Set<number>): string[] {
  const tag = f.severity === "problem" ? "PROBLEM" : f.severity === "warning" ? "WARNING" : "NOTE";
  const lines: string[] = [];
  const title = wrap(f.title, width - tag.length - 2, "");
  lines.push(`${bySeverity(p, f.severity, tag)}  ${p.bold(title[0]!)}`);
  for (const t of title.slice(1)) lines.push(" ".repeat(tag.length + 2) + p.bold(t));
  const ind = "    ";
  if (f.detail) lines.push(...wrap(f.detail, width, ind));
  // Informational findings need nobody to act.
  if (f.whoCanFix && f.severity !== "info") {
    const who = f.whoCanFix.replace(/\.$/, "");
    const sentence = /^[a-z]/.test(who) ? `Take this report to ${who}.` : `Who can fix it: ${who}.`;
    lines.push(...wrap(sentence, width, ind));
  }
  const ev: string[] = [];
  if (f.frames.length > 0) ev.push(`frames ${formatFrames([...f.frames].sort((a, b) => a - b))}`);
  if (f.exampleConnections.length > 0) {
    const ids = f.exampleConnections.slice(0, 6).map((i) => `#${i}`);
    const below = f.exampleConnections.some((i) => shownIds.has(i)) ? " (ladders below)" : "";
    ev.push(`connections ${ids.join(", ")}${f.exampleConnections.length > 6 ? ", …" : ""}${below}`);
  }
  if (ev.length > 0) lines.push(...wrap(`Evidence: ${ev.join("; ")}`, width, ind).map((l) => p.dim(l)));
  return lines;
}

// ---------------------------------------------------------------- destinations

function destinationsSection(all: Destination[], p: Palette, width: number): string[] {
  if (all.length === 0) return [];
  const dests = sortDestinations(all).slice(0, MAX_DESTINATIONS);
  const outcomes = outcomesPresent(all);

  type Mode = "full" | "short" | "compact" | "stacked";
  const outcomeCell = (o: Outcome, n: number): string => {
    const os = OUTCOME_INFO[o].severity;
    return os === "ok" || os === "info" ? formatCount(n) : bySeverity(p, os, formatCount(n));
  };
  // narrow: "rtx" merges the two retransmission columns; "p50" also keeps
  // only the median handshake time.
  type Narrow = "none" | "rtx" | "p50";
  const build = (mode: Mode, withDiagnosis: boolean, narrow: Narrow = "none") => {
    const cols: Column[] = [{ header: "server", align: "left" }, { header: "attempts", align: "right" }];
    if (mode === "compact" || mode === "stacked") cols.push({ header: "outcomes", align: "left" });
    else {
      for (const o of outcomes) {
        cols.push({ header: mode === "short" ? OUTCOME_INFO[o].short : OUTCOME_INFO[o].label, align: "right" });
      }
    }
    if (narrow !== "none") cols.push({ header: "rtx SYN/data", align: "right" });
    else cols.push({ header: "SYN rtx", align: "right" }, { header: "data rtx", align: "right" });
    cols.push({ header: narrow === "p50" ? "rtt p50" : "rtt ms p50/p90/max", align: "right" });
    if (withDiagnosis) cols.push({ header: "diagnosis", align: "left" });
    const rows = dests.map((d) => {
      const sev = diagnosisSeverity(d.diagnosis);
      const row = [bySeverity(p, sev, formatEndpoint(d.server)), formatCount(d.attempts)];
      if (mode === "compact" || mode === "stacked") {
        row.push(
          outcomes
            .filter((o) => (d.outcomes[o] ?? 0) > 0)
            .map((o) => `${outcomeCell(o, d.outcomes[o])} ${OUTCOME_INFO[o].label}`)
            .join(mode === "stacked" ? "\n" : ", "),
        );
      } else {
        for (const o of outcomes) {
          const n = d.outcomes[o] ?? 0;
          row.push(n === 0 ? p.dim("-") : outcomeCell(o, n));
        }
      }
      const rtx = (n: number) => (n > 0 ? p.yellow(formatCount(n)) : p.dim("-"));
      if (narrow === "none") row.push(rtx(d.retransmissions.syn), rtx(d.retransmissions.data));
      else row.push(`${rtx(d.retransmissions.syn)}/${rtx(d.retransmissions.data)}`);
      if (narrow === "p50") {
        const p50 = d.rttMs.total ?? d.rttMs.synToSynAck;
        row.push(p50 && p50.count > 0 ? formatMs(p50.p50) : "-");
      } else row.push(rttCell(d.rttMs));
      if (withDiagnosis) row.push(bySeverity(p, sev, DIAGNOSIS_LABEL[d.diagnosis]));
      return row;
    });
    return { cols, rows };
  };

  // Prefer one column per outcome with the full names (what --fail-on and the
  // JSON use); to fit the width fall back to short headers, then to one
  // "outcomes" column listing only the non-zero counts, then drop the
  // diagnosis, then merge the retransmission columns, then one outcome per
  // line, then keep only the median.
  const modes: [Mode, boolean, Narrow][] = [
    ["full", true, "none"],
    ["short", true, "none"],
    ["compact", true, "none"],
    ["compact", false, "none"],
    ["compact", false, "rtx"],
    ["stacked", false, "rtx"],
    ["stacked", false, "p50"],
  ];
  let t = build("full", true);
  let mode: Mode = "full";
  for (const [m, dg, nw] of modes) {
    t = build(m, dg, nw);
    mode = m;
    if (textTableWidth(t.cols, t.rows) + 2 <= width) break;
  }
  const short = mode === "short";

  const lines = [p.bold(`Destinations (${formatCount(all.length)})`), ...textTable(t.cols, t.rows, "  ")];
  if (all.length > dests.length) {
    lines.push(p.dim(`  … and ${plural(all.length - dests.length, "more destination")} (all of them: --format json)`));
  }
  const legend = outcomes.map((o) => `${short ? OUTCOME_INFO[o].short + "=" : ""}${OUTCOME_INFO[o].label} (${OUTCOME_INFO[o].zeek.join("/")})`);
  lines.push(
    ...wrap(
      `Zeek conn_state: ${legend.join(", ")}. rtx = retransmissions. rtt = handshake round trip (SYN to the client's ACK) at the capture point.`,
      width,
      "  ",
    ).map((l) => p.dim(l)),
  );
  return lines;
}

// ---------------------------------------------------------------- examples

function examplesSection(r: Report, groups: ReturnType<typeof groupExamples>, p: Palette, width: number): string[] {
  if (groups.length === 0) return [];
  const totals = new Map<string, number>();
  for (const d of r.destinations) {
    for (const [o, n] of Object.entries(d.outcomes)) totals.set(o, (totals.get(o) ?? 0) + n);
  }
  const lines: string[] = [p.bold("Problem connections")];
  const arrowWidth = Math.max(10, Math.min(24, Math.floor((width - 70) / 1.5)));
  for (const g of groups) {
    const info = OUTCOME_INFO[g.outcome];
    const total = totals.get(g.outcome) ?? g.kept;
    lines.push(
      "",
      `  ${bySeverity(p, info.severity, info.label)}: ${info.meaning}` +
        p.dim(` (${g.shown.length} of ${formatCount(Math.max(total, g.kept))} shown)`),
    );
    for (const c of g.shown) lines.push("", ...exampleLines(c, p, width, arrowWidth));
  }
  return lines;
}

function exampleLines(c: Connection, p: Palette, width: number, arrowWidth: number): string[] {
  const sev = OUTCOME_INFO[c.outcome].severity;
  const head = `  ${p.bold(`#${c.id}`)}  ${formatEndpoint(c.client)} -> ${formatEndpoint(c.server)}  ${bySeverity(
    p,
    sev,
    outcomeLabel(c.outcome, c.zeekState),
  )}`;
  const lines: string[] = [];
  const summary = connectionSummary(c);
  // One line when it fits, else the summary on its own wrapped lines.
  const oneLine = `${head}  ${summary}`;
  if (oneLine.replace(/\x1b\[[0-9;]*m/g, "").length <= width) lines.push(oneLine);
  else lines.push(head, ...wrap(summary, width, "      "));
  const ind = "      ";
  if (c.rst?.suspectedForged && c.rst.forgedReason) {
    lines.push(...wrap(`RST in frame ${c.rst.frame} looks forged: ${c.rst.forgedReason}.`, width, ind).map((l) => p.red(l)));
  }
  if (c.evicted) {
    lines.push(...wrap("Evicted from the full flow table before it finished: this verdict is provisional.", width, ind).map((l) => p.yellow(l)));
  }
  const ladder = ladderLines(c, {
    arrowWidth,
    maxWidth: width - ind.length,
    style: {
      header: (s) => p.dim(s),
      note: (s) => p.dim(s),
      packet: (s, row) => (row.alert ? p.red(s) : s),
    },
  });
  for (const l of ladder) lines.push(ind + l);
  return lines;
}

// ---------------------------------------------------------------- capture

function captureSection(r: Report, p: Palette, width: number): string[] {
  const s = r.source;
  const rows: [string, string, ((x: string) => string)?][] = [];
  if (s.interface !== null) rows.push(["interface", s.interface]);
  if (s.files.length > 0) rows.push([s.files.length === 1 ? "file" : "files", s.files.join(", ")]);
  if (s.filter !== null) rows.push(["filter", s.filter]);
  if (s.firstTs !== null && s.lastTs !== null) {
    const a = formatTimestamp(s.firstTs);
    const b = formatTimestamp(s.lastTs);
    const sameDay = a.slice(0, 10) === b.slice(0, 10);
    rows.push(["time span", `${a} to ${sameDay ? b.slice(11) : b} (${formatDuration(s.durationS)})`]);
  }
  rows.push([
    "packets",
    `${formatCount(s.packets)} read (${formatBytes(s.bytes)}): ${formatCount(s.tcpPackets)} TCP, ${formatCount(
      s.icmpUnreachable,
    )} ICMP unreachable`,
  ]);
  if (s.linkTypes.length > 0) {
    rows.push(["link types", s.linkTypes.map((l) => `${l.name} (${l.linkType}): ${formatCount(l.packets)}`).join("; ")]);
  }
  const skipped = s.skipped.reduce((a, x) => a + x.packets, 0);
  rows.push([
    "skipped",
    skipped === 0 ? "none" : `${plural(skipped, "packet")}: ${s.skipped.map((x) => `${formatCount(x.packets)} ${x.reason}`).join(", ")}`,
  ]);
  if (s.truncated > 0) rows.push(["truncated", `${plural(s.truncated, "TCP packet")} cut by the snap length (still analysed)`]);
  if (s.duplicates > 0) rows.push(["duplicates", `${plural(s.duplicates, "packet")} captured twice, counted once`]);
  const ft = r.flowTable;
  rows.push([
    "flow table",
    `peak ${formatCount(ft.peak)} of ${formatCount(ft.maxFlows)} flows` +
      (ft.evicted > 0 ? `; ${formatCount(ft.evicted)} evicted before they finished (verdicts provisional; raise --max-flows)` : ", none evicted"),
    ft.evicted > 0 ? p.yellow : undefined,
  ]);
  if (s.kernel) {
    const k = s.kernel;
    rows.push([
      "kernel",
      `${formatCount(k.received)} received, ${formatCount(k.dropped)} dropped by the kernel, ${formatCount(k.ifDropped)} by the interface`,
      k.dropped + k.ifDropped > 0 ? p.yellow : undefined,
    ]);
  }
  rows.push(["options", `--syn-timeout ${r.options.synTimeoutS} s, --max-flows ${formatCount(r.options.maxFlows)}; ${r.tool.name} ${r.tool.version}`]);

  const labelW = Math.max(...rows.map(([l]) => l.length));
  const lines: string[] = [p.bold("Capture")];
  for (const [label, value, colour] of rows) {
    const ind = "  " + " ".repeat(labelW + 2);
    const w = wrap(value, width, ind);
    w[0] = "  " + label.padEnd(labelW + 2) + w[0]!.slice(ind.length);
    lines.push(...w.map((l) => (colour ? colour(l) : l)));
  }
  for (const st of s.stopped) {
    lines.push(...wrap(stoppedLine(st), width, "  ").map((l, i) => p.yellow(i === 0 ? l.replace(/^ {2}/, "! ") : l)));
  }
  return lines;
}
