/**
 * `--format html`: one self-contained HTML file for a ticket. Inline CSS and
 * inline SVG only: no scripts, no fonts, no images, no network access needed
 * to view or print it. Same content as the Markdown report (verdict first,
 * destinations, example connections per problem, how the capture was made),
 * plus a timeline of connection attempts and a packet ladder per example.
 *
 * Everything that comes from packets or file names is escaped (`esc`).
 * Outcomes are shown with colour AND their name, never colour alone.
 */
import { OUTCOMES, PROBLEM_OUTCOMES, type Connection, type Outcome } from "../flows/connection.js";
import type { Destination, Finding, Percentiles } from "../diagnose/types.js";
import {
  connectionSummary,
  DIAGNOSIS_LABEL,
  formatBytes,
  formatCount,
  formatDuration,
  formatEndpoint,
  formatFrames,
  formatMs,
  formatTimestamp,
  icmpDescription,
  icmpTag,
  OUTCOME_INFO,
  percent,
  plural,
} from "./format.js";
import type { Report } from "./model.js";
import { esc, ladderSvg, swatch, TIMELINE_ORDER, timelineSvg, type TimelineInput } from "./svg.js";

export { TimelineCollector } from "./svg.js";

export interface HtmlOptions {
  /** Example connections shown per finding (default 3). */
  maxExamples?: number;
  /** Page title (default "synsent report"). */
  title?: string;
  /**
   * Where the timeline reads connections from when `report.connections` is
   * empty (the CLI streams connections instead of keeping them): a
   * TimelineCollector fed from the pipeline's onConnection.
   */
  timeline?: TimelineInput;
  /** Destination rows shown before the table is cut (default 200; the rest are counted). */
  maxDestinations?: number;
  /** Set when the report was anonymized: the sentence to show (Anonymizer.describe()). */
  anonymized?: string | null;
}


