/**
 * Pure formatting helpers shared by every report format (text, Markdown, and
 * the HTML report may reuse them): numbers, durations, outcome labels with
 * their Zeek equivalents, ICMP code names, plain-text tables, word wrapping,
 * packet ladders and optional ANSI colour.
 *
 * Nothing here does I/O or keeps state; every function returns a new string
 * (or array of strings) from its arguments.
 */

import { OUTCOMES, PROBLEM_OUTCOMES, type Connection, type LadderStep, type Outcome } from "../flows/connection.js";
import type { DiagnosisKind, Percentiles, Severity } from "../diagnose/types.js";

// ---------------------------------------------------------------- numbers

/** 1234567 -> "1,234,567" (fixed "," grouping, independent of the locale). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const neg = n < 0;
  const [int, frac] = Math.abs(n).toString().split(".") as [string, string | undefined];
  let out = "";
  for (let i = 0; i < int.length; i++) {
    if (i > 0 && (int.length - i) % 3 === 0) out += ",";
    out += int[i];
  }
  return (neg ? "-" : "") + out + (frac !== undefined ? "." + frac : "");
}

/** Share of `part` in `total` as "33%", "0.4%", "<0.1%"; "-" when total is 0. */
export function percent(part: number, total: number): string {
  if (total <= 0) return "-";
  const p = (part / total) * 100;
  if (p === 0) return "0%";
  if (p < 0.1) return "<0.1%";
  if (p < 10 && Math.round(p) !== p) return p.toFixed(1) + "%";
  return Math.round(p) + "%";
}

/** A millisecond value as a bare number with sensible precision: 0.412, 3.25, 41.7, 1203. */
export function formatMsNumber(ms: number): string {
  const a = Math.abs(ms);
  // Decide on the rounded value, so 0.9999996 prints "1.00", not "1.000".
  if (Math.round(a * 1000) < 1000) return ms.toFixed(3);
  if (Math.round(a * 100) < 1000) return ms.toFixed(2);
  if (Math.round(a * 10) < 10000) return ms.toFixed(1);
  return Math.round(ms).toString();
}

/** Milliseconds with a unit: "0.412 ms", "41.7 ms", "1.20 s". */
export function formatMs(ms: number): string {
  if (Math.abs(ms) >= 1000) return (ms / 1000).toFixed(2) + " s";
  return formatMsNumber(ms) + " ms";
}

/** Seconds with a unit a person reads at a glance: "850 ms", "7.0 s", "2 min 5 s", "1 h 3 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const a = Math.abs(seconds);
  const sign = seconds < 0 ? "-" : "";
  if (a === 0) return "0 s";
  if (a < 1) return sign + formatMs(a * 1000);
  if (a < 60) return sign + a.toFixed(1) + " s";
  if (a < 3600) {
    const m = Math.floor(a / 60);
    const s = Math.floor(a - m * 60);
    return sign + (s ? `${m} min ${s} s` : `${m} min`);
  }
  const h = Math.floor(a / 3600);
  const m = Math.floor((a - h * 3600) / 60);
  return sign + (m ? `${h} h ${m} min` : `${h} h`);
}

/** Bytes as "512 B", "1.2 kB", "3.4 MB", "1.1 GB" (powers of 1000, like tcpdump's peers). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** Epoch seconds as "2026-11-23 18:00:01.123456 UTC" (µs kept: frames are told apart by it). */
export function formatTimestamp(ts: number): string {
  // Date covers ±8.64e15 ms; a broken file can claim anything.
  if (!Number.isFinite(ts) || Math.abs(ts) > 8.64e12) return `${ts} (epoch seconds, out of range)`;
  const whole = Math.floor(ts);
  let micros = Math.round((ts - whole) * 1e6);
  let sec = whole;
  if (micros >= 1e6) {
    micros -= 1e6;
    sec += 1;
  }
  const iso = new Date(sec * 1000).toISOString(); // 2026-11-23T18:00:01.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(micros).padStart(6, "0")} UTC`;
}

