/**
 * Inline SVG figures for the HTML report: the timeline of connection attempts
 * and the packet ladder of one connection. Pure functions returning markup;
 * every string that comes from packets or files goes through `esc`.
 *
 * Colours are CSS classes (`o-unanswered`, ...) styled by the page, so the
 * figures follow the page's light/dark scheme and print in colour or grey.
 */
import { OUTCOMES, type Connection, type LadderStep, type Outcome } from "../flows/connection.js";
import { formatCount, formatEndpoint, icmpDescription, OUTCOME_INFO } from "./format.js";

/** HTML/XML escape for text and attribute values (both quote kinds). */
export function esc(s: unknown): string {
  return String(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Stacking order of the timeline, bottom first: problems nearest the axis, where they are easiest to see. */
export const TIMELINE_ORDER: readonly Outcome[] = [
  "unanswered",
  "refused",
  "icmp-rejected",
  "synack-unacked",
  "reset",
  "aborted-by-client",
  "pending",
  "midstream",
  "established",
  "closed",
];

/**
 * Collects (first timestamp, outcome) of every connection while the pipeline
 * streams them, for the timeline: the report model does not keep all
 * connections. 9 bytes per connection; beyond `max` connections the rest are
 * only counted (the figure says so).
 */
export class TimelineCollector {
  private ts = new Float64Array(1024);
  private oc = new Uint8Array(1024);
  count = 0;
  dropped = 0;
  constructor(readonly max = 5_000_000) {}

  add(c: Pick<Connection, "firstTs" | "outcome">): void {
    if (this.count >= this.max) {
      this.dropped++;
      return;
    }
    if (this.count === this.ts.length) {
      const n = this.ts.length * 2;
      const ts = new Float64Array(n);
      ts.set(this.ts);
      const oc = new Uint8Array(n);
      oc.set(this.oc);
      this.ts = ts;
      this.oc = oc;
    }
    this.ts[this.count] = c.firstTs;
    this.oc[this.count] = OUTCOMES.indexOf(c.outcome);
    this.count++;
  }

  /** Visit every collected connection. */
  forEach(fn: (ts: number, outcome: Outcome) => void): void {
    for (let i = 0; i < this.count; i++) fn(this.ts[i]!, OUTCOMES[this.oc[i]!]!);
  }
}

/** Anything the timeline can read: a collector or a plain list of connections. */
export type TimelineInput = TimelineCollector | readonly Pick<Connection, "firstTs" | "outcome">[];

export interface TimelineFigure {
  /** SVG markup ("" when there is nothing to draw). */
  svg: string;
  /** Connections per outcome (for the legend). */
  totals: Record<Outcome, number>;
  connections: number;
  /** Width of one column, seconds. */
  binS: number;
  bins: number;
}

function niceStep(raw: number): number {
  const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400];
  for (const s of steps) if (s >= raw) return s;
  return Math.ceil(raw / 86400) * 86400;
}

function axisLabel(s: number, step: number): string {
  if (step >= 3600) return `${+(s / 3600).toFixed(1)} h`;
  if (step >= 60) return `${+(s / 60).toFixed(1)} min`;
  if (step >= 1) return `${+s.toFixed(0)} s`;
  return `${+(s * 1000).toFixed(0)} ms`;
}

/**
 * Stacked columns of connection attempts over time, one colour per outcome.
 * At most `maxBins` columns whatever the number of connections, so the SVG
 * stays a few kilobytes for 200k connections: one <path> per outcome.
 */
export function timelineSvg(input: TimelineInput, range: { start: number; end: number } | null, maxBins = 600): TimelineFigure {
  const totals = {} as Record<Outcome, number>;
  for (const o of OUTCOMES) totals[o] = 0;
  const each = (fn: (ts: number, o: Outcome) => void) => {
    if (input instanceof TimelineCollector) input.forEach(fn);
    else for (const c of input) fn(c.firstTs, c.outcome);
  };
  let lo = Infinity;
  let hi = -Infinity;
  let n = 0;
  each((ts, o) => {
    if (ts < lo) lo = ts;
    if (ts > hi) hi = ts;
    totals[o]++;
    n++;
  });
  if (n === 0) return { svg: "", totals, connections: 0, binS: 0, bins: 0 };
  const start = range && range.start <= lo ? range.start : lo;
  let end = range && range.end >= hi ? range.end : hi;
  if (end - start < 1e-3) end = start + 1e-3;
  const span = end - start;
  const bins = Math.max(1, Math.min(maxBins, n <= 60 ? 120 : maxBins));
  const binS = span / bins;
  const counts = OUTCOMES.map(() => new Uint32Array(bins));
  each((ts, o) => {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((ts - start) / binS)));
    counts[OUTCOMES.indexOf(o)]![b]!++;
  });
  let maxStack = 0;
  for (let b = 0; b < bins; b++) {
    let s = 0;
    for (const c of counts) s += c[b]!;
    if (s > maxStack) maxStack = s;
  }
  const W = 960;
  const H = 220;
  const left = 52;
  const right = 12;
  const top = 12;
  const bottom = 34;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const colW = pw / bins;
  const yScale = ph / maxStack;
  const base = new Float64Array(bins);
  const paths: string[] = [];
  for (const o of TIMELINE_ORDER) {
    const arr = counts[OUTCOMES.indexOf(o)]!;
    let d = "";
    for (let b = 0; b < bins; b++) {
      const v = arr[b]!;
      if (v === 0) continue;
      const h = v * yScale;
      const y0 = top + ph - base[b]!;
      base[b] = base[b]! + h;
      // A column at least 1px wide and tall, so a single attempt is visible.
      const x = left + b * colW;
      const w = Math.max(1, colW - (colW > 3 ? 1 : 0));
      const hh = Math.max(1, h);
      d += `M${x.toFixed(1)} ${(y0 - hh).toFixed(1)}h${w.toFixed(1)}v${hh.toFixed(1)}h${(-w).toFixed(1)}z`;
    }
    if (d) paths.push(`<path class="o-${o}" shape-rendering="crispEdges" d="${d}"><title>${esc(o)}: ${formatCount(totals[o])}</title></path>`);
  }
  // Axes and ticks.
  const step = niceStep(span / 8);
  const ticks: string[] = [];
  for (let t = 0; t <= span + 1e-9; t += step) {
    const x = left + (t / span) * pw;
    ticks.push(
      `<line class="grid" x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${top + ph}"/>` +
        `<text class="tick" x="${x.toFixed(1)}" y="${top + ph + 16}" text-anchor="middle">+${esc(axisLabel(t, step))}</text>`,
    );
    if (ticks.length > 20) break;
  }
  const yTicks = [0, Math.ceil(maxStack / 2), maxStack].filter((v, i, a) => a.indexOf(v) === i);
  const yt = yTicks
    .map((v) => {
      const y = top + ph - v * yScale;
      return `<line class="grid" x1="${left}" y1="${y.toFixed(1)}" x2="${left + pw}" y2="${y.toFixed(1)}"/><text class="tick" x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${formatCount(v)}</text>`;
    })
    .join("");
  const desc = OUTCOMES.filter((o) => totals[o] > 0)
    .map((o) => `${o} ${totals[o]}`)
    .join(", ");
  const svg =
    `<svg class="timeline" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="tl-title tl-desc" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="tl-title">Connection attempts over time, coloured by outcome</title>` +
    `<desc id="tl-desc">${esc(formatCount(n))} connections in ${bins} columns of ${esc(binLabel(binS))}: ${esc(desc)}</desc>` +
    `<g>${ticks.join("")}${yt}</g>` +
    paths.join("") +
    `<line class="axis" x1="${left}" y1="${top + ph}" x2="${left + pw}" y2="${top + ph}"/>` +
    `<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${top + ph}"/>` +
    `<text class="tick" x="${left + pw}" y="${H - 2}" text-anchor="end">time since the start of the capture</text>` +
    `<text class="tick" transform="translate(12 ${top + ph / 2}) rotate(-90)" text-anchor="middle">attempts</text>` +
    `</svg>`;
  return { svg, totals, connections: n, binS, bins };
}