const CSS = `
:root{--bg:#fff;--fg:#1d2330;--muted:#5b6475;--line:#d8dde6;--panel:#f5f7fa;--accent:#1f5fbf;
--problem:#b3261e;--problem-bg:#fdecea;--warning:#8a5a00;--warning-bg:#fff4dc;--ok:#1e7a3c;--ok-bg:#e7f5ec;--info:#4a5568;--info-bg:#eef1f5;
--c-unanswered:#c62828;--c-refused:#ef6c00;--c-icmp:#7b1fa2;--c-unacked:#d81b60;--c-reset:#8d4a00;--c-aborted:#a1887f;
--c-pending:#b0bec5;--c-midstream:#78909c;--c-established:#26a69a;--c-closed:#2e7d32;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--fg:#e3e7ee;--muted:#9aa4b5;--line:#323946;--panel:#1c2129;--accent:#7fb0ff;
--problem:#ff8a80;--problem-bg:#3a1e1e;--warning:#ffd180;--warning-bg:#3a3020;--ok:#81c995;--ok-bg:#1b3325;--info:#b0bac9;--info-bg:#252b35;
--c-unanswered:#ef5350;--c-refused:#ffa726;--c-icmp:#ba68c8;--c-unacked:#f06292;--c-reset:#c77c3a;--c-aborted:#bcaaa4;
--c-pending:#90a4ae;--c-midstream:#78909c;--c-established:#4db6ac;--c-closed:#66bb6a}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:17px;margin:26px 0 8px}h4{font-size:15px;margin:18px 0 6px}
p{margin:6px 0}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
code{background:var(--panel);padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
.sub{color:var(--muted);margin:0}
.verdict{border-radius:10px;padding:16px 20px;margin:18px 0 8px;border:1px solid var(--line)}
.verdict.problem{background:var(--problem-bg);border-color:var(--problem)}
.verdict.ok{background:var(--ok-bg);border-color:var(--ok)}
.verdict .lead{font-size:19px;font-weight:650;margin:0 0 4px}
.findings{list-style:none;padding:0;margin:12px 0 0}
.findings li{margin:0 0 12px;padding:10px 14px;border-radius:8px;background:var(--bg);border:1px solid var(--line)}
.findings .t{font-weight:600}.findings .who{color:var(--muted);font-size:14px}
.badge{display:inline-block;font-size:12px;font-weight:700;letter-spacing:.03em;text-transform:uppercase;padding:1px 7px;border-radius:10px;margin-right:8px;vertical-align:1px;border:1px solid}
.badge.problem{color:var(--problem);border-color:var(--problem)}
.badge.warning{color:var(--warning);border-color:var(--warning)}
.badge.info{color:var(--info);border-color:var(--info)}
.badge.ok{color:var(--ok);border-color:var(--ok)}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:var(--panel);font-weight:650;border-bottom:2px solid var(--line)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.bad td:first-child{box-shadow:inset 3px 0 0 var(--problem)}
.tablewrap{overflow-x:auto}th.diag{min-width:260px}abbr{text-decoration:none;border-bottom:1px dotted var(--muted)}
a{color:var(--accent)}tbody th{font-weight:600}
.chips{display:flex;flex-wrap:wrap;gap:4px 10px}.chip{white-space:nowrap}
.sw{vertical-align:-1px;margin-right:4px}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;list-style:none;padding:0;margin:8px 0 0;font-size:14px}
figure{margin:12px 0 20px;padding:12px 14px;border:1px solid var(--line);border-radius:10px;background:var(--panel);break-inside:avoid}
figcaption{font-size:14px;color:var(--muted);margin-top:6px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.example{border-top:1px dashed var(--line);padding-top:10px;margin-top:14px}
.muted{color:var(--muted)}
svg text{fill:var(--fg);font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .tick{font-size:11px;fill:var(--muted)}svg .grid{stroke:var(--line);stroke-width:1}svg .axis{stroke:var(--muted);stroke-width:1}
svg.timeline{display:block;height:auto}
.o-unanswered{fill:var(--c-unanswered)}.o-refused{fill:var(--c-refused)}.o-icmp-rejected{fill:var(--c-icmp)}
.o-synack-unacked{fill:var(--c-unacked)}.o-reset{fill:var(--c-reset)}.o-aborted-by-client{fill:var(--c-aborted)}
.o-pending{fill:var(--c-pending)}.o-midstream{fill:var(--c-midstream)}.o-established{fill:var(--c-established)}.o-closed{fill:var(--c-closed)}
svg.ladder{display:block;height:auto;background:var(--bg);border-radius:6px}
svg.ladder .who{font-weight:700;font-size:14px}svg.ladder .who.icmp{fill:var(--c-icmp)}
svg.ladder .addr{font-size:12px;fill:var(--muted);font-family:ui-monospace,Menlo,Consolas,monospace}
svg.ladder .colhead{font-size:11px;fill:var(--muted)}
svg.ladder .life{stroke:var(--muted);stroke-width:2}svg.ladder .life.third{stroke:var(--c-icmp);stroke-dasharray:5 4}
svg.ladder .pk line{stroke:var(--fg);stroke-width:1.6}svg.ladder .pk polygon{fill:var(--fg)}
svg.ladder .pk.syn line{stroke:var(--accent)}svg.ladder .pk.syn polygon{fill:var(--accent)}
svg.ladder .pk.rst line{stroke:var(--problem);stroke-width:2.2}svg.ladder .pk.rst polygon{fill:var(--problem)}
svg.ladder .pk.icmp line{stroke:var(--c-icmp);stroke-width:2.2;stroke-dasharray:6 4}svg.ladder .pk.icmp polygon{fill:var(--c-icmp)}
svg.ladder .lbl{font-size:12.5px;font-family:ui-monospace,Menlo,Consolas,monospace;paint-order:stroke;stroke:var(--bg);stroke-width:4px;stroke-linejoin:round}
svg.ladder .frame{font-size:12px;font-weight:600;font-family:ui-monospace,Menlo,Consolas,monospace}
svg.ladder .time{font-size:12px;fill:var(--muted);font-family:ui-monospace,Menlo,Consolas,monospace}
svg.ladder .note{font-size:12px;fill:var(--warning);font-style:italic}
footer{margin-top:40px;color:var(--muted);font-size:13px;border-top:1px solid var(--line);padding-top:10px}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:4px 8px}
nav.toc{font-size:14px;margin:10px 0 0}nav.toc a{color:var(--accent);margin-right:14px}
@media print{:root{--bg:#fff;--fg:#000;--panel:#f4f4f4;--muted:#444}body{font-size:12px}main{max-width:none;padding:0}
nav.toc,.skip{display:none}h2{break-after:avoid}figure,.findings li,tr{break-inside:avoid}
.tablewrap{overflow:visible}a{color:inherit;text-decoration:none}}
`;

