/**
 * `--format markdown`: a report to paste into a GitHub/GitLab issue or a
 * ticket. Plain GFM only (headings, pipe tables, fenced code blocks; no HTML),
 * short enough to paste: the verdict in a sentence or two, a capped
 * destinations table, a few example connections with packet ladders, then how
 * the capture was made.
 *
 * Anything that comes from packets or the command line (file names, filters,
 * the diagnoser's sentences that quote them) is escaped so it cannot break
 * the Markdown: pipes in table cells, backticks, emphasis characters, a
 * leading "#" or "-", HTML-looking text.
 */

import type { Connection, Outcome } from "../flows/connection.js";
import type { Finding } from "../diagnose/types.js";
import type { Report } from "./model.js";
import {
  OUTCOME_INFO,
  completenessIssues,
  connectionSummary,
  DIAGNOSIS_LABEL,
  formatBytes,
  formatCount,
  formatDuration,
  formatEndpoint,
  formatFrames,
  formatTimestamp,
  groupExamples,
  ladderLines,
  outcomeLabel,
  outcomesPresent,
  plural,
  rttCell,
  sortDestinations,
  sortFindings,
  stoppedLine,
  totalAttempts,
} from "./format.js";

export interface MarkdownOptions {
  /** Example connections per kind of problem (default 3). */
  maxExamples?: number;
}

/** Destination rows before "and N more": a ticket is not a spreadsheet. */
const MAX_DESTINATIONS = 20;
const MAX_FINDINGS = 8;

// ---------------------------------------------------------------- escaping

/**
 * Escape text for inline Markdown (paragraphs, list items, table cells);
 * `lineStart` when the text begins a line (then "- x" or "1. x" would start a list).
 * Backslash escapes of ASCII punctuation are part of CommonMark, so GitHub and
 * GitLab render them as the plain character.
 */