function binLabel(s: number): string {
  if (s >= 60) return `${+(s / 60).toFixed(2)} min`;
  if (s >= 1) return `${+s.toFixed(2)} s`;
  return `${+(s * 1000).toFixed(2)} ms`;
}

function relTime(dt: number): string {
  if (dt < 1) return `+${(dt * 1000).toFixed(dt < 0.01 ? 3 : 1)} ms`;
  return `+${dt.toFixed(3)} s`;
}

function hasFlag(flags: string, f: string): boolean {
  return flags.split(",").includes(f);
}

function stepText(c: Connection, s: LadderStep): string {
  if (s.from === "icmp") {
    const m = /(\d+)\/(\d+)/.exec(s.flags);
    const what = m ? icmpDescription(c.ipVersion, +m[1]!, +m[2]!) : "";
    return what ? `${s.flags} ${what}` : s.flags;
  }
  // The flow tracker gives seq/ack relative to each side's first sequence number, as Wireshark shows them.
  const parts = [s.flags, `seq=${s.seq}`];
  if (hasFlag(s.flags, "ACK")) parts.push(`ack=${s.ack}`);
  parts.push(`len=${s.len}`);
  return parts.join(" ");
}

function arrowClass(s: LadderStep): string {
  if (s.from === "icmp") return "pk icmp";
  if (hasFlag(s.flags, "RST")) return "pk rst";
  if (hasFlag(s.flags, "SYN")) return "pk syn";
  if (hasFlag(s.flags, "FIN")) return "pk fin";
  return "pk";
}

/**
 * A packet ladder: client and server as two vertical lines, one diagonal arrow
 * per packet labelled with flags, relative seq/ack and length, its time since
 * the first packet and its frame number. ICMP errors come from a third line
 * (the router or firewall that sent them), drawn dashed.
 */