function badge(sev: string): string {
  return `<span class="badge ${esc(sev)}">${esc(sev)}</span>`;
}

function pctl(p: Percentiles | null): string {
  if (!p || p.count === 0) return `<span class="muted">–</span>`;
  return `${esc(formatMs(p.p50))} <span class="muted">/ ${esc(formatMs(p.p90))}</span>`;
}

function outcomeChips(outcomes: Record<Outcome, number>, total: number): string {
  const parts = OUTCOMES.filter((o) => outcomes[o] > 0).map(
    (o) =>
      `<span class="chip">${swatch(o)}${esc(OUTCOME_INFO[o].label)} <b>${esc(formatCount(outcomes[o]))}</b>${
        total > 0 && outcomes[o] !== total ? ` <span class="muted">(${esc(percent(outcomes[o], total))})</span>` : ""
      }</span>`,
  );
  return parts.length ? `<span class="chips">${parts.join("")}</span>` : `<span class="muted">–</span>`;
}

function problemCount(d: Destination): number {
  let n = 0;
  for (const o of PROBLEM_OUTCOMES) n += d.outcomes[o] ?? 0;
  return n;
}

function verdictSection(report: Report): string {
  const attempts = report.destinations.reduce((s, d) => s + d.attempts, 0);
  const failed = report.destinations.reduce((s, d) => s + problemCount(d), 0);
  const badDest = report.destinations.filter((d) => d.diagnosis !== "healthy").length;
  const problems = report.findings.filter((f) => f.severity === "problem");
  const warnings = report.findings.filter((f) => f.severity === "warning");
  let cls: string;
  let lead: string;
  let sub: string;
  if (attempts === 0) {
    cls = "info";
    lead = "No TCP connection attempts in this capture.";
    sub = `${formatCount(report.source.packets)} packets were read; none started or carried a TCP connection synsent could follow.`;
  } else if (problems.length > 0 || failed > 0) {
    cls = "problem";
    lead = `${formatCount(failed)} of ${plural(attempts, "connection attempt")} failed (${percent(failed, attempts)}).`;
    sub = `${plural(badDest, "destination")} of ${formatCount(report.destinations.length)} ${badDest === 1 ? "has" : "have"} a problem. What the packets show:`;
  } else if (warnings.length > 0) {
    cls = "ok";
    lead = `All ${plural(attempts, "connection attempt")} got an answer, with ${plural(warnings.length, "warning")}.`;
    sub = `${plural(report.destinations.length, "destination")}.`;
  } else {
    cls = "ok";
    lead = `No problems found: all ${plural(attempts, "connection attempt")} to ${plural(report.destinations.length, "destination")} completed normally.`;
    sub = "Every SYN got its SYN-ACK and no connection was refused, rejected or reset.";
  }
  const order = { problem: 0, warning: 1, info: 2 } as const;
  const sorted = [...report.findings].sort((a, b) => order[a.severity] - order[b.severity]);
  const items = sorted
    .map(
      (f, i) =>
        `<li>${badge(f.severity)}<span class="t"><a href="#finding-${i}">${esc(f.title)}</a></span>` +
        `<p>${esc(f.detail)}</p><p class="who">Who can fix it: ${esc(f.whoCanFix)}</p></li>`,
    )
    .join("");
  return (
    `<section aria-labelledby="h-verdict"><h2 id="h-verdict">Verdict</h2>` +
    `<div class="verdict ${cls}" id="verdict"><p class="lead">${esc(lead)}</p><p>${esc(sub)}</p>` +
    (items ? `<ul class="findings">${items}</ul>` : "") +
    `</div></section>`
  );
}

