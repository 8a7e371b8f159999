/**
 * From connections to a diagnosis: per server endpoint (ip:port) aggregates
 * and plain-language findings that say what the packets show, what it usually
 * means, and who can fix it.
 *
 * Bounded memory: the diagnoser sees every connection once (possibly
 * millions) and keeps only per-destination counters, bounded RTT estimators
 * (see quantiles.ts), a few frame numbers per finding and at most
 * `maxExamplesPerKind` example connections per finding kind (at most two per
 * destination, so examples cover several destinations). Destinations beyond
 * `maxDestinations` are summed into one "other destinations" bucket, and a
 * finding says so.
 *
 * Every number in a sentence is a count of connections or packets that the
 * finding's `frames` and `exampleConnections` point to.
 */

import { OUTCOMES, type Connection, type Endpoint, type Outcome } from "../flows/connection.js";
import { cloneConnection } from "../flows/codec.js";
import type { Destination, DiagnosisKind, Finding, Severity } from "./types.js";
import { Quantiles } from "./quantiles.js";
import { icmpMeaning } from "./icmp.js";

export interface DiagnoserOptions {
  /** Example connections kept per finding kind (default 5). */
  maxExamplesPerKind?: number;
  /** Destinations tracked one by one (default 100 000); the rest share one bucket. */
  maxDestinations?: number;
}

const FRAMES_PER_KIND = 16;
const EXAMPLES_PER_DESTINATION = 2;
const IDS_PER_KIND = 8;
/** Distinct clients are counted exactly up to this many, then estimated (linear counting). */
const MAX_CLIENTS_EXACT = 256;
const CLIENT_BITMAP_BITS = 8192;
/** More destinations than this on one host with the same diagnosis become one finding. */
const MERGE_PORTS_ABOVE = 20;
const MAX_FINDINGS = 1000;
/** Data retransmissions worth a warning: at least this many, and this share of packets. */
const RETRANS_MIN = 3;
const RETRANS_RATE = 0.01;

export const OTHER_DESTINATIONS_IP = "other destinations";

const SEVERITY_RANK: Record<Severity, number> = { problem: 0, warning: 1, info: 2 };
const KIND_SEVERITY: Record<DiagnosisKind, Severity> = {
  "silent-drop": "problem",
  refused: "problem",
  "icmp-rejected": "problem",
  "synack-unacked": "problem",
  "forged-rst": "problem",
  "reset-after-established": "warning",
  "retried-handshake": "warning",
  "aborted-by-client": "warning",
  "data-retransmissions": "warning",
  healthy: "info",
};

interface IcmpAgg {
  type: number;
  code: number;
  from: string;
  ipVersion: number;
  n: number;
}

interface KindEvidence {
  frames: number[];
  ids: number[];
  examplesKept: number;
}

/**
 * A Diagnoser's aggregates as the compiled diagnoser (native/flows/diagnose.cc
 * state(), the same add() over connection batches) exports them, for
 * Diagnoser.restore(): numbers in one array, read in order (StateReader below;
 * diagnose.cc writes them in the same order), and strings by their number in
 * a list of [0 or 1, start, end] in `strs`: code units start..end of `plain`
 * (0) or of `odd` (1: a string with a lone surrogate, which N-API cannot
 * make). A handful of values however many destinations.
 */
export interface DiagnoserState {
  nums: Float64Array;
  strs: Float64Array;
  plain: string;
  odd: Uint16Array;
}

/** The kinds add() keeps evidence for, in the compiled diagnoser's order. */
export const KINDS_NOTED: readonly DiagnosisKind[] = [
  "silent-drop",
  "refused",
  "icmp-rejected",
  "synack-unacked",
  "forged-rst",
  "reset-after-established",
  "retried-handshake",
  "aborted-by-client",
  "data-retransmissions",
];

/** Linear counting: distinct clients estimated from the bits of the bitmap still 0. */
function linearCount(zero: number): number {
  if (zero === 0) return Math.round(CLIENT_BITMAP_BITS * Math.log(CLIENT_BITMAP_BITS));
  return Math.round(-CLIENT_BITMAP_BITS * Math.log(zero / CLIENT_BITMAP_BITS));
}

/** clientBits of a destination still counting its clients exactly. */
const NO_BITS = new Uint32Array(0);

/*
 * Fields that will hold fractions (seconds, milliseconds) start as -0, a
 * double: starting as the integer 0 and getting a fraction later (the first
 * unanswered connection, long after start-up) changed the hidden class of
 * every destination and threw away the optimised add() and note(). -0 prints
 * and compares as 0.
 */
class DestAgg {
  attempts = 0;
  readonly outcomes: Record<Outcome, number>;
  /**
   * Distinct client addresses: exact while small (clientBits is NO_BITS),
   * then a linear-counting bitmap (1 KiB) and the set emptied. Neither field
   * is ever null: a field that goes from a Set to null (or from null to an
   * array) changes the object's hidden class, and every optimised function
   * that had seen the old one was thrown away and compiled again.
   */
  private readonly clientSet = new Set<string>();
  private clientBits: Uint32Array = NO_BITS;