export function ladderSvg(c: Connection, idPrefix: string): string {
  const steps = c.ladder;
  const hasIcmp = steps.some((s) => s.from === "icmp");
  const W = 820;
  const xFrame = 8;
  const xClient = 190;
  const xServer = 720;
  // The ICMP sender is usually a router or firewall on the path: draw it between the two.
  const xIcmp = 520;
  const headH = 58;
  const rowH = 40;
  const drop = 18;
  const H = headH + Math.max(1, steps.length) * rowH + (c.ladderTruncated ? 26 : 10);
  const t0 = steps.length ? steps[0]!.ts : c.firstTs;
  const out: string[] = [];
  const titleId = `${idPrefix}-t`;
  out.push(
    `<svg class="ladder" viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px" role="img" aria-labelledby="${titleId}" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="${titleId}">Packets of connection ${c.id}: ${esc(formatEndpoint(c.client))} to ${esc(formatEndpoint(c.server))}</title>`,
  );
  // Column heads.
  const head = (x: number, role: string, who: string, cls: string) =>
    `<text class="who ${cls}" x="${x}" y="18" text-anchor="middle">${esc(role)}</text><text class="addr" x="${x}" y="36" text-anchor="middle">${esc(who)}</text>`;
  out.push(`<text class="colhead" x="${xFrame}" y="36">frame · time</text>`);
  out.push(head(xClient, "client", formatEndpoint(c.client), ""));
  out.push(head(xServer, "server", formatEndpoint(c.server), ""));
  const lineBottom = H - 6;
  out.push(`<line class="life" x1="${xClient}" y1="${headH - 12}" x2="${xClient}" y2="${lineBottom}"/>`);
  out.push(`<line class="life" x1="${xServer}" y1="${headH - 12}" x2="${xServer}" y2="${lineBottom}"/>`);
  if (hasIcmp) {
    const sender = c.icmp ? c.icmp.from : "router/firewall";
    out.push(head(xIcmp, sender === c.server.ip ? "ICMP sender (server)" : "ICMP sender", sender, "icmp"));
    out.push(`<line class="life third" x1="${xIcmp}" y1="${headH - 12}" x2="${xIcmp}" y2="${lineBottom}"/>`);
  }
  steps.forEach((s, i) => {
    const y = headH + i * rowH + 8;
    const fromX = s.from === "client" ? xClient : s.from === "server" ? xServer : xIcmp;
    const toX = s.from === "client" ? xServer : xClient;
    const y2 = y + drop;
    const cls = arrowClass(s);
    const dir = toX > fromX ? 1 : -1;
    // Arrow head as a polygon (no <marker> ids to clash between figures).
    const len = Math.hypot(toX - fromX, y2 - y);
    const ux = (toX - fromX) / len;
    const uy = (y2 - y) / len;
    const hx = toX - ux * 10;
    const hy = y2 - uy * 10;
    const px = -uy * 4.5;
    const py = ux * 4.5;
    const label = stepText(c, s);
    const raw = `frame ${s.frame}, sent by the ${s.from === "icmp" ? "ICMP sender" : s.from}, ${s.flags}, relative seq ${s.seq}, ack ${s.ack}, ${s.len} payload bytes, TTL ${s.ttl}${s.note ? ", " + s.note : ""}`;
    const midX = (fromX + toX) / 2;
    const slope = (y2 - y) / (toX - fromX);
    out.push(
      `<g class="${cls}"><title>${esc(raw)}</title>` +
        `<text class="frame" x="${xFrame}" y="${y + 10}">#${s.frame}</text>` +
        `<text class="time" x="${xFrame + 56}" y="${y + 10}">${esc(relTime(s.ts - t0))}</text>` +
        `<line x1="${fromX}" y1="${y}" x2="${hx.toFixed(1)}" y2="${hy.toFixed(1)}"/>` +
        `<polygon points="${toX},${y2} ${(hx + px).toFixed(1)},${(hy + py).toFixed(1)} ${(hx - px).toFixed(1)},${(hy - py).toFixed(1)}"/>` +
        `<text class="lbl" x="${midX.toFixed(1)}" y="${(y + (midX - fromX) * slope - 5).toFixed(1)}" text-anchor="middle">${esc(label)}</text>` +
        (s.note
          ? `<text class="note" x="${(dir > 0 ? toX + 8 : fromX + 8).toFixed(1)}" y="${y2 + 4}" text-anchor="start">${esc(s.note)}</text>`
          : "") +
        `</g>`,
    );
  });
  if (steps.length === 0) {
    out.push(`<text class="note" x="${(xClient + xServer) / 2}" y="${headH + 20}" text-anchor="middle">no packets kept for this connection</text>`);
  }
  if (c.ladderTruncated) {
    const more = c.packets.client + c.packets.server - steps.length;
    out.push(
      `<text class="note" x="${(xClient + xServer) / 2}" y="${H - 10}" text-anchor="middle">${esc(more > 0 ? `… ${formatCount(more)} more packets not shown` : "… later packets not shown")}</text>`,
    );
  }
  out.push(`</svg>`);
  return out.join("");
}

/** A small coloured square for legends and tables (the text beside it carries the meaning). */
export function swatch(o: Outcome): string {
  return `<svg class="sw" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true"><rect class="o-${o}" width="12" height="12" rx="2"/></svg>`;
}

export function outcomeSeverity(o: Outcome): string {
  return OUTCOME_INFO[o].severity;
}