function timelineSection(report: Report, input: TimelineInput | undefined): string {
  const src: TimelineInput = input ?? (report.connections.length > 0 ? report.connections : report.examples);
  const partial = !input && report.connections.length === 0;
  const range =
    report.source.firstTs !== null && report.source.lastTs !== null ? { start: report.source.firstTs, end: report.source.lastTs } : null;
  const fig = timelineSvg(src, range);
  let body: string;
  if (fig.connections === 0) {
    body = `<p class="muted">No connections to draw.</p>`;
  } else {
    const legend = TIMELINE_ORDER.filter((o) => fig.totals[o] > 0)
      .map((o) => `<li>${swatch(o)}${esc(OUTCOME_INFO[o].label)} <b>${esc(formatCount(fig.totals[o]))}</b> <span class="muted">${esc(OUTCOME_INFO[o].meaning)}</span></li>`)
      .join("");
    const start = range ? formatTimestamp(range.start) : "";
    body =
      `<figure id="timeline">${fig.svg}<ul class="legend" aria-label="Legend">${legend}</ul>` +
      `<figcaption>Each column counts the connections whose first packet fell in it (${esc(
        fig.bins === 1 ? "one column" : `${formatCount(fig.bins)} columns`,
      )}, ${esc(formatDuration(fig.binS))} each), stacked by outcome, problems at the bottom.${
        start ? ` Time 0 is ${esc(start)}.` : ""
      }${partial ? " Only the example connections are drawn: this report was made without the full connection list." : ""}</figcaption></figure>`;
  }
  return `<section aria-labelledby="h-timeline"><h2 id="h-timeline">Connection attempts over time</h2>${body}</section>`;
}

function destinationsSection(report: Report, max: number): string {
  const rows = [...report.destinations].sort((a, b) => {
    const pa = a.diagnosis === "healthy" ? 1 : 0;
    const pb = b.diagnosis === "healthy" ? 1 : 0;
    return pa - pb || problemCount(b) - problemCount(a) || b.attempts - a.attempts;
  });
  const shown = rows.slice(0, max);
  const body = shown
    .map((d) => {
      const bad = d.diagnosis !== "healthy";
      const retr = d.retransmissions.syn + d.retransmissions.synAck;
      return (
        `<tr class="${bad ? "bad" : "good"}"><th scope="row" class="mono">${esc(formatEndpoint(d.server))}</th>` +
        `<td class="num">${esc(formatCount(d.attempts))}</td><td class="num">${esc(formatCount(d.clients))}</td>` +
        `<td>${outcomeChips(d.outcomes, d.attempts)}</td>` +
        `<td class="num">${retr ? esc(formatCount(retr)) : `<span class="muted">0</span>`}</td>` +
        `<td class="num">${pctl(d.rttMs.synToSynAck)}</td>` +
        `<td>${badge(bad ? "problem" : "ok")}<b>${esc(DIAGNOSIS_LABEL[d.diagnosis] ?? d.diagnosis)}</b><br><span class="muted">${esc(d.summary)}</span></td></tr>`
      );
    })
    .join("");
  const more =
    rows.length > shown.length
      ? `<p class="muted">${esc(formatCount(rows.length - shown.length))} more destinations not shown (all are in <code>--format json</code>).</p>`
      : "";
  const table = rows.length
    ? `<div class="tablewrap"><table id="destinations"><caption class="skip">Connection attempts per destination</caption><thead><tr>` +
      `<th scope="col">Destination</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">Clients</th>` +
      `<th scope="col">Outcomes</th><th scope="col" class="num"><abbr title="SYN and SYN-ACK retransmissions">Retrans.</abbr></th>` +
      `<th scope="col" class="num"><abbr title="SYN to SYN-ACK at the capture point, median / 90th percentile">RTT p50 / p90</abbr></th><th scope="col" class="diag">Diagnosis</th></tr></thead><tbody>${body}</tbody></table></div>`
    : `<p class="muted">No destinations.</p>`;
  return `<section aria-labelledby="h-dest"><h2 id="h-dest">Destinations</h2>${table}${more}</section>`;
}

function wiresharkFilter(c: Connection): string {
  const v = c.ipVersion === 6 ? "ipv6" : "ip";
  const ep = (e: { ip: string; port: number }) => `${v}.addr == ${e.ip} && tcp.port == ${e.port}`;
  return `(${ep(c.client)}) && (${ep(c.server)})`;
}

