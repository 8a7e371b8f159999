/**
 * The terminal view of `synsent capture`: redrawn a few times per second on
 * the alternate screen (like top), one write per frame (home, overwrite each
 * line, clear the rest) so it does not flicker, and the terminal is restored
 * on every way out (stop(), process exit, a second Ctrl-C).
 *
 * It shows what a person watching a link wants to know now: which SYNs are
 * waiting for an answer at this moment, what happened per destination so far,
 * retransmissions, packets per second and kernel drops.
 */
import type { Connection, Endpoint, Outcome } from "../flows/connection.js";

/** A SYN (or several) still waiting for an answer; what FlowTracker.waitingSyns() gives. */
export interface WaitingSynView {
  client: Endpoint;
  server: Endpoint;
  /** Timestamp (s) of the first SYN. */
  firstSynTs: number;
  /** SYNs sent so far, retransmissions included. */
  syns: number;
}

export interface LiveSnapshot {
  /** Wall clock now, seconds since the epoch. */
  now: number;
  packets: number;
  connections: number;
  kernel: { received: number; dropped: number; ifDropped: number } | null;
  /** Oldest first, bounded by the caller. */
  waiting: WaitingSynView[];
  /** Total waiting (may exceed waiting.length). */
  waitingTotal: number;
}

export interface LiveViewOptions {
  out: NodeJS.WriteStream;
  interface: string;
  filter: string | null;
  /** Called before each frame. */
  snapshot: () => LiveSnapshot;
  /** Frames per second (default 4). */
  fps?: number;
  /** Hint shown at the bottom. */
  footer?: string;
}

interface DestTally {
  server: Endpoint;
  attempts: number;
  ok: number;
  unanswered: number;
  refused: number;
  icmp: number;
  reset: number;
  other: number;
  retrans: number;
  rttSumMs: number;
  rttCount: number;
}

/** Destinations tracked by the view; beyond this they are summed in one row. */
const MAX_DESTINATIONS = 10_000;

const ESC = "\x1b[";

export class LiveView {
  private readonly dests = new Map<string, DestTally>();
  private overflow: DestTally;
  private timer: NodeJS.Timeout | null = null;
  private active = false;
  private readonly started = Date.now() / 1000;
  private lastPackets = 0;
  private lastRateAt = 0;
  private rate = 0;
  private readonly restore = () => this.leaveScreen();

  constructor(private readonly opts: LiveViewOptions) {
    this.overflow = emptyTally({ ip: "(other destinations)", port: 0 });
  }

  /** Count a connection verdict (call from the pipeline's onConnection). */
  connection(c: Connection): void {
    const key = `${c.server.ip}|${c.server.port}`;
    let t = this.dests.get(key);
    if (!t) {
      if (this.dests.size >= MAX_DESTINATIONS) t = this.overflow;
      else {
        t = emptyTally(c.server);
        this.dests.set(key, t);
      }
    }
    t.attempts++;
    bump(t, c.outcome);
    t.retrans += c.retransmissions.syn + c.retransmissions.synAck + c.retransmissions.data;
    if (c.handshakeRttMs) {
      t.rttSumMs += c.handshakeRttMs.total;
      t.rttCount++;
    }
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    // Alternate screen + hidden cursor, restored however the process ends.
    this.opts.out.write(`${ESC}?1049h${ESC}?25l${ESC}H${ESC}2J`);
    process.on("exit", this.restore);
    const ms = Math.round(1000 / (this.opts.fps ?? 4));
    this.timer = setInterval(() => this.draw(), ms);
    this.timer.unref();
    this.draw();
  }