export function escapeMarkdown(text: string, opts: { lineStart?: boolean } = {}): string {
  let s = text.replace(/\r?\n|\r/g, " ");
  s = s.replace(/[\\`*_{}[\]<>|~&#!]/g, (c) => "\\" + c);
  if (opts.lineStart) {
    // Block syntax where the text starts a line: list markers, setext
    // underlines, ordered lists ("1." / "1)"); "#" and ">" are escaped above.
    s = s.replace(/^(\s*)([-+=])/, "$1\\$2").replace(/^(\s*\d+)([.)])/, "$1\\$2");
  }
  return s;
}

/** A connection id as `#12` in a code span: GitHub/GitLab would turn a bare #12 into a link to issue 12. */
function connId(id: number): string {
  return "`#" + id + "`";
}

/** An inline code span that survives backticks inside it (CommonMark: a longer backtick run as fence). */
export function codeSpan(text: string): string {
  const s = text.replace(/\r?\n|\r/g, " ");
  let longest = 0;
  for (const m of s.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = "`".repeat(longest + 1);
  const pad = s.startsWith("`") || s.endsWith("`") || s.startsWith(" ") ? " " : "";
  // Pipes end a table cell even inside a code span on GitHub; "\|" is the documented escape there.
  return `${fence}${pad}${s.replace(/\|/g, "\\|")}${pad}${fence}`;
}

/** A fenced code block whose fence is longer than any backtick run inside. */
export function codeBlock(lines: readonly string[], info = "text"): string[] {
  let longest = 2;
  for (const l of lines) for (const m of l.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = "`".repeat(longest + 1);
  return [fence + info, ...lines, fence];
}

function ep(e: { ip: string; port: number }): string {
  return codeSpan(formatEndpoint(e));
}

// ---------------------------------------------------------------- render

export function renderMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const maxExamples = opts.maxExamples ?? 3;
  const out: string[] = [];
  verdict(out, report);
  destinations(out, report);
  examples(out, report, maxExamples);
  capture(out, report);
  return out.join("\n").replace(/\n{3,}/g, "\n\n") + "\n";
}

function findingSentence(f: Finding): string {
  const title = escapeMarkdown(f.title.replace(/\.$/, ""));
  const parts = [`**${title}.**`];
  if (f.detail) parts.push(escapeMarkdown(f.detail));
  if (f.whoCanFix && f.severity !== "info") {
    const who = escapeMarkdown(f.whoCanFix.replace(/\.$/, ""));
    parts.push(/^[a-z]/.test(f.whoCanFix) ? `Take this report to ${who}.` : `Who can fix it: ${who}.`);
  }
  return parts.join(" ");
}

function evidence(f: Finding): string {
  const ev: string[] = [];
  if (f.frames.length > 0) ev.push(`frames ${escapeMarkdown(formatFrames([...f.frames].sort((a, b) => a - b)))}`);
  if (f.exampleConnections.length > 0) {
    ev.push(`connections ${f.exampleConnections.slice(0, 6).map(connId).join(", ")}${f.exampleConnections.length > 6 ? ", …" : ""}`);
  }
  return ev.length > 0 ? `*Evidence: ${ev.join("; ")}*` : "";
}

function verdict(out: string[], r: Report): void {
  const conns = totalAttempts(r.destinations);
  const scope = `${plural(conns, "connection")} to ${plural(r.destinations.length, "destination")}`;
  const problems = r.findings.filter((f) => f.severity === "problem").length;
  const warnings = r.findings.filter((f) => f.severity === "warning").length;
  const sorted = sortFindings(r.findings);

  if (conns === 0) {
    out.push(`## synsent: no TCP connections found`, "");
    out.push(
      r.source.tcpPackets === 0
        ? `The capture holds no TCP packets (${plural(r.source.packets, "packet")} read). ${r.source.interface !== null ? "Check the capture filter and the interface." : "Check the filter it was captured with."}`
        : `TCP packets were read, but none belonged to a connection synsent could follow.`,
    );
  } else if (problems + warnings === 0) {
    out.push(`## synsent: no problems found`, "", `All ${scope} look healthy: no unanswered SYNs, refusals, ICMP rejections or resets.`);
  } else {
    const parts = [problems > 0 ? plural(problems, "problem") : "", warnings > 0 ? plural(warnings, "warning") : ""].filter((s) => s);
    out.push(`## synsent: ${parts.join(" and ")} in ${scope}`, "");
    const first = sorted[0]!;
    out.push(findingSentence(first));
    const ev = evidence(first);
    if (ev) out.push("", ev);
  }

  const rest = conns === 0 ? sorted : sorted.slice(1);
  const shown = rest.filter((f) => f.severity !== "info").slice(0, MAX_FINDINGS);
  const infos = rest.filter((f) => f.severity === "info").slice(0, Math.max(0, MAX_FINDINGS - shown.length));
  const list = [...shown, ...infos];
  if (list.length > 0) {
    out.push("", conns > 0 && problems + warnings > 0 ? "Also found:" : "Notes:", "");
    for (const f of list) {
      const tag = f.severity === "problem" ? "Problem" : f.severity === "warning" ? "Warning" : "Note";
      const ev = evidence(f);
      out.push(`- **${tag}:** ${findingSentence(f)}${ev ? " " + ev : ""}`);
    }
    if (rest.length > list.length) out.push(`- …and ${plural(rest.length - list.length, "more finding")} (see \`--format json\`)`);
  }

  const issues = completenessIssues(r);
  if (issues.length > 0) {
    out.push("", `> **Note:** the capture is incomplete: ${escapeMarkdown(issues.join("; "))}. See *How the capture was made* below.`);
  }
}

function destinations(out: string[], r: Report): void {
  if (r.destinations.length === 0) return;
  const dests = sortDestinations(r.destinations).slice(0, MAX_DESTINATIONS);
  const outcomes = outcomesPresent(r.destinations);
  out.push("", `### Destinations (${formatCount(r.destinations.length)})`, "");
  out.push("| server | attempts | outcomes | SYN rtx | data rtx | rtt ms p50/p90/max | diagnosis |");
  out.push("|:--|--:|:--|--:|--:|--:|:--|");
  for (const d of dests) {
    const oc = outcomes
      .filter((o) => (d.outcomes[o] ?? 0) > 0)
      .map((o) => `${formatCount(d.outcomes[o])} ${OUTCOME_INFO[o].label}`)
      .join(", ");
    const diag = d.diagnosis === "healthy" ? "healthy" : `**${escapeMarkdown(DIAGNOSIS_LABEL[d.diagnosis])}**`;
    out.push(
      `| ${ep(d.server)} | ${formatCount(d.attempts)} | ${oc || "-"} | ${formatCount(d.retransmissions.syn)} | ${formatCount(
        d.retransmissions.data,
      )} | ${rttCell(d.rttMs)} | ${diag} |`,
    );
  }
  if (r.destinations.length > dests.length) {
    out.push("", `…and ${plural(r.destinations.length - dests.length, "more destination")} (all of them: \`--format json\`).`);
  }
  const legend = outcomes.map((o) => `${OUTCOME_INFO[o].label} = ${OUTCOME_INFO[o].zeek.join("/")}`).join(", ");
  out.push("", `*Zeek conn_state: ${escapeMarkdown(legend)}. rtx = retransmissions. rtt = handshake round trip (SYN to the client's ACK) at the capture point.*`);
}

function examples(out: string[], r: Report, maxExamples: number): void {
  const groups = groupExamples(r.examples, maxExamples);
  if (groups.length === 0) return;
  const totals = new Map<Outcome, number>();
  for (const d of r.destinations) for (const o of Object.keys(d.outcomes) as Outcome[]) totals.set(o, (totals.get(o) ?? 0) + d.outcomes[o]);
  out.push("", "### Example connections", "");
  out.push("Frame numbers are those of the capture (Wireshark: `frame.number == N`); times are seconds since the connection's first packet.");
  for (const g of groups) {
    const info = OUTCOME_INFO[g.outcome];
    const total = Math.max(totals.get(g.outcome) ?? 0, g.kept);
    out.push("", `#### ${info.label}: ${escapeMarkdown(info.meaning)} (${g.shown.length} of ${formatCount(total)} shown)`);
    for (const c of g.shown) exampleBlock(out, c);
  }
}

function exampleBlock(out: string[], c: Connection): void {
  out.push(
    "",
    `**${connId(c.id)}** ${ep(c.client)} → ${ep(c.server)}: ${escapeMarkdown(outcomeLabel(c.outcome, c.zeekState))}, ${escapeMarkdown(connectionSummary(c))}`,
  );
  const notes: string[] = [];
  if (c.rst?.suspectedForged && c.rst.forgedReason) notes.push(`RST in frame ${c.rst.frame} looks forged: ${c.rst.forgedReason}.`);
  if (c.evicted) notes.push("Evicted from the full flow table before it finished: this verdict is provisional.");
  if (notes.length > 0) out.push("", escapeMarkdown(notes.join(" ")));
  out.push("", ...codeBlock(ladderLines(c, { arrowWidth: 16, maxWidth: 100 })));
}

function capture(out: string[], r: Report): void {
  const s = r.source;
  out.push("", "### How the capture was made", "");
  const items: string[] = [];
  if (s.interface !== null) items.push(`**Interface:** ${escapeMarkdown(s.interface)} (live capture)`);
  if (s.files.length > 0) items.push(`**${s.files.length === 1 ? "File" : "Files"}:** ${s.files.map((f) => escapeMarkdown(f)).join(", ")}`);
  if (s.filter !== null) items.push(`**Filter:** ${codeSpan(s.filter)}`);
  if (s.firstTs !== null && s.lastTs !== null) {
    items.push(`**Time span:** ${formatTimestamp(s.firstTs)} to ${formatTimestamp(s.lastTs)} (${formatDuration(s.durationS)})`);
  }
  items.push(
    `**Packets:** ${formatCount(s.packets)} (${formatBytes(s.bytes)}): ${formatCount(s.tcpPackets)} TCP, ${formatCount(s.icmpUnreachable)} ICMP unreachable`,
  );
  const skipped = s.skipped.reduce((a, x) => a + x.packets, 0);
  if (skipped > 0) {
    items.push(`**Skipped:** ${plural(skipped, "packet")}: ${s.skipped.map((x) => `${formatCount(x.packets)} ${escapeMarkdown(x.reason)}`).join(", ")}`);
  }
  if (s.linkTypes.length > 0) {
    items.push(`**Link types:** ${s.linkTypes.map((l) => `${escapeMarkdown(l.name)} (${l.linkType}): ${formatCount(l.packets)}`).join("; ")}`);
  }
  if (s.truncated > 0) items.push(`**Truncated:** ${plural(s.truncated, "TCP packet")} cut by the snap length (still analysed)`);
  if (s.duplicates > 0) items.push(`**Duplicates:** ${plural(s.duplicates, "packet")} captured twice, counted once`);
  if (s.kernel) {
    items.push(
      `**Kernel:** ${formatCount(s.kernel.received)} received, ${formatCount(s.kernel.dropped)} dropped by the kernel, ${formatCount(
        s.kernel.ifDropped,
      )} by the interface`,
    );
  }
  const ft = r.flowTable;
  if (ft.evicted > 0) {
    items.push(`**Flow table:** ${formatCount(ft.evicted)} flows evicted (peak ${formatCount(ft.peak)} of ${formatCount(ft.maxFlows)}): their verdicts are provisional`);
  }
  for (const st of s.stopped) items.push(`**Damaged file:** ${escapeMarkdown(stoppedLine(st))}`);
  for (const i of items) out.push(`- ${i}`);
  out.push(
    "",
    `*${escapeMarkdown(`Report by ${r.tool.name} ${r.tool.version} (--syn-timeout ${r.options.synTimeoutS} s, --max-flows ${r.options.maxFlows}).`)}*`,
  );
}