function connectionFacts(c: Connection): string {
  const rows: [string, string][] = [
    ["Outcome", `${swatch(c.outcome)}<b>${esc(OUTCOME_INFO[c.outcome].label)}</b> <span class="muted">(Zeek ${esc(c.zeekState)})</span> — ${esc(connectionSummary(c))}`],
    ["Client → server", `<span class="mono">${esc(formatEndpoint(c.client))} → ${esc(formatEndpoint(c.server))}</span> (IPv${c.ipVersion})`],
    ["First packet", esc(formatTimestamp(c.firstTs))],
    ["SYNs / SYN-ACKs", `${esc(formatCount(c.syn))} / ${esc(formatCount(c.synAck))}`],
  ];
  if (c.handshakeRttMs) rows.push(["Handshake", esc(`${formatMs(c.handshakeRttMs.synToSynAck)} SYN→SYN-ACK, ${formatMs(c.handshakeRttMs.total)} in all`)]);
  if (c.icmp)
    rows.push([
      "ICMP error",
      esc(`${icmpTag(c.ipVersion, c.icmp.type, c.icmp.code)} ${icmpDescription(c.ipVersion, c.icmp.type, c.icmp.code)} from ${c.icmp.from}, frame ${c.icmp.frame}`),
    ]);
  if (c.rst)
    rows.push([
      "Reset",
      esc(`from the ${c.rst.from}, frame ${c.rst.frame}, TTL ${c.rst.ttl}`) +
        (c.rst.suspectedForged ? ` ${badge("warning")}${esc(c.rst.forgedReason ?? "looks forged")}` : ""),
    ]);
  if (c.evicted) rows.push(["Note", "evicted from a full flow table: the verdict is provisional"]);
  rows.push(["Frames", `<span class="mono">${esc(formatFrames(c.frames, 16))}</span>`]);
  rows.push(["Wireshark filter", `<code>${esc(wiresharkFilter(c))}</code>`]);
  return `<dl class="facts">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

function problemsSection(report: Report, maxExamples: number): string {
  if (report.findings.length === 0) return "";
  const byId = new Map<number, Connection>();
  for (const c of report.examples) byId.set(c.id, c);
  const order = { problem: 0, warning: 1, info: 2 } as const;
  const sorted = [...report.findings].sort((a, b) => order[a.severity] - order[b.severity]);
  const parts = sorted.map((f: Finding, i) => {
    const ex = f.exampleConnections
      .map((id) => byId.get(id))
      .filter((c): c is Connection => c !== undefined)
      .slice(0, maxExamples);
    const examples = ex
      .map(
        (c, j) =>
          `<div class="example"><h4>Example ${j + 1}: connection ${c.id}</h4>${connectionFacts(c)}` +
          `<figure>${ladderSvg(c, `ladder-${i}-${j}`)}<figcaption>Packets of connection ${c.id} in capture order. Times are since its first packet; seq/ack are relative to each side's first sequence number, as Wireshark shows them (details in each arrow's tooltip).${
            c.ladder.some((s) => s.from === "icmp") ? " The dashed line is the router or firewall that sent the ICMP error." : ""
          }</figcaption></figure></div>`,
      )
      .join("");
    const moreEx = f.exampleConnections.length > ex.length ? f.exampleConnections.length - ex.length : 0;
    return (
      `<article aria-labelledby="finding-${i}"><h3 id="finding-${i}">${badge(f.severity)}${esc(f.title)}</h3>` +
      `<p>${esc(f.detail)}</p>` +
      `<dl class="facts"><dt>Who can fix it</dt><dd>${esc(f.whoCanFix)}</dd>` +
      (f.server ? `<dt>Destination</dt><dd class="mono">${esc(formatEndpoint(f.server))}</dd>` : "") +
      `<dt>Connections</dt><dd>${esc(formatCount(f.connections))}</dd>` +
      (f.frames.length ? `<dt>Frames</dt><dd class="mono">${esc(formatFrames(f.frames, 16))}</dd>` : "") +
      `</dl>` +
      examples +
      (moreEx ? `<p class="muted">${esc(plural(moreEx, "more example"))} not shown.</p>` : "") +
      `</article>`
    );
  });
  return `<section aria-labelledby="h-problems"><h2 id="h-problems">Problems in detail</h2>${parts.join("")}</section>`;
}

function captureSection(report: Report, anonymized: string | null): string {
  const s = report.source;
  const rows: [string, string][] = [];
  if (anonymized) rows.push(["Anonymized", esc(anonymized)]);
  if (s.files.length) rows.push([s.files.length === 1 ? "File" : "Files", s.files.map((f) => `<code>${esc(f)}</code>`).join("<br>")]);
  if (s.interface) rows.push(["Interface", `<code>${esc(s.interface)}</code> (live capture)`]);
  rows.push(["Filter", s.filter ? `<code>${esc(s.filter)}</code>` : `<span class="muted">none</span>`]);
  if (s.firstTs !== null && s.lastTs !== null)
    rows.push(["Time span", esc(`${formatTimestamp(s.firstTs)} → ${formatTimestamp(s.lastTs)} (${formatDuration(s.durationS)})`)]);
  rows.push([
    "Packets",
    esc(`${formatCount(s.packets)} read (${formatBytes(s.bytes)}), ${formatCount(s.tcpPackets)} TCP, ${formatCount(s.icmpUnreachable)} ICMP unreachable`),
  ]);
  if (s.linkTypes.length)
    rows.push(["Link types", esc(s.linkTypes.map((l) => `${l.name} (${l.linkType}): ${formatCount(l.packets)}`).join(", "))]);
  if (s.kernel)
    rows.push([
      "Kernel drops",
      s.kernel.dropped || s.kernel.ifDropped
        ? `${badge("warning")}${esc(`${formatCount(s.kernel.dropped)} dropped by the kernel, ${formatCount(s.kernel.ifDropped)} by the interface, of ${formatCount(s.kernel.received)} received: some verdicts may be wrong`)}`
        : esc(`none (${formatCount(s.kernel.received)} received)`),
    ]);
  rows.push([
    "Skipped",
    s.skipped.length ? esc(s.skipped.map((k) => `${formatCount(k.packets)} ${k.reason}`).join(", ")) : `<span class="muted">nothing</span>`,
  ]);
  if (s.truncated) rows.push(["Cut by snap length", esc(`${formatCount(s.truncated)} TCP packets (still analysed)`)]);
  if (s.duplicates) rows.push(["Duplicates", esc(`${formatCount(s.duplicates)} packets seen twice, counted once`)]);
  for (const st of s.stopped)
    rows.push([
      "Damaged file",
      `${badge("warning")}<code>${esc(st.file)}</code> ${esc(`stopped at record ${formatCount(st.record)} (byte ${formatCount(st.offset)}): ${st.reason}. The analysis covers what came before.`)}`,
    ]);
  const ft = report.flowTable;
  rows.push([
    "Flow table",
    esc(`peak ${formatCount(ft.peak)} of ${formatCount(ft.maxFlows)} flows`) +
      (ft.evicted ? ` ${badge("warning")}${esc(`${formatCount(ft.evicted)} evicted before they finished (verdicts provisional)`)}` : ""),
  ]);
  rows.push(["Settings", esc(`SYN timeout ${report.options.synTimeoutS} s`)]);
  return `<section aria-labelledby="h-capture"><h2 id="h-capture">How the capture was made</h2><dl class="facts" id="capture">${rows
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`)
    .join("")}</dl></section>`;
}