/** "ip:port", with IPv6 in brackets as in URLs (RFC 3986), so the port is unambiguous. */
export function formatEndpoint(ep: { ip: string; port: number }): string {
  return ep.ip.includes(":") ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

/** "1 SYN", "4 SYNs", "1 connection", "3 connections". */
export function plural(n: number, one: string, many = one + "s"): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** A bounded list of frame numbers: "12, 19, 33" or "12, 19, 33, … (40 in all)". */
export function formatFrames(frames: readonly number[], max = 8): string {
  if (frames.length <= max) return frames.join(", ");
  return `${frames.slice(0, max).join(", ")}, … (${formatCount(frames.length)} in all)`;
}

// ---------------------------------------------------------------- outcomes

export interface OutcomeInfo {
  /** The outcome name as in JSON and the table header. */
  label: string;
  /** A short table header when the full names do not fit. */
  short: string;
  /** Zeek conn_state values this outcome corresponds to. */
  zeek: readonly string[];
  /** Plain-language meaning, one phrase. */
  meaning: string;
  severity: Severity | "ok";
}

/**
 * Outcome vocabulary, with the Zeek conn.log `conn_state` values each one maps
 * to, so users can check synsent against Zeek (see STYLE.md). Zeek logs an
 * ICMP-rejected attempt as S0 (the ICMP error is a separate conn.log entry).
 */
export const OUTCOME_INFO: Record<Outcome, OutcomeInfo> = {
  unanswered: { label: "unanswered", short: "unans", zeek: ["S0"], meaning: "SYNs got no answer", severity: "problem" },
  refused: { label: "refused", short: "refused", zeek: ["REJ"], meaning: "SYN answered by a reset", severity: "problem" },
  "icmp-rejected": {
    label: "icmp-rejected",
    short: "icmp",
    zeek: ["S0"],
    meaning: "SYN answered by an ICMP destination-unreachable",
    severity: "problem",
  },
  "aborted-by-client": {
    label: "aborted-by-client",
    short: "aborted",
    zeek: ["RSTOS0"],
    meaning: "client gave up with a reset before any answer",
    severity: "warning",
  },
  "synack-unacked": {
    label: "synack-unacked",
    short: "unacked",
    zeek: ["S1", "SH"],
    meaning: "server answered, client's ACK never seen",
    severity: "problem",
  },
  established: { label: "established", short: "estab", zeek: ["S1"], meaning: "handshake done, still open", severity: "ok" },
  closed: { label: "closed", short: "closed", zeek: ["SF", "S2", "S3"], meaning: "handshake done, closed with FIN", severity: "ok" },
  reset: { label: "reset", short: "reset", zeek: ["RSTO", "RSTR"], meaning: "handshake done, then reset", severity: "problem" },
  midstream: { label: "midstream", short: "midstr", zeek: ["OTH"], meaning: "no SYN seen (started before the capture)", severity: "info" },
  pending: {
    label: "pending",
    short: "pending",
    zeek: ["S0"],
    meaning: "capture ended too soon after the SYN to tell",
    severity: "info",
  },
};

/** "unanswered (S0)": the plain name with the connection's own Zeek state. */
export function outcomeLabel(outcome: Outcome, zeekState?: string): string {
  const z = zeekState && zeekState.length > 0 ? zeekState : OUTCOME_INFO[outcome].zeek[0];
  return `${OUTCOME_INFO[outcome].label} (${z})`;
}

export const DIAGNOSIS_LABEL: Record<DiagnosisKind, string> = {
  healthy: "healthy",
  "silent-drop": "SYNs dropped silently",
  refused: "connections refused",
  "icmp-rejected": "rejected by ICMP",
  "synack-unacked": "SYN-ACKs not acknowledged",
  "retried-handshake": "handshakes needed retries",
  "reset-after-established": "connections reset",
  "forged-rst": "resets look forged",
  "aborted-by-client": "clients gave up",
  "data-retransmissions": "data retransmitted",
};

// ---------------------------------------------------------------- ICMP

const ICMP4_UNREACH: Record<number, string> = {
  0: "network unreachable",
  1: "host unreachable",
  2: "protocol unreachable",
  3: "port unreachable",
  4: "fragmentation needed",
  5: "source route failed",
  6: "destination network unknown",
  7: "destination host unknown",
  8: "source host isolated",
  9: "network administratively prohibited",
  10: "host administratively prohibited",
  11: "network unreachable for TOS",
  12: "host unreachable for TOS",
  13: "communication administratively prohibited",
  14: "host precedence violation",
  15: "precedence cutoff in effect",
};

const ICMP6_UNREACH: Record<number, string> = {
  0: "no route to destination",
  1: "communication administratively prohibited",
  2: "beyond scope of source address",
  3: "address unreachable",
  4: "port unreachable",
  5: "source address failed ingress/egress policy",
  6: "reject route to destination",
  7: "error in source routing header",
};

/** Name of an ICMP destination-unreachable code (RFC 792/1812 for v4, RFC 4443 for v6). */
export function icmpDescription(ipVersion: 4 | 6, type: number, code: number): string {
  if (ipVersion === 4 && type === 3) return ICMP4_UNREACH[code] ?? `unreachable code ${code}`;
  if (ipVersion === 6 && type === 1) return ICMP6_UNREACH[code] ?? `unreachable code ${code}`;
  return `type ${type} code ${code}`;
}

/** "ICMP 3/13" or "ICMPv6 1/1". */
export function icmpTag(ipVersion: 4 | 6, type: number, code: number): string {
  return `${ipVersion === 6 ? "ICMPv6" : "ICMP"} ${type}/${code}`;
}

// ---------------------------------------------------------------- connection one-liners

/** What happened to one connection, in a few words with numbers: "4 SYNs over 7.0 s, no answer". */
export function connectionSummary(c: Connection): string {
  const span = formatDuration(Math.max(0, c.lastTs - c.firstTs));
  const syns = plural(c.syn, "SYN");
  let s: string;
  switch (c.outcome) {
    case "unanswered":
      s = c.syn > 1 ? `${syns} over ${span}, no answer` : `${syns}, no answer`;
      break;
    case "pending":
      s = `${syns}, capture ended ${span} after the first`;
      break;
    case "refused":
      s = c.rst ? `${syns}, reset by the ${c.rst.from} after ${formatMs((c.rst.ts - c.firstTs) * 1000)}` : `${syns}, reset`;
      break;
    case "icmp-rejected":
      s = c.icmp
        ? `${syns}, ${icmpTag(c.ipVersion, c.icmp.type, c.icmp.code)} ${icmpDescription(c.ipVersion, c.icmp.type, c.icmp.code)} from ${c.icmp.from}`
        : `${syns}, ICMP unreachable`;
      break;
    case "aborted-by-client":
      s = `${syns}, then the client reset it after ${span}`;
      break;
    case "synack-unacked":
      s = `${syns}, ${plural(c.synAck, "SYN-ACK")} over ${span}, client's ACK never seen`;
      break;
    case "reset":
      s = c.rst
        ? `reset by the ${c.rst.from} ${formatDuration(Math.max(0, c.rst.ts - c.firstTs))} after the SYN`
        : `reset after ${span}`;
      if (c.rst?.suspectedForged) s += " (RST looks forged)";
      break;
    case "established":
      s = `open at end of capture, ${plural(c.packets.client + c.packets.server, "packet")}`;
      break;
    case "closed":
      s = `closed after ${span}, ${plural(c.packets.client + c.packets.server, "packet")}`;
      break;
    case "midstream":
      s = `no SYN seen, ${plural(c.packets.client + c.packets.server, "packet")} over ${span}`;
      break;
  }
  if (c.handshakeRttMs) s += `, handshake ${formatMs(c.handshakeRttMs.total)}`;
  if (c.retransmissions.data > 0) s += `, ${plural(c.retransmissions.data, "data retransmission")}`;
  return s;
}

// ---------------------------------------------------------------- text layout

const ANSI_RE = /\x1b\[[0-9;]*m/g;

/** Printed width of a string: ANSI colour codes excluded, every code point one column. */
export function visibleWidth(s: string): number {
  let n = 0;
  for (const _ of s.replace(ANSI_RE, "")) n++;
  return n;
}

export function padEnd(s: string, width: number): string {
  const w = visibleWidth(s);
  return w >= width ? s : s + " ".repeat(width - w);
}

export function padStart(s: string, width: number): string {
  const w = visibleWidth(s);
  return w >= width ? s : " ".repeat(width - w) + s;
}

/**
 * Word-wrap plain text to `width` columns, every line prefixed with `indent`.
 * Words longer than the line (long IPv6 addresses, file paths) are kept whole
 * rather than broken: a broken address cannot be copied.
 */
export function wrap(text: string, width: number, indent = ""): string[] {
  const avail = Math.max(20, width - visibleWidth(indent));
  const out: string[] = [];
  for (const para of text.split("\n")) {
    const words = para.split(/\s+/).filter((w) => w.length > 0);
    let line = "";
    for (const w of words) {
      if (line.length === 0) line = w;
      else if (visibleWidth(line) + 1 + visibleWidth(w) <= avail) line += " " + w;
      else {
        out.push(indent + line);
        line = w;
      }
    }
    out.push(indent + line);
  }
  return out;
}

export interface Column {
  header: string;
  align: "left" | "right";
}

/**
 * A plain-text table: header row, a rule, then rows. Cells may contain ANSI
 * colour (widths ignore it) and "\n" (the row then takes several lines).
 * Columns are separated by two spaces.
 */
export function textTable(columns: readonly Column[], rows: readonly string[][], indent = ""): string[] {
  const widths = columnWidths(columns, rows);
  const line = (cells: readonly string[]): string =>
    (
      indent +
      columns
        .map((c, i) => (c.align === "right" ? padStart(cells[i] ?? "", widths[i]!) : padEnd(cells[i] ?? "", widths[i]!)))
        .join("  ")
    ).trimEnd();
  const out = [line(columns.map((c) => c.header)), indent + widths.map((w) => "─".repeat(w)).join("  ")];
  for (const r of rows) {
    const split = columns.map((_, i) => (r[i] ?? "").split("\n"));
    const height = Math.max(...split.map((x) => x.length));
    for (let k = 0; k < height; k++) out.push(line(split.map((x) => x[k] ?? "")));
  }
  return out;
}

function columnWidths(columns: readonly Column[], rows: readonly string[][]): number[] {
  return columns.map((c, i) =>
    Math.max(visibleWidth(c.header), ...rows.flatMap((r) => (r[i] ?? "").split("\n").map(visibleWidth))),
  );
}

/** Width a textTable would have. */
export function textTableWidth(columns: readonly Column[], rows: readonly string[][]): number {
  return columnWidths(columns, rows).reduce((a, w) => a + w, 0) + 2 * Math.max(0, columns.length - 1);
}

// ---------------------------------------------------------------- colour

export interface Palette {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const identity = (s: string): string => s;
const sgr =
  (open: number, close: number) =>
  (s: string): string =>
    s.length === 0 ? s : `\x1b[${open}m${s}\x1b[${close}m`;

/** ANSI colours when `enabled`, else functions that return their input unchanged (no escape codes at all). */
export function palette(enabled: boolean): Palette {
  if (!enabled) return { red: identity, yellow: identity, green: identity, dim: identity, bold: identity };
  return { red: sgr(31, 39), yellow: sgr(33, 39), green: sgr(32, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/** Colour a string by severity: problem red, warning yellow, ok green, info dim. */
export function bySeverity(p: Palette, sev: Severity | "ok", s: string): string {
  switch (sev) {
    case "problem":
      return p.red(s);
    case "warning":
      return p.yellow(s);
    case "ok":
      return p.green(s);
    case "info":
      return p.dim(s);
  }
}

// ---------------------------------------------------------------- packet ladder

export interface LadderRow {
  frame: number;
  /** Seconds since the connection's first packet. */
  time: number;
  /** Who sent it. */
  from: LadderStep["from"];
  /** What it was, e.g. "SYN seq=0", "RST,ACK seq=1 ack=1 ttl=64", "ICMP 3/13 from 192.0.2.254". */
  label: string;
  /** "retransmission", "suspected forged", ... or "". */
  note: string;
  /** True for the packet that decided the verdict (RST, ICMP error) when it deserves attention. */
  alert: boolean;
}

function stepLabel(c: Connection, s: LadderStep): string {
  if (s.from === "icmp") {
    let l = s.flags;
    if (c.icmp && c.icmp.frame === s.frame) {
      l = `${icmpTag(c.ipVersion, c.icmp.type, c.icmp.code)} from ${c.icmp.from}`;
    }
    return l;
  }
  const flags = s.flags.split(",");
  const syn = flags.includes("SYN");
  const ack = flags.includes("ACK");
  const rst = flags.includes("RST");
  const parts = [s.flags];
  if (syn || rst || s.len > 0) parts.push(`seq=${s.seq}`);
  if (ack && !(rst && !syn && s.ack === 0)) parts.push(`ack=${s.ack}`);
  if (s.len > 0) parts.push(`len=${s.len}`);
  if (rst) parts.push(`ttl=${s.ttl}`);
  return parts.join(" ");
}

function stepNote(c: Connection, s: LadderStep): { note: string; alert: boolean } {
  const notes: string[] = [];
  let alert = false;
  if (s.note) notes.push(s.note);
  if (c.rst && c.rst.frame === s.frame && s.from !== "icmp") {
    alert = true;
    // The reason (TTL/IP ID mismatch) is long: reports print it under the ladder.
    if (c.rst.suspectedForged) notes.push("suspected forged");
  }
  // ICMP code names are long; the connection's summary line names them.
  if (s.from === "icmp") alert = true;
  return { note: notes.join("; "), alert };
}

/** The ladder of a connection as rows (data only; see ladderLines for layout). */
export function ladderRows(c: Connection): LadderRow[] {
  const t0 = c.ladder.length > 0 ? Math.min(c.firstTs, c.ladder[0]!.ts) : c.firstTs;
  return c.ladder.map((s) => {
    const { note, alert } = stepNote(c, s);
    return { frame: s.frame, time: s.ts - t0, from: s.from, label: stepLabel(c, s), note, alert };
  });
}

export interface LadderStyle {
  /** Header line ("frame  time(s)  client ... server"). */
  header?(s: string): string;
  /** The "(retransmission)" notes. */
  note?(s: string, row: LadderRow | null): string;
  /** The arrow and label of a row, e.g. to colour a forged RST red. */
  packet?(s: string, row: LadderRow): string;
}

/**
 * A packet ladder as fixed-width lines: client-sent packets on the left with an
 * arrow to the server, server-sent ones on the right with an arrow back, and
 * ICMP errors (sent by a router or firewall, not necessarily the server) as a
 * dotted arrow. Times are seconds since the connection's first packet; frame
 * numbers are those of the capture (Wireshark's "No." column).
 *
 * Lines have no trailing spaces and carry no indentation (callers add it).
 * `maxWidth` shrinks the arrows so rows fit (labels are never cut).
 */
export function ladderLines(
  c: Connection,
  opts: { arrowWidth?: number; maxWidth?: number; style?: LadderStyle } = {},
): string[] {
  const rows = ladderRows(c);
  const st = opts.style ?? {};
  const frameW = Math.max(5, ...rows.map((r) => String(r.frame).length));
  // µs, like Wireshark's time column: a RST 0.4 ms after the SYN must not read 0.000.
  const timeStr = rows.map((r) => r.time.toFixed(6));
  const timeW = Math.max(7, ...timeStr.map((t) => t.length));
  const leftW = Math.max(6, ...rows.filter((r) => r.from === "client").map((r) => visibleWidth(r.label)));
  let arrowW = Math.max(8, opts.arrowWidth ?? 24);
  if (opts.maxWidth !== undefined) {
    // Shrink the arrows (never below 8) so the widest row fits.
    const fixed = frameW + 2 + timeW + 2 + leftW + 1;
    let widest = 0;
    for (const r of rows) {
      const note = r.note ? r.note.length + 4 : 0;
      widest = Math.max(widest, r.from === "client" ? note : 2 + r.label.length + note);
    }
    arrowW = Math.max(8, Math.min(arrowW, opts.maxWidth - fixed - widest));
  }
  const header = `${padStart("frame", frameW)}  ${padStart("time(s)", timeW)}  ${padEnd("client", leftW)} ${" ".repeat(arrowW - 6)}server`;
  const out = [st.header ? st.header(header) : header];
  rows.forEach((r, i) => {
    let body: string;
    if (r.from === "client") {
      body = `${padEnd(r.label, leftW)} ${"─".repeat(arrowW - 1)}▶`;
    } else if (r.from === "server") {
      body = `${" ".repeat(leftW)} ◀${"─".repeat(arrowW - 1)} ${r.label}`;
    } else {
      body = `${" ".repeat(leftW)} ◀${"┄".repeat(arrowW - 1)} ${r.label}`;
    }
    if (st.packet) {
      // Style only the non-blank part so padding stays plain.
      const lead = body.length - body.trimStart().length;
      body = body.slice(0, lead) + st.packet(body.slice(lead), r);
    }
    let line = `${padStart(String(r.frame), frameW)}  ${padStart(timeStr[i]!, timeW)}  ${body}`;
    if (r.note) line += "  " + (st.note ? st.note(`(${r.note})`, r) : `(${r.note})`);
    out.push(line.trimEnd());
  });
  if (c.ladderTruncated) {
    const total = c.packets.client + c.packets.server;
    const more = total - c.ladder.length;
    const msg = more > 0 ? `… ${plural(more, "more packet")} not shown` : "… later packets not shown";
    out.push(`${" ".repeat(frameW + timeW + 4)}${st.note ? st.note(msg, null) : msg}`);
  }
  return out;
}

// ---------------------------------------------------------------- shared report structure

/** How bad a destination's diagnosis is, for colour and sorting. */
export function diagnosisSeverity(kind: DiagnosisKind): Severity | "ok" {
  switch (kind) {
    case "healthy":
      return "ok";
    case "retried-handshake":
    case "aborted-by-client":
    case "data-retransmissions":
      return "warning";
    default:
      return "problem";
  }
}

const SEVERITY_RANK: Record<Severity | "ok", number> = { problem: 0, warning: 1, info: 2, ok: 3 };

/** Findings, worst first; the diagnoser's order is kept within a severity. */
export function sortFindings<T extends { severity: Severity }>(findings: readonly T[]): T[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_RANK[a.f.severity] - SEVERITY_RANK[b.f.severity] || a.i - b.i)
    .map((x) => x.f);
}

/** Destinations with problems first, then warnings, then healthy; the diagnoser's order is kept within each group. */
export function sortDestinations<T extends { diagnosis: DiagnosisKind }>(dests: readonly T[]): T[] {
  return dests
    .map((d, i) => ({ d, i }))
    .sort(
      (a, b) =>
        SEVERITY_RANK[diagnosisSeverity(a.d.diagnosis)] - SEVERITY_RANK[diagnosisSeverity(b.d.diagnosis)] || a.i - b.i,
    )
    .map((x) => x.d);
}

/**
 * Example connections grouped by outcome (problem outcomes first, in
 * PROBLEM_OUTCOMES order), at most `max` per outcome, in the order given.
 */
export function groupExamples(examples: readonly Connection[], max: number): { outcome: Outcome; shown: Connection[]; kept: number }[] {
  const order: Outcome[] = [...PROBLEM_OUTCOMES, ...OUTCOMES.filter((o) => !PROBLEM_OUTCOMES.includes(o))];
  const out: { outcome: Outcome; shown: Connection[]; kept: number }[] = [];
  for (const o of order) {
    const all = examples.filter((c) => c.outcome === o);
    if (all.length === 0) continue;
    out.push({ outcome: o, shown: all.slice(0, Math.max(0, max)), kept: all.length });
  }
  return out.filter((g) => g.shown.length > 0);
}

/** Outcomes with a non-zero count in at least one destination, in OUTCOMES order. */
export function outcomesPresent(dests: readonly { outcomes: Record<Outcome, number> }[]): Outcome[] {
  return OUTCOMES.filter((o) => dests.some((d) => (d.outcomes[o] ?? 0) > 0));
}

/** "0.41/0.52/1.21" (ms) from the destination's handshake percentiles, "-" when none completed. */
export function rttCell(rtt: { synToSynAck: Percentiles | null; total: Percentiles | null }): string {
  // total (SYN -> SYN-ACK -> ACK) is one full round trip wherever the capture
  // was taken; SYN -> SYN-ACK alone is ~0 on a capture made at the server.
  const p = rtt.total ?? rtt.synToSynAck;
  if (!p || p.count === 0) return "-";
  return `${formatMsNumber(p.p50)}/${formatMsNumber(p.p90)}/${formatMsNumber(p.max)}`;
}

/** Total connections across destinations (report.connections may be empty when streamed). */
export function totalAttempts(dests: readonly { attempts: number }[]): number {
  return dests.reduce((a, d) => a + d.attempts, 0);
}

/** One line per damaged file, the wording every format uses. */
export function stoppedLine(s: { file: string; record: number; offset: number; reason: string }): string {
  return `file ${s.file}: reading stopped at record ${s.record} (byte offset ${s.offset}): ${s.reason}; the analysis covers what came before`;
}

/**
 * Why the report may be incomplete, one short phrase each (damaged files,
 * evicted flows, kernel drops): shown next to the verdict, since a dropped
 * SYN-ACK in the capture looks exactly like an unanswered SYN.
 */
export function completenessIssues(r: {
  source: { stopped: readonly unknown[]; kernel: { dropped: number; ifDropped: number } | null };
  flowTable: { evicted: number };
}): string[] {
  const out: string[] = [];
  const st = r.source.stopped.length;
  if (st > 0) out.push(`${st === 1 ? "1 file was" : `${st} files were`} damaged part-way (only what came before was analysed)`);
  if (r.flowTable.evicted > 0) {
    out.push(`${plural(r.flowTable.evicted, "flow")} evicted from the full flow table (their verdicts are provisional; raise --max-flows)`);
  }
  const k = r.source.kernel;
  if (k && k.dropped + k.ifDropped > 0) {
    out.push(`${plural(k.dropped + k.ifDropped, "packet")} lost while capturing (kernel/interface drops): a missing answer may be a missed packet`);
  }
  return out;
}