  /** Restore the terminal. Safe to call twice. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.leaveScreen();
    process.off("exit", this.restore);
  }

  private leaveScreen(): void {
    if (!this.active) return;
    this.active = false;
    try {
      this.opts.out.write(`${ESC}?25h${ESC}?1049l`);
    } catch {
      // terminal gone
    }
  }

  private draw(): void {
    if (!this.active) return;
    const out = this.opts.out;
    const lines = this.render(this.opts.snapshot(), out.columns || 100, out.rows || 30);
    // One write per frame: home, each line then clear-to-end-of-line, then clear below.
    out.write(`${ESC}H` + lines.map((l) => l + `${ESC}K`).join("\r\n") + `\r\n${ESC}J`);
  }

  /** The frame as lines (no escape codes except none); exposed for tests. */
  render(s: LiveSnapshot, width: number, height: number): string[] {
    const nowMs = s.now * 1000;
    if (this.lastRateAt === 0) {
      this.lastRateAt = nowMs;
      this.lastPackets = s.packets;
    } else if (nowMs - this.lastRateAt >= 1000) {
      this.rate = ((s.packets - this.lastPackets) * 1000) / (nowMs - this.lastRateAt);
      this.lastRateAt = nowMs;
      this.lastPackets = s.packets;
    }
    const lines: string[] = [];
    const clock = new Date(nowMs).toISOString().slice(11, 19);
    lines.push(
      `synsent capture on ${this.opts.interface}${this.opts.filter ? `  filter: ${this.opts.filter}` : ""}   ${clock} UTC   running ${duration(s.now - this.started)}`,
    );
    const k = s.kernel;
    const drops = k ? `kernel: received ${num(k.received)}, dropped ${num(k.dropped)}, interface dropped ${num(k.ifDropped)}` : "kernel: -";
    lines.push(`packets ${num(s.packets)} (${num(Math.round(this.rate))}/s)   connections ${num(s.connections)}   ${drops}`);
    if (k && k.dropped + k.ifDropped > 0) lines.push(`!! ${num(k.dropped + k.ifDropped)} packets lost before synsent saw them: verdicts may be wrong (try --buffer-size or a tighter filter)`);
    lines.push("");

    // Rows left for the two tables; the waiting list gets at most half.
    const room = Math.max(4, height - lines.length - 3);
    const waitRows = Math.min(s.waiting.length, Math.max(1, Math.floor(room / 2) - 1));
    lines.push(`SYNs waiting for an answer now: ${num(s.waitingTotal)}`);
    for (let i = 0; i < waitRows; i++) {
      const w = s.waiting[i];
      const age = Math.max(0, s.now - w.firstSynTs);
      lines.push(`  ${pad(ep(w.client), 28)} -> ${pad(ep(w.server), 28)} waiting ${age.toFixed(1).padStart(6)} s   SYNs ${w.syns}`);
    }
    if (s.waitingTotal > waitRows && waitRows > 0) lines.push(`  ... and ${num(s.waitingTotal - waitRows)} more`);
    lines.push("");

    const rows = [...this.dests.values()];
    if (this.overflow.attempts > 0) rows.push(this.overflow);
    // Problems first, then busiest.
    rows.sort((a, b) => problems(b) - problems(a) || b.attempts - a.attempts);
    lines.push(
      `${pad("destination", 30)}${rpad("attempts", 9)}${rpad("ok", 8)}${rpad("unansw", 8)}${rpad("refused", 8)}${rpad("icmp", 7)}${rpad("reset", 7)}${rpad("other", 7)}${rpad("retrans", 9)}${rpad("rtt avg", 11)}`,
    );
    const destRows = Math.max(1, height - lines.length - 2);
    for (const t of rows.slice(0, destRows)) {
      const rtt = t.rttCount ? `${(t.rttSumMs / t.rttCount).toFixed(2)} ms` : "-";
      lines.push(
        `${pad(t === this.overflow ? t.server.ip : ep(t.server), 30)}${rpad(num(t.attempts), 9)}${rpad(num(t.ok), 8)}${rpad(num(t.unanswered), 8)}${rpad(num(t.refused), 8)}${rpad(num(t.icmp), 7)}${rpad(num(t.reset), 7)}${rpad(num(t.other), 7)}${rpad(num(t.retrans), 9)}${rpad(rtt, 11)}`,
      );
    }
    if (rows.length === 0) lines.push("  (no finished connections yet)");
    else if (rows.length > destRows) lines.push(`  ... and ${num(rows.length - destRows)} more destinations`);
    lines.push("");
    lines.push(this.opts.footer ?? "Ctrl-C: stop and print the report");
    return lines.slice(0, Math.max(1, height - 1)).map((l) => (l.length > width ? l.slice(0, Math.max(1, width - 1)) + "…" : l));
  }
}

function emptyTally(server: Endpoint): DestTally {
  return { server, attempts: 0, ok: 0, unanswered: 0, refused: 0, icmp: 0, reset: 0, other: 0, retrans: 0, rttSumMs: 0, rttCount: 0 };
}

function bump(t: DestTally, o: Outcome): void {
  switch (o) {
    case "established":
    case "closed":
      t.ok++;
      break;
    case "unanswered":
      t.unanswered++;
      break;
    case "refused":
      t.refused++;
      break;
    case "icmp-rejected":
      t.icmp++;
      break;
    case "reset":
      t.reset++;
      break;
    default:
      t.other++;
  }
}

function problems(t: DestTally): number {
  return t.unanswered + t.refused + t.icmp + t.reset;
}

function ep(e: Endpoint): string {
  return e.ip.includes(":") ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

function num(n: number): string {
  return n.toLocaleString("en-US");
}

function pad(s: string, n: number): string {
  return s.length >= n ? s + " " : s.padEnd(n);
}

function rpad(s: string, n: number): string {
  return s.padStart(n);
}

function duration(s: number): string {
  const t = Math.max(0, Math.floor(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
}