/** Render the report as one self-contained HTML document. */
export function renderHtml(report: Report, opts: HtmlOptions = {}): string {
  const title = opts.title ?? "synsent report";
  const maxExamples = Math.max(0, opts.maxExamples ?? 3);
  const s = report.source;
  const what = s.interface ? `live capture on ${s.interface}` : s.files.length ? s.files.join(", ") : "capture";
  const span = s.firstTs !== null ? `${formatTimestamp(s.firstTs)}, ${formatDuration(s.durationS)}` : "";
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    // Belt and braces: the page needs nothing from the network, so forbid it.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<meta name="generator" content="${esc(`${report.tool.name} ${report.tool.version}`)}">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>` +
    `<a class="skip" href="#h-verdict">Skip to the verdict</a><main>` +
    `<header><h1>${esc(title)}</h1><p class="sub">${esc(what)}${span ? ` · ${esc(span)}` : ""}${opts.anonymized ? " · addresses anonymized" : ""}</p>` +
    `<nav class="toc" aria-label="Sections"><a href="#h-verdict">Verdict</a><a href="#h-timeline">Timeline</a><a href="#h-dest">Destinations</a>` +
    (report.findings.length ? `<a href="#h-problems">Problems in detail</a>` : "") +
    `<a href="#h-capture">Capture</a></nav></header>` +
    verdictSection(report) +
    timelineSection(report, opts.timeline) +
    destinationsSection(report, opts.maxDestinations ?? 200) +
    problemsSection(report, maxExamples) +
    captureSection(report, opts.anonymized ?? null) +
    `<footer>Made by ${esc(report.tool.name)} ${esc(report.tool.version)}. Frame numbers count packets from 1 in capture order, like the “No.” column of Wireshark.</footer></main></body></html>\n`
  );
}