  addClient(ip: string): void {
    if (this.clientBits === NO_BITS) {
      this.clientSet.add(ip);
      if (this.clientSet.size <= MAX_CLIENTS_EXACT) return;
      this.clientBits = new Uint32Array(CLIENT_BITMAP_BITS / 32);
      for (const x of this.clientSet) this.setBit(x);
      this.clientSet.clear();
      return;
    }
    this.setBit(ip);
  }

  private setBit(ip: string): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < ip.length; i++) h = Math.imul(h ^ ip.charCodeAt(i), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    const bit = (h >>> 0) % CLIENT_BITMAP_BITS;
    this.clientBits[bit >>> 5]! |= 1 << (bit & 31);
  }

  /** Distinct clients as counted elsewhere (Diagnoser.restore), what clientCount() then says; -1: counted here. */
  private countedElsewhere = -1;

  /** The distinct clients as counted elsewhere. A restored destination takes no more clients. */
  restoreClientCount(n: number): void {
    this.countedElsewhere = n;
  }

  /** Exact up to 256 clients; above, a linear-counting estimate (within ~2 % up to ~20 000). */
  clientCount(): number {
    if (this.countedElsewhere >= 0) return this.countedElsewhere;
    if (this.clientBits === NO_BITS) return this.clientSet.size;
    let zero = 0;
    for (const w of this.clientBits) {
      let x = w >>> 0;
      x = x - ((x >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      zero += 32 - ((((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24);
    }
    return linearCount(zero);
  }
  synRetrans = 0;
  synAckRetrans = 0;
  dataRetrans = 0;
  packets = 0;
  readonly rttSyn = new Quantiles();
  readonly rttTotal = new Quantiles();
  // silent drop
  unansweredSyns = 0;
  minRetries = Infinity;
  maxRetries = 0;
  maxSpanS = -0;
  /** Pending (capture ended soon after the last SYN) but already retried: no answer so far. */
  pendingRetried = 0;
  pendingSyns = 0;
  pendingMaxSpanS = -0;
  // refused / resets
  refusedForged = 0;
  resetForged = 0;
  forgedReason: string | null = null;
  readonly rstTtls = new Set<number>();
  resetByClient = 0;
  resetByServer = 0;
  // icmp
  readonly icmp = new Map<string, IcmpAgg>();
  // synack-unacked
  unackedClientRst = 0;
  unackedClientResentSyn = 0;
  // retried handshakes
  handshakes = 0;
  retried = 0;
  retriedExtraSyns = 0;
  retriedAddedMsSum = -0;
  retriedAddedMsMax = -0;
  retriedAddedCount = 0;
  readonly evidence = new Map<DiagnosisKind, KindEvidence>();

  constructor(readonly server: Endpoint) {
    this.outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  }
}

function fmtMs(v: number): string {
  if (v >= 100) return `${Math.round(v)} ms`;
  if (v >= 1) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

function fmtS(v: number): string {
  if (v >= 10) return `${Math.round(v)} s`;
  return `${Number(v.toFixed(1))} s`;
}

function plural(n: number, one: string, many = one + "s"): string {
  return `${n} ${n === 1 ? one : many}`;
}

function ep(e: Endpoint): string {
  if (e.ip === OTHER_DESTINATIONS_IP) return "other destinations";
  return e.ip.includes(":") ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}


/** Time from the first SYN to the SYN that was answered, from the ladder (ms); null if not visible. */
function retryDelayMs(c: Connection): number | null {
  let lastSyn = -1;
  for (const s of c.ladder) {
    if (s.from === "server" && s.flags.startsWith("SYN")) break;
    if (s.from === "client" && s.flags === "SYN" && s.note !== "duplicate") lastSyn = s.ts;
  }
  if (lastSyn < 0) return null;
  return (lastSyn - c.firstTs) * 1000;
}

export class Diagnoser {
  private readonly maxExamples: number;
  private readonly maxDestinations: number;
  /** ip -> port -> aggregate (no per-connection key strings). */
  private readonly dests = new Map<string, Map<number, DestAgg>>();
  private destCount = 0;
  private other: DestAgg | null = null;
  private otherConnections = 0;
  /** Example connections (copies), and how many were kept for each kind. */
  private readonly examples: Connection[] = [];
  private readonly examplesPerKind = new Map<DiagnosisKind, number>();
  private readonly globalRtt = new Quantiles();
  /** TTLs of SYN-ACKs per server address (bounded like destinations). */
  private readonly hostTtls = new Map<string, Set<number>>();
  private total = 0;
  private handshakesOk = 0;
  /** Restored (Diagnoser.restore): the destinations, still to be read, and whether "other destinations" follows them. */
  private restored: { reader: StateReader; hasOther: boolean } | null = null;

  constructor(opts: DiagnoserOptions = {}) {
    const l = Diagnoser.limits(opts);
    this.maxExamples = l.maxExamplesPerKind;
    this.maxDestinations = l.maxDestinations;
  }

  /** The options as a diagnoser applies them (defaults, bounds): also what the compiled one is given. */
  static limits(opts: DiagnoserOptions): Required<DiagnoserOptions> {
    return { maxExamplesPerKind: Math.max(0, opts.maxExamplesPerKind ?? 5), maxDestinations: Math.max(1, opts.maxDestinations ?? 100_000) };
  }

  /**
   * A diagnoser holding aggregates made elsewhere by the same add() (the
   * compiled diagnoser, over connection batches), and the example
   * connections it chose: its finish() is then this one's.
   */
  static restore(opts: DiagnoserOptions, state: DiagnoserState, examples: readonly Connection[]): Diagnoser {
    const g = new Diagnoser(opts);
    const r = new StateReader(state);
    g.total = r.n();
    g.handshakesOk = r.n();
    g.destCount = r.n();
    g.otherConnections = r.n();
    r.quantiles(g.globalRtt);
    for (const k of KINDS_NOTED) {
      const kept = r.n();
      if (kept > 0) g.examplesPerKind.set(k, kept);
    }
    for (let h = r.n(); h > 0; h--) {
      const ip = r.str();
      g.hostTtls.set(ip, new Set(r.list()));
    }
    // The destinations are read by finish(), one at a time.
    g.restored = { reader: r, hasOther: r.n() === 1 };
    for (const c of examples) g.examples.push(c);
    return g;
  }

  private dest(server: Endpoint): DestAgg {
    let ports = this.dests.get(server.ip);
    let d = ports?.get(server.port);
    if (d !== undefined) return d;
    if (this.destCount >= this.maxDestinations) {
      this.otherConnections++;
      if (this.other === null) this.other = new DestAgg({ ip: OTHER_DESTINATIONS_IP, port: 0 });
      return this.other;
    }
    d = new DestAgg({ ip: server.ip, port: server.port });
    if (ports === undefined) {
      ports = new Map();
      this.dests.set(server.ip, ports);
    }
    ports.set(server.port, d);
    this.destCount++;
    return d;
  }

  private note(d: DestAgg, kind: DiagnosisKind, c: Connection, frames: readonly number[]): void {
    let e = d.evidence.get(kind);
    if (e === undefined) {
      e = { frames: [], ids: [], examplesKept: 0 };
      d.evidence.set(kind, e);
    }
    for (const f of frames) {
      if (e.frames.length >= FRAMES_PER_KIND) break;
      e.frames.push(f);
    }
    const kept = this.examplesPerKind.get(kind) ?? 0;
    if (kept < this.maxExamples && e.examplesKept < EXAMPLES_PER_DESTINATION) {
      this.examplesPerKind.set(kind, kept + 1);
      // A copy: the writer thread decodes every connection into the same reused objects.
      this.examples.push(cloneConnection(c));
      e.examplesKept++;
      e.ids.push(c.id);
    }
  }

  /**
   * `synAckTtl`: TTL of the connection's first SYN-ACK when the caller knows
   * it (the flow tracker passes it); otherwise it is read from the ladder,
   * which clean connections may not carry.
   */
  add(c: Connection, synAckTtl = -1): void {
    this.total++;
    const d = this.dest(c.server);
    d.attempts++;
    d.outcomes[c.outcome]++;
    d.addClient(c.client.ip);
    d.synRetrans += c.retransmissions.syn;
    d.synAckRetrans += c.retransmissions.synAck;
    d.dataRetrans += c.retransmissions.data;
    d.packets += c.packets.client + c.packets.server;
    if (c.synAck > 0) {
      // The SYN-ACK's TTL: what packets really sent by the server host look
      // like, on any of its ports (for refused: same TTL = the host's own RST).
      let ttls = this.hostTtls.get(c.server.ip);
      if (ttls === undefined && this.hostTtls.size < this.maxDestinations) this.hostTtls.set(c.server.ip, (ttls = new Set()));
      if (ttls !== undefined && ttls.size < 8) {
        if (synAckTtl >= 0) ttls.add(synAckTtl);
        else for (const s of c.ladder) {
          if (s.from === "server" && s.flags === "SYN,ACK") {
            ttls.add(s.ttl);
            break;
          }
        }
      }
    }
    if (c.handshakeRttMs !== null) {
      d.rttSyn.add(c.handshakeRttMs.synToSynAck);
      d.rttTotal.add(c.handshakeRttMs.total);
      this.globalRtt.add(c.handshakeRttMs.total);
    }
    const forged = c.rst !== null && c.rst.suspectedForged;
    if (forged && d.forgedReason === null) d.forgedReason = c.rst!.forgedReason;

    switch (c.outcome) {
      case "unanswered": {
        const retries = Math.max(0, c.syn - 1);
        d.unansweredSyns += c.syn;
        if (retries < d.minRetries) d.minRetries = retries;
        if (retries > d.maxRetries) d.maxRetries = retries;
        const span = c.lastTs - c.firstTs;
        if (span > d.maxSpanS) d.maxSpanS = span;
        this.note(d, "silent-drop", c, c.frames);
        break;
      }
      case "pending":
        if (c.syn > 1) {
          d.pendingRetried++;
          d.pendingSyns += c.syn;
          if (c.lastTs - c.firstTs > d.pendingMaxSpanS) d.pendingMaxSpanS = c.lastTs - c.firstTs;
          this.note(d, "silent-drop", c, c.frames);
        }
        break;
      case "refused":
        if (c.rst) d.rstTtls.add(c.rst.ttl);
        if (forged) {
          d.refusedForged++;
          this.note(d, "forged-rst", c, c.rst ? [c.rst.frame] : []);
        }
        this.note(d, "refused", c, c.frames);
        break;
      case "icmp-rejected":
        if (c.icmp) {
          const k = `${c.icmp.type}/${c.icmp.code}/${c.icmp.from}`;
          const a = d.icmp.get(k);
          if (a) a.n++;
          else if (d.icmp.size < 16) d.icmp.set(k, { type: c.icmp.type, code: c.icmp.code, from: c.icmp.from, ipVersion: c.ipVersion, n: 1 });
        }
        this.note(d, "icmp-rejected", c, c.frames);
        break;
      case "synack-unacked": {
        if (c.rst && c.rst.from === "client") d.unackedClientRst++;
        // The client resent its SYN after the SYN-ACK: the SYN-ACK never reached it.
        let sawSynAck = false;
        for (const s of c.ladder) {
          if (s.from === "server" && s.flags === "SYN,ACK") sawSynAck = true;
          else if (sawSynAck && s.from === "client" && s.flags === "SYN" && s.note !== "duplicate") {
            d.unackedClientResentSyn++;
            break;
          }
        }
        this.note(d, "synack-unacked", c, c.frames);
        break;
      }
      case "aborted-by-client":
        this.note(d, "aborted-by-client", c, c.frames);
        break;
      case "reset":
        if (c.rst?.from === "client") d.resetByClient++;
        else d.resetByServer++;
        if (forged) {
          d.resetForged++;
          this.note(d, "forged-rst", c, c.rst ? [c.rst.frame] : []);
        }
        this.note(d, "reset-after-established", c, c.rst ? [c.rst.frame] : c.frames);
        break;
      default:
        break;
    }
    if (c.outcome === "established" || c.outcome === "closed" || c.outcome === "reset") {
      d.handshakes++;
      this.handshakesOk++;
      if (c.syn > 1) {
        d.retried++;
        d.retriedExtraSyns += c.syn - 1;
        const added = retryDelayMs(c);
        if (added !== null) {
          d.retriedAddedMsSum += added;
          d.retriedAddedCount++;
          if (added > d.retriedAddedMsMax) d.retriedAddedMsMax = added;
        }
        this.note(d, "retried-handshake", c, c.frames);
      }
    }
    if (c.retransmissions.data > 0) {
      // Retransmitted segments: those the ladder shows, then the frames the
      // tracker kept beyond the ladder (it keeps the first few retransmissions).
      const fr: number[] = [];
      let lastLadder = 0;
      for (const s of c.ladder) {
        if (s.note === "retransmission" && !s.flags.includes("SYN")) fr.push(s.frame);
        lastLadder = s.frame;
      }
      if (c.ladderTruncated) for (const f of c.frames) if (f > lastLadder) fr.push(f);
      this.note(d, "data-retransmissions", c, fr);
    }
  }

  // ------------------------------------------------------------------ findings

  private findingsFor(d: DestAgg): Finding[] {
    const out: Finding[] = [];
    const s = ep(d.server);
    const ip = d.server.ip;
    const port = d.server.port;
    const ev = (k: DiagnosisKind): KindEvidence => d.evidence.get(k) ?? { frames: [], ids: [], examplesKept: 0 };
    const push = (kind: DiagnosisKind, connections: number, title: string, cause: string, whoCanFix: string, severity?: Severity): void => {
      const e = ev(kind);
      out.push({
        kind,
        severity: severity ?? KIND_SEVERITY[kind],
        server: { ...d.server },
        connections,
        title,
        detail: cause,
        whoCanFix,
        exampleConnections: e.ids.slice(0, IDS_PER_KIND),
        frames: e.frames.slice().sort((a, b) => a - b),
      });
    };
    const o = d.outcomes;

    if (o.unanswered > 0) {
      const n = o.unanswered;
      const retries =
        d.minRetries === d.maxRetries
          ? `${n === 1 ? "retried" : "each retried"} ${plural(d.maxRetries, "time")}`
          : `retried ${d.minRetries} to ${d.maxRetries} times`;
      const span = d.maxRetries > 0 ? ` over ${n === 1 || d.minRetries === d.maxRetries ? "" : "up to "}${fmtS(d.maxSpanS)}` : "";
      const pending = o.pending > 0 ? ` (${plural(o.pending, "more attempt")} still waiting when the capture ended)` : "";
      push(
        "silent-drop",
        n,
        `${n} of ${plural(d.attempts, "connection attempt")} to ${s} got no answer (${plural(d.unansweredSyns, "SYN")}, ${retries}${span})${pending}`,
        `Nothing came back: no SYN-ACK, no RST, no ICMP error. The SYNs are dropped silently: a firewall or security-group DROP rule, the host is down behind a router that sends no ICMP, or a routing black hole. If this capture was taken on the client, capture on the server too to see whether the SYNs arrive.`,
        `whoever runs the network path between the clients and ${ip} (firewalls, security groups, routing)`,
      );
    }

    if (o.unanswered === 0 && d.pendingRetried > 0) {
      // The capture stopped while clients were still resending SYNs: no verdict yet, but no answer either.
      const n = d.pendingRetried;
      push(
        "silent-drop",
        n,
        `${n} of ${plural(d.attempts, "connection attempt")} to ${s} had no answer yet when the capture ended (${plural(d.pendingSyns, "SYN")} over up to ${fmtS(d.pendingMaxSpanS)}, the client still retrying)`,
        `Nothing came back to SYNs sent up to ${fmtS(d.pendingMaxSpanS)} apart. The capture ended too soon after the last SYN to call them unanswered; if this keeps happening, the SYNs are being dropped silently (firewall DROP rule, security group, host down, routing black hole).`,
        `whoever runs the network path between the clients and ${ip} (firewalls, security groups, routing)`,
        "warning",
      );
    }

    if (o.refused > 0) {
      const n = o.refused;
      const title = `${n} of ${plural(d.attempts, "connection attempt")} to ${s} ${n === 1 ? "was" : "were"} refused with a RST`;
      let cause: string;
      let who: string;
      const hostTtls = this.hostTtls.get(ip);
      const rstTtlMatches = hostTtls !== undefined && [...d.rstTtls].some((t) => hostTtls.has(t));
      if (d.refusedForged > 0) {
        cause = `${d.refusedForged === n ? "The RSTs" : `${d.refusedForged} of the ${n} RSTs`} probably did not come from ${ip}: ${d.forgedReason}. A firewall, IPS or load balancer between the capture point and ${ip} rejects the connections with a forged RST (e.g. REJECT --reject-with tcp-reset, an IPS/NGFW policy).`;
        who = `whoever runs the firewall, IPS or load balancer in front of ${ip}`;
      } else if (rstTtlMatches) {
        cause = `The RST came from ${ip} itself (same TTL as its other packets): the host is up, but nothing listens on port ${port} (service down, wrong port, or bound to another address such as 127.0.0.1), or its own host firewall rejects with tcp-reset.`;
        who = `the owner of ${ip} (start the service, or fix its port or bind address)`;
      } else {
        cause = `The host, or a firewall answering in its name, rejected the connection: nothing listens on port ${port} (service down, wrong port, bound to another address) or a firewall rule rejects with tcp-reset. Too few other packets from ${ip} were seen to tell the two apart by TTL.`;
        who = `the owner of ${ip}; if the service is running, whoever runs the firewalls in between`;
      }
      push("refused", n, title, cause, who);
    }

    if (o["icmp-rejected"] > 0) {
      const n = o["icmp-rejected"];
      const groups = [...d.icmp.values()].sort((a, b) => b.n - a.n);
      const top = groups[0];
      if (top) {
        const m = icmpMeaning(top.ipVersion, top.type, top.code);
        const v = top.ipVersion === 6 ? "ICMPv6" : "ICMP";
        const others = groups.length > 1 ? ` (and ${groups.length - 1} other ICMP ${groups.length - 1 === 1 ? "kind" : "kinds"})` : "";
        push(
          "icmp-rejected",
          n,
          `${n} of ${plural(d.attempts, "connection attempt")} to ${s} ${n === 1 ? "was" : "were"} rejected by ${v} "${m.name}" (type ${top.type} code ${top.code}) from ${top.from}${top.n !== n ? ` (${top.n} of them)` : ""}${others}`,
          `${top.from === ip ? `${ip} itself` : `${top.from}`} answered the SYN with ${v} ${m.name}: ${m.cause}.`,
          m.who(top.from, ip),
        );
      }
    }

    if (o["synack-unacked"] > 0) {
      const n = o["synack-unacked"];
      const bits: string[] = [];
      if (d.unackedClientResentSyn > 0) bits.push(`in ${d.unackedClientResentSyn} the client kept resending its SYN after the SYN-ACK, so the SYN-ACK never reached it`);
      if (d.unackedClientRst > 0) bits.push(`in ${d.unackedClientRst} the client answered the SYN-ACK with RST (a port scan, or a client that had already given up)`);
      push(
        "synack-unacked",
        n,
        `${n} of ${plural(d.attempts, "connection attempt")} to ${s}: the server answered (SYN-ACK${d.synAckRetrans > 0 ? `, resent ${plural(d.synAckRetrans, "time")}` : ""}) but the client's ACK was never seen`,
        `${ip} is up and listening. The SYN-ACK probably does not get back to the client: asymmetric routing, a stateful firewall dropping the SYN-ACK on its way back, or reverse-path filtering.${bits.length ? " Of these, " + bits.join("; ") + "." : ""}`,
        `whoever runs the return path from ${ip} to the clients (routing, stateful firewalls)`,
      );
    }

    const forgedTotal = d.refusedForged + d.resetForged;
    if (d.resetForged > 0) {
      push(
        "forged-rst",
        forgedTotal,
        `${plural(forgedTotal, "RST")} that claim to come from ${s} probably did not`,
        `${d.forgedReason}. Something between the capture point and the host (firewall, IPS, load balancer) is cutting connections with RSTs in the host's name.`,
        `whoever runs the middleboxes between the capture point and ${ip}`,
      );
    }

    if (o.reset > 0) {
      const n = o.reset;
      const sides = [d.resetByClient ? `${d.resetByClient} by the client` : "", d.resetByServer ? `${d.resetByServer} by the server` : ""]
        .filter(Boolean)
        .join(", ");
      push(
        "reset-after-established",
        n,
        `${n} of ${plural(d.handshakes, "established connection")} to ${s} ${n === 1 ? "was" : "were"} reset after the handshake (${sides})`,
        `A RST after the handshake ends the connection abruptly. From the server it usually means the application closed with unread data, crashed, or hit a limit; from the client, an application abort or timeout.${d.resetForged > 0 ? ` ${d.resetForged} of these RSTs look forged (see the forged-RST finding).` : ""}`,
        d.resetByServer >= d.resetByClient ? `the owner of the service on ${s}` : "the owner of the client application",
      );
    }

    if (d.retried > 0) {
      const avg = d.retriedAddedCount > 0 ? d.retriedAddedMsSum / d.retriedAddedCount : 0;
      const lat =
        d.retriedAddedCount > 0 ? `, adding ${fmtMs(avg)} on average (up to ${fmtMs(d.retriedAddedMsMax)}) before the handshake could finish` : "";
      push(
        "retried-handshake",
        d.retried,
        `${d.retried} of ${plural(d.handshakes, "successful handshake")} to ${s} needed SYN retransmissions (${plural(d.retriedExtraSyns, "extra SYN")})${lat}`,
        `SYNs or SYN-ACKs were lost on the way; each loss costs the client a retransmission timeout (1 s on Linux, 3 s on older stacks). Look for packet loss on the path (interface errors, congested links, an overloaded firewall or conntrack table) or a full listen queue on the server (nstat TcpExtListenDrops).`,
        `whoever runs the network path to ${ip}, or the owner of ${ip} if its listen queue overflows`,
      );
    }

    if (o["aborted-by-client"] > 0) {
      const n = o["aborted-by-client"];
      push(
        "aborted-by-client",
        n,
        `${n} of ${plural(d.attempts, "connection attempt")} to ${s} ${n === 1 ? "was" : "were"} abandoned by the client with a RST before any answer`,
        `The client gave up before the server answered: an application connect timeout shorter than the SYN retries, or a scanner.`,
        `the owner of the client application (or the path to ${ip} if the server is slow to answer)`,
      );
    }

    if (d.dataRetrans >= RETRANS_MIN && d.packets > 0 && d.dataRetrans / d.packets >= RETRANS_RATE) {
      const pct = ((100 * d.dataRetrans) / d.packets).toFixed(1);
      push(
        "data-retransmissions",
        d.attempts,
        `${plural(d.dataRetrans, "data retransmission")} to and from ${s}: ${pct} % of ${plural(d.packets, "packet")}`,
        `Segments had to be sent again (Wireshark's tcp.analysis.retransmission, SYNs excluded): loss or heavy queueing on the path.`,
        `whoever runs the network path to ${ip}`,
      );
    }
    return out;
  }

  private healthySummary(d: DestAgg): string {
    const s = ep(d.server);
    const med = d.rttTotal.count > 0 ? `; median handshake ${fmtMs(d.rttTotal.percentile(50))}` : "";
    const ok = d.handshakes;
    if (ok === d.attempts)
      return d.attempts === 1
        ? `The only connection to ${s} completed its handshake${med}.`
        : `All ${d.attempts} connections to ${s} completed their handshake${med}.`;
    const rest: string[] = [];
    if (d.outcomes.midstream) rest.push(`${d.outcomes.midstream} seen midstream (no SYN in the capture)`);
    if (d.outcomes.pending) rest.push(`${d.outcomes.pending} still waiting for an answer when the capture ended`);
    return `${ok} of ${plural(d.attempts, "connection")} to ${s} completed their handshake${med}${rest.length ? "; " + rest.join(", ") : ""}.`;
  }

  /** Every destination, "other destinations" last; restored ones are read one at a time (a scan's 100 000 are never all held as DestAgg). */
  private *allDests(): Iterable<DestAgg> {
    const r = this.restored;
    if (r !== null) {
      for (let n = r.reader.n(); n > 0; n--) yield r.reader.dest();
      if (r.hasOther) yield r.reader.dest();
      return;
    }
    for (const ports of this.dests.values()) yield* ports.values();
    if (this.other) yield this.other;
  }

  finish(): { destinations: Destination[]; findings: Finding[]; examples: Connection[] } {
    const destinations: Destination[] = [];
    let findings: Finding[] = [];
    for (const d of this.allDests()) {
      const fs = this.findingsFor(d);
      fs.sort(compareFindings);
      const top = fs[0];
      destinations.push({
        server: { ...d.server },
        attempts: d.attempts,
        clients: d.clientCount(),
        outcomes: { ...d.outcomes },
        retransmissions: { syn: d.synRetrans, synAck: d.synAckRetrans, data: d.dataRetrans },
        rttMs: { synToSynAck: d.rttSyn.summary(), total: d.rttTotal.summary() },
        diagnosis: top ? top.kind : "healthy",
        summary: top ? `${top.title}: ${firstSentence(top.detail)} Take this report to ${top.whoCanFix}.` : this.healthySummary(d),
      });
      for (const f of fs) findings.push(f);
    }
    destinations.sort((a, b) => {
      const sa = SEVERITY_RANK[KIND_SEVERITY[a.diagnosis]];
      const sb = SEVERITY_RANK[KIND_SEVERITY[b.diagnosis]];
      return sa - sb || b.attempts - a.attempts || compareText(a.server.ip, b.server.ip) || a.server.port - b.server.port;
    });
    findings = mergePortFindings(findings);
    findings.sort(compareFindings);
    if (findings.length > MAX_FINDINGS) {
      const cut = findings.length - MAX_FINDINGS;
      findings = findings.slice(0, MAX_FINDINGS);
      findings.push(captureWide("info", 0, `${plural(cut, "more finding")} not listed`, "Only the most severe findings with the most connections are listed; every destination is still in the destinations list."));
    }
    if (this.other !== null || this.restored?.hasOther) {
      findings.push(
        captureWide(
          "info",
          this.otherConnections,
          `${plural(this.otherConnections, "connection")} to destinations beyond the first ${this.maxDestinations} are summed under "other destinations"`,
          "The destination table is bounded to keep memory flat on scans and very large captures; those connections still count in every total.",
        ),
      );
    }
    const problems = findings.some((f) => f.severity !== "info");
    if (!problems) {
      const med = this.globalRtt.count > 0 ? `; median handshake ${fmtMs(this.globalRtt.percentile(50))}` : "";
      let title: string;
      if (this.total === 0) title = "No TCP connections in the capture";
      else if (this.handshakesOk === this.total)
        title = this.total === 1 ? `The only connection completed its handshake${med}` : `All ${this.total} connections completed their handshake${med}`;
      else title = `${this.handshakesOk} of ${plural(this.total, "connection")} completed their handshake${med}; none of the others shows a problem (midstream or still pending at the end)`;
      findings.unshift(captureWide("info", this.total, title, "No unanswered SYNs, refusals, ICMP rejections, resets or retransmission trouble were found."));
    }
    // One copy of each (a connection can be an example of two kinds).
    const examples: Connection[] = [];
    const seen = new Set<number>();
    for (const c of this.examples) {
      if (!seen.has(c.id)) {
        seen.add(c.id);
        examples.push(c);
      }
    }
    examples.sort((a, b) => a.id - b.id);
    return { destinations, findings, examples };
  }
}

/** A string of exactly these UTF-16 code units (lone surrogates too). */
function codeUnits(u: Uint16Array): string {
  let t = "";
  for (let k = 0; k < u.length; k += 4096) t += String.fromCharCode(...u.subarray(k, k + 4096));
  return t;
}

/** Reads a DiagnoserState in the order diagnose.cc state() writes it. */
class StateReader {
  private i = 0;
  private readonly texts: (string | null)[];

  constructor(private readonly s: DiagnoserState) {
    this.texts = new Array<string | null>(s.strs.length / 3).fill(null);
  }

  n(): number {
    return this.s.nums[this.i++]!;
  }

  /** A length, then that many numbers. */
  private run(): Float64Array {
    const len = this.n();
    const r = this.s.nums.subarray(this.i, this.i + len);
    this.i += len;
    return r;
  }

  list(): number[] {
    return Array.from(this.run());
  }

  str(): string {
    const id = this.n();
    let t = this.texts[id];
    if (t == null) {
      const S = this.s.strs;
      const start = S[3 * id + 1]!;
      const end = S[3 * id + 2]!;
      // odd: code unit by code unit (keeps a lone surrogate)
      t = S[3 * id] === 0 ? this.s.plain.slice(start, end) : codeUnits(this.s.odd.subarray(start, end));
      this.texts[id] = t;
    }
    return t;
  }

  /** A string, or -1 for none. */
  strOrNull(): string | null {
    if (this.s.nums[this.i] !== -1) return this.str();
    this.i++;
    return null;
  }

  quantiles(q: Quantiles): void {
    const count = this.n();
    const min = this.n();
    const max = this.n();
    if (this.n() === 0) {
      q.load({ count, min, max, exact: this.list(), lo: 0, counts: null });
    } else {
      const lo = this.n();
      q.load({ count, min, max, exact: null, lo, counts: Uint32Array.from(this.run()) });
    }
  }

  dest(): DestAgg {
    const ip = this.str();
    const d = new DestAgg({ ip, port: this.n() });
    d.attempts = this.n();
    for (const o of OUTCOMES) d.outcomes[o] = this.n();
    // exactly while few, else the bits of the bitmap still 0 (diagnose.cc; -1: counted exactly)
    const exact = this.n();
    const zeros = this.n();
    d.restoreClientCount(zeros >= 0 ? linearCount(zeros) : exact);
    d.synRetrans = this.n();
    d.synAckRetrans = this.n();
    d.dataRetrans = this.n();
    d.packets = this.n();
    this.quantiles(d.rttSyn);
    this.quantiles(d.rttTotal);
    d.unansweredSyns = this.n();
    d.minRetries = this.n();
    d.maxRetries = this.n();
    d.maxSpanS = this.n();
    d.pendingRetried = this.n();
    d.pendingSyns = this.n();
    d.pendingMaxSpanS = this.n();
    d.refusedForged = this.n();
    d.resetForged = this.n();
    d.forgedReason = this.strOrNull();
    for (const t of this.list()) d.rstTtls.add(t);
    d.resetByClient = this.n();
    d.resetByServer = this.n();
    for (let k = this.n(); k > 0; k--) {
      const type = this.n();
      const code = this.n();
      const from = this.str();
      const ipVersion = this.n();
      d.icmp.set(`${type}/${code}/${from}`, { type, code, from, ipVersion, n: this.n() });
    }
    d.unackedClientRst = this.n();
    d.unackedClientResentSyn = this.n();
    d.handshakes = this.n();
    d.retried = this.n();
    d.retriedExtraSyns = this.n();
    d.retriedAddedMsSum = this.n();
    d.retriedAddedMsMax = this.n();
    d.retriedAddedCount = this.n();
    for (let k = this.n(); k > 0; k--) {
      const kind = KINDS_NOTED[this.n()]!;
      const examplesKept = this.n();
      const frames = this.list();
      d.evidence.set(kind, { frames, ids: this.list(), examplesKept });
    }
    return d;
  }
}

function firstSentence(text: string): string {
  const i = text.search(/\.(\s|$)/);
  return i < 0 ? text : text.slice(0, i + 1);
}

function captureWide(severity: Severity, connections: number, title: string, detail: string): Finding {
  return {
    kind: "healthy",
    severity,
    server: null,
    connections,
    title,
    detail,
    whoCanFix: "nobody: nothing to fix",
    exampleConnections: [],
    frames: [],
  };
}

/**
 * Addresses in code-unit order: the same on every machine. (It was
 * localeCompare: an order that followed the user's locale, and whose first
 * call sets up ICU's collation, ~5 ms, a quarter of finish() on the 200k
 * bench file.)
 */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    b.connections - a.connections ||
    compareText(a.server?.ip ?? "", b.server?.ip ?? "") ||
    (a.server?.port ?? 0) - (b.server?.port ?? 0)
  );
}

/** Many ports of one host with the same diagnosis (a scan, a blocked range) become one finding. */
function mergePortFindings(findings: Finding[]): Finding[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.server === null) continue;
    const k = `${f.kind}|${f.server.ip}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(f);
  }
  const out: Finding[] = [];
  const merged = new Set<Finding>();
  for (const g of groups.values()) {
    if (g.length <= MERGE_PORTS_ABOVE) continue;
    const first = g[0]!;
    const ip = first.server!.ip;
    const connections = g.reduce((n, f) => n + f.connections, 0);
    const ports = g.map((f) => f.server!.port).sort((a, b) => a - b);
    const frames: number[] = [];
    const ids: number[] = [];
    for (const f of g) {
      for (const fr of f.frames) if (frames.length < FRAMES_PER_KIND) frames.push(fr);
      for (const id of f.exampleConnections) if (ids.length < IDS_PER_KIND) ids.push(id);
      merged.add(f);
    }
    out.push({
      kind: first.kind,
      severity: first.severity,
      server: { ip, port: 0 },
      connections,
      title: `${g.length} ports on ${ip} (${ports[0]}-${ports[ports.length - 1]}), ${plural(connections, "connection")}: ${kindPhrase(first.kind)}`,
      detail: `Same diagnosis on every one of these ports (a port scan, or a rule covering a port range). As for port ${first.server!.port}: ${first.detail}`,
      whoCanFix: first.whoCanFix,
      exampleConnections: ids,
      frames,
    });
  }
  for (const f of findings) if (!merged.has(f)) out.push(f);
  return out;
}

function kindPhrase(k: DiagnosisKind): string {
  switch (k) {
    case "silent-drop":
      return "no answer to the SYNs";
    case "refused":
      return "refused with RST";
    case "icmp-rejected":
      return "rejected by ICMP";
    case "synack-unacked":
      return "SYN-ACK sent, client's ACK never seen";
    case "forged-rst":
      return "RSTs that look forged";
    case "reset-after-established":
      return "reset after the handshake";
    case "retried-handshake":
      return "handshakes that needed SYN retransmissions";
    case "aborted-by-client":
      return "abandoned by the client";
    case "data-retransmissions":
      return "data retransmissions";
    case "healthy":
      return "healthy";
  }
}
