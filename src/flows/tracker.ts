/**
 * The flow tracker: follows every TCP connection through the capture and
 * emits one `Connection` per connection when its verdict is known.
 *
 * native/flows/flows.cc is the same state machine compiled (the pipeline's
 * default when it is built; flows/native.ts); this one is the reference, the
 * live-capture tracker and the fallback. A change here is a change there:
 * test/flows/native.test.ts holds the two to the same reports.
 *
 * Hot path rules (STYLE.md): no strings, no closures, no per-packet objects.
 * A connection is one pooled `Flow` object (plus one small `Dir` per side that
 * has sent something), found through a numeric, direction-symmetric hash of
 * the 5-tuple in an own chained hash table. Flows sit on an LRU list (O(1)
 * eviction of the least recently active one at `maxFlows`), and on one of two
 * auxiliary lists: SYNs waiting for an answer (ordered by last SYN, for
 * advance() and waitingSyns()) or ended connections (ordered by end time).
 * Past `compactAbove` connections, a new connection that is so far only its
 * client's SYN(s) lives in a compact tier instead (typed arrays, ~110 bytes:
 * a SYN flood of a million sources fits in ~110 MB, not 1.4 GB) and becomes a
 * Flow, by replaying its SYNs through the same code, when anything else
 * arrives for it or when it leaves; verdicts are identical either way
 * (test/flows/compact.test.ts).
 *
 * Outcome <-> Zeek conn_state (zeekState is computed with Zeek's own
 * conn_state function in base/protocols/conn/main.zeek, fed with the endpoint
 * states Zeek's TCP analyser would reach):
 *   unanswered         S0 (SH if the client then sent a FIN)
 *   pending            S0 (capture ended < synTimeoutS after the last SYN)
 *   refused            REJ
 *   icmp-rejected      S0 (Zeek logs the ICMP error as a separate ICMP conn)
 *   aborted-by-client  RSTOS0
 *   synack-unacked     S1: Zeek moves both endpoints to ESTABLISHED on a
 *                      SYN-ACK answering a SYN, so SYN + SYN-ACK without the
 *                      final ACK is S1 with history "Sh" (RSTO/RSTR if a RST
 *                      followed, e.g. a SYN scan's client RST is RSTO)
 *   established        S1
 *   closed             SF (both FINs), S2 (client's FIN only), S3 (server's FIN only)
 *   reset              RSTO (client sent RST), RSTR (server sent RST)
 *   midstream          OTH (or SF/S2/S3/RSTR/RSTRH/... as Zeek would say for
 *                      what was seen; client = sender of the first packet, or
 *                      the destination of a SYN-ACK seen first)
 *
 * Behaviour matched on purpose:
 * - Connection splitting (port reuse): a pure SYN whose sequence number is not
 *   the client's ISN starts a new connection, as Wireshark's tcp.stream does
 *   (a SYN with the same ISN is a retransmission).
 * - Ended connections (both FINs, or a RST) stay 2 s of capture time so late
 *   retransmitted FINs/ACKs/RSTs are counted in them (a short TIME_WAIT), then
 *   leave; when the table is full they leave first (not counted as evicted).
 * - Retransmissions: Wireshark's tcp_analyze_sequence_number decision order as
 *   in tshark 4.0 (keep-alive, zero-window probe, fast retransmission,
 *   out-of-order, spurious, retransmission); fast and spurious retransmissions
 *   carry tcp.analysis.retransmission in Wireshark too, out-of-order does not.
 * - Duplicates: the same packet captured twice (same direction, seq, ack,
 *   flags, length, window and IP ID -- for IPv6 the TCP timestamp or first
 *   SACK edge instead -- within 10 ms) is counted once, as a duplicate, never
 *   as a retransmission; TTL may differ (a routed copy).
 * - Handshake RTT: total = tshark's tcp.analysis.initial_rtt (first ACK
 *   without SYN minus the most recent SYN); synToSynAck = first SYN-ACK minus
 *   the SYN before it; synAckToAck = the ACK minus the last SYN-ACK before it.
 * - Ladder seq/ack are relative like Wireshark's: seq relative to that side's
 *   ISN (or first seq - 1 without a SYN), ack relative to the other side's,
 *   0 when the ACK flag is not set. ICMP steps show the quoted SYN's relative
 *   seq. Ladder notes: "retransmission", "duplicate", "keep-alive",
 *   "out-of-order" or null.
 * - Forged RSTs: see ttl.ts (TTL / hop count against the address's other packets).
 */

import { Kind, PacketView, TcpFlag } from "../decode/packet.js";
import { formatAddr } from "../decode/addr.js";
import { seqGt, seqLe, seqLt } from "../decode/seq.js";
import { OUTCOMES, PROBLEM_OUTCOMES, type Connection, type Endpoint, type LadderStep, type Outcome } from "./connection.js";
import { AddressTtlTable } from "./ttl.js";
import {
  AddrTextCache,
  B_EVICTED,
  B_FORGED,
  B_ICMP,
  B_MSS_NULL,
  B_OPTS,
  B_RST,
  B_RST_SERVER,
  B_RTT,
  B_SACK,
  B_TRUNC,
  B_TS,
  B_WS_NULL,
  NOTES,
  ZEEK_STATES,
  flagsText,
  type ConnectionEncoder,
} from "./codec.js";

export { flagsText };

export interface FlowTrackerOptions {
  /** Seconds after the last SYN before a SYN without answer counts as unanswered (default 3). */
  synTimeoutS?: number;
  /** Most connections tracked at once (default 1_000_000); the oldest idle ones are evicted beyond it. */
  maxFlows?: number;
  /** Packets kept per connection for ladders (default 12). */
  ladderLimit?: number;
  /**
   * "all" (default here; the analyze() pipeline defaults to "problems"):
   * every connection carries its ladder. "problems": only connections with a
   * problem outcome (PROBLEM_OUTCOMES) or with retransmissions or duplicates
   * carry it; the others get an empty ladder (ladderTruncated: false), which
   * saves most of the per-connection cost and JSON size on big captures.
   */
  ladderFor?: "all" | "problems";
  /**
   * Above this many connections in the table, a new connection that so far
   * is only client SYNs lives in the compact tier (~110 bytes in typed arrays
   * instead of ~1.4 KB of objects) until anything else arrives for it
   * (default 8192; 0 = always, for tests). Verdicts are the same either way:
   * a compact flow is replayed through the normal code when it leaves.
   */
  compactAbove?: number;
  /**
   * Called once per connection. `synAckTtl` is the TTL / hop limit of the
   * first SYN-ACK (-1 if none): the diagnoser needs it for every connection,
   * and clean connections no longer carry a ladder to read it from.
   */
  onConnection?: (c: Connection, synAckTtl: number) => void;
  /**
   * Write finished connections straight into this batch encoder (codec.ts)
   * instead of building Connection objects: the `--threads 2` report path.
   * onConnection is then not called; onEncoded gets each one's outcome.
   */
  encoder?: ConnectionEncoder;
  onEncoded?: (outcome: Outcome) => void;
}

export interface FlowTrackerStats {
  /** Connections in the table now. */
  active: number;
  /** Most connections in the table at once. */
  peak: number;
  /** Connections emitted early because the table was full. */
  evicted: number;
  /** Packets captured twice (same packet seen again within 10 ms), counted once. */
  duplicates: number;
  maxFlows: number;
}

const FIN = TcpFlag.FIN;
const SYN = TcpFlag.SYN;
const RST = TcpFlag.RST;
const ACK = TcpFlag.ACK;

/** A copy of the same packet (SPAN, -i any) arrives within this many seconds. */
const DUPLICATE_WINDOW_S = 0.01;
/**
 * Ended connections (both FINs, or a RST) stay this long (capture time) so that
 * late retransmitted FINs/ACKs/RSTs are still counted in them instead of
 * starting a bogus midstream connection (a short TIME_WAIT). They are the first
 * to go when the table is full, and leave without being marked evicted.
 */
const CLOSE_LINGER_S = 2;
/**
 * SYN-only connections leave the table on their own this long after their
 * verdict was due (packet-driven, capture time). advance() does not wait.
 */
const SYN_GRACE_S = 30;
/** Wireshark's out-of-order threshold before the handshake RTT is known. */
const OOO_DEFAULT_S = 0.003;
/** Wireshark: fast retransmission must follow the duplicate ACK within 20 ms. */
const FAST_RETRANS_S = 0.02;
/** Frame numbers kept per connection. */
const MAX_FRAMES = 32;
/** Of which at most this many are data retransmissions. */
const RETRANS_FRAMES = 8;
/** Only the first packets of each direction teach the TTL table (bounded work per packet). */
const TTL_LEARN_PACKETS = 3;

/** Ladder step in a plain number array: frame, ts, seq, ack, len, packed (flags | ttl << 9 | from << 17 | note << 19). */
const LADDER_FIELDS = 6;
// Ladder note codes: indexes into codec.ts's NOTES (the texts)
const NOTE_NONE = 0;
const NOTE_RETRANS = 1;
const NOTE_DUP = 2;
const NOTE_KEEPALIVE = 3;
const NOTE_OOO = 4;
// Ladder "from" codes: indexes into codec.ts's SIDES
const FROM_CLIENT = 0;
const FROM_SERVER = 1;
const FROM_ICMP = 2;

// Outcome codes: indexes into OUTCOMES.
const O_UNANSWERED = 0;
const O_REFUSED = 1;
const O_ICMP_REJECTED = 2;
const O_ABORTED_BY_CLIENT = 3;
const O_SYNACK_UNACKED = 4;
const O_ESTABLISHED = 5;
const O_CLOSED = 6;
const O_RESET = 7;
const O_MIDSTREAM = 8;
const O_PENDING = 9;
// Zeek conn_state codes: indexes into ZEEK_STATES.
const Z_S0 = 0;
const Z_S1 = 1;
const Z_SF = 2;
const Z_REJ = 3;
const Z_S2 = 4;
const Z_S3 = 5;
const Z_RSTO = 6;
const Z_RSTR = 7;
const Z_RSTOS0 = 8;
const Z_RSTRH = 9;
const Z_SH = 10;
const Z_SHR = 11;
const Z_OTH = 12;
const OUTCOME_CODE = new Map<Outcome, number>(OUTCOMES.map((o, i) => [o, i]));
/** Outcome codes of PROBLEM_OUTCOMES. */
const PROBLEM_CODE = new Uint8Array(OUTCOMES.length);
for (const o of PROBLEM_OUTCOMES) PROBLEM_CODE[OUTCOMES.indexOf(o)] = 1;

// Compact SYN record flag bits (with flags in bits 0-8 and the TTL in 9-16).
const REC_TS = 1 << 17;
const REC_DUP = 1 << 19;
/**
 * SYN packets a compact flow keeps (first SYN, retransmissions, copies): a
 * client that retries is still only SYNs (Linux sends 7 by default before it
 * gives up, Windows 3); one more makes it a full Flow.
 */
const K_MAX_SYNS = 8;
/** A compact flow's record of a RST (rB only): from the server, if set (else from the client). */
const REC_SERVER = 1 << 20;
/** kInfo: the compact flow ended with a RST (it waits in the closed list, kc*). */
const K_CLOSED = 1 << 16;
/** Slots of the address text cache (a power of two). */
const ADDR_CACHE = 8192;
/** Compact tier slots allocated at once (typed arrays: pages are touched only as slots are used). */
const K_CAP_MAX_INITIAL = 1 << 21;

const AUX_NONE = 0;
const AUX_SYN_WAIT = 1;
const AUX_CLOSED = 2;

/** Why a flow leaves the table. */
const EMIT_FINISH = 0;
const EMIT_DUE = 1; // advance(): SYNs unanswered past the timeout
const EMIT_EVICT = 2;
const EMIT_LINGER = 3; // ended, linger over
const EMIT_REUSE = 4; // a new SYN took over the 5-tuple

/** Per-direction state: counters and Wireshark's tcp_analyze_seq_info. */
class Dir {
  packets = 0;
  bytes = 0;
  /** Sent anything at all. */
  seen = false;
  synSeen = false;
  isn = 0;
  /** Relative-number base (ISN, or first seq - 1 without a SYN, like Wireshark). */
  base = 0;
  finSeen = false;
  rstSeen = false;
  // Wireshark tcp_analyze_seq_info
  nextKnown = false;
  nextseq = 0;
  nextseqTs = -0;
  maxSeqToBeAcked = 0;
  maxKnown = false;
  lastack = 0;
  lastackTs = -0;
  window = -1; // Wireshark starts at G_MAXUINT32: never equal to a real window
  dupacknum = 0;
  lastWasKeepAlive = false;
  lastWasZwp = false;
  // duplicate detection: last two packets' signatures
  d0IpId = -2;
  d0Seq = 0;
  d0Ack = 0;
  d0FlagsLen = 0;
  d0Win = 0;
  d0Sig = 0;
  d0Ts = -1e18;
  /** Packets the other side had sent when this one was seen. */
  d0Rev = 0;
  d1IpId = -2;
  d1Seq = 0;
  d1Ack = 0;
  d1FlagsLen = 0;
  d1Win = 0;
  d1Sig = 0;
  d1Ts = -1e18;
  d1Rev = 0;
  /** The sender address's slot in the TTL table (a hint for the next packet; -1 = none). */
  ttlSlot = -1;

  reset(): void {
    this.packets = 0;
    this.bytes = 0;
    this.seen = false;
    this.synSeen = false;
    this.isn = 0;
    this.base = 0;
    this.finSeen = false;
    this.rstSeen = false;
    this.nextKnown = false;
    this.nextseq = 0;
    this.nextseqTs = 0;
    this.maxSeqToBeAcked = 0;
    this.maxKnown = false;
    this.lastack = 0;
    this.lastackTs = 0;
    this.window = -1;
    this.dupacknum = 0;
    this.lastWasKeepAlive = false;
    this.lastWasZwp = false;
    this.d0IpId = -2;
    this.d0Ts = -1e18;
    this.d1IpId = -2;
    this.d1Ts = -1e18;
    this.ttlSlot = -1;
  }
}

/** The state of a side that has sent nothing yet (shared, read-only by convention). */
const NO_PACKETS = new Dir();

/** An empty array already of the kind that holds objects. */
function objectArray<T>(): T[] {
  const a: (T | null)[] = [null];
  a.pop();
  return a as T[];
}

/*
 * Times (seconds, milliseconds) start as -0, a double, in Flow and Dir: a
 * field that starts as the integer 0 and later gets a fraction changes the
 * hidden class of every flow, and code optimised for the old one (create,
 * tcp, segment...) was thrown away and compiled again. -0 compares as 0.
 */
class Flow {
  id = 0;
  hash = 0;
  hnext: Flow | null = null;
  /** Index in the tracker's flowAt and touchAt (fixed for the object's life: the LRU log names flows by it). */
  slot = 0;
  auxPrev: Flow | null = null;
  auxNext: Flow | null = null;
  aux = AUX_NONE;

  ipv = 4;
  // client (c) and server (s) endpoints
  ca0 = 0;
  ca1 = 0;
  ca2 = 0;
  ca3 = 0;
  cp = 0;
  sa0 = 0;
  sa1 = 0;
  sa2 = 0;
  sa3 = 0;
  sp = 0;

  /**
   * Per-direction state, allocated when that side sends its first packet
   * (NO_PACKETS until then: a scan's SYN-only flows never pay for the server
   * side). NO_PACKETS is shared and never written to.
   */
  c: Dir = NO_PACKETS;
  s: Dir = NO_PACKETS;

  firstTs = -0;
  lastTs = -0;
  endTs = -0;
  ended = false;

  syn = 0;
  synAck = 0;
  firstSynTs = -0;
  lastSynTs = -0;
  prevSynTs = -0;
  /** Most recent pure SYN in either direction (Wireshark ts_mru_syn); 0 = none. */
  mruSynTs = -0;
  mruSynSet = false;
  /** tshark's ts_first_rtt in seconds; 0 = not yet. */
  firstRtt = -0;

  // Handshake timing, set at the first SYN-ACK (fields of the flow itself: no
  // object per connection, and one memory access less per packet).
  /** A SYN-ACK was seen (the hs* fields below are set). */
  hsSet = false;
  hsSynAckTs = -0;
  /** The SYN the first SYN-ACK answered (the last SYN before it). */
  hsSynForSynAckTs = -0;
  /** The first SYN-ACK came after a SYN (not reordered before it). */
  hsAnswersSyn = false;
  hsLastSynAckTs = -0;
  hsAckTs = -0;
  hsRttSet = false;
  hsSynToSynAckMs = -0;
  hsSynAckToAckMs = -0;
  hsTotalMs = -0;
  handshakeDone = false;

  /** TTL of the first SYN-ACK; -1 = none yet. */
  synAckTtl = -1;
  optMss = -1;
  optWs = -1;
  optSack = false;
  optTs = false;

  dataRetrans = 0;
  duplicates = 0;

  rstFrom = 0; // 0 none, 1 client, 2 server
  rstTs = -0;
  rstFrame = 0;
  rstTtl = 0;
  rstIpId = -1;

  icmpType = -1;
  icmpCode = 0;
  icmpTs = -0;
  icmpFrame = 0;
  icmpIpv = 4;
  icmpA0 = 0;
  icmpA1 = 0;
  icmpA2 = 0;
  icmpA3 = 0;

  /**
   * Frame numbers behind the verdict, in capture order (so already sorted):
   * the first framesN entries of a buffer kept with the pooled flow (no array
   * to allocate and grow per connection; build() copies them out).
   */
  framesBuf: number[] = [];
  framesN = 0;
  ladderN = 0;
  /** Packets offered to the ladder (for ladderTruncated). */
  ladderSeen = 0;
  /** Ladder steps, LADDER_FIELDS numbers each (a plain array: cheap to allocate, kept when pooled). */
  ladder: number[] = [];

  /** The frame list of the emitted connection (an exact-size copy). */
  takeFrames(): number[] {
    const B = this.framesBuf;
    // Array literals for the usual few frames: cheaper than a slice() call.
    switch (this.framesN) {
      case 0:
        return [];
      case 1:
        return [B[0]!];
      case 2:
        return [B[0]!, B[1]!];
      case 3:
        return [B[0]!, B[1]!, B[2]!];
      case 4:
        return [B[0]!, B[1]!, B[2]!, B[3]!];
      case 5:
        return [B[0]!, B[1]!, B[2]!, B[3]!, B[4]!];
      case 6:
        return [B[0]!, B[1]!, B[2]!, B[3]!, B[4]!, B[5]!];
      default:
        return B.slice(0, this.framesN);
    }
  }

  /**
   * This flow's own direction states, made with it (adjacent in memory, and
   * they stay together while pooled): c and s point at them once that side
   * has sent something.
   */
  readonly cOwn = new Dir();
  readonly sOwn = new Dir();

  constructor(slot: number) {
    this.slot = slot;
  }

  reset(): void {
    this.hnext = this.auxPrev = this.auxNext = null;
    this.aux = AUX_NONE;
    if (this.c !== NO_PACKETS) {
      this.c.reset();
      this.c = NO_PACKETS;
    }
    if (this.s !== NO_PACKETS) {
      this.s.reset();
      this.s = NO_PACKETS;
    }
    this.firstTs = this.lastTs = this.endTs = 0;
    this.ended = false;
    this.syn = this.synAck = 0;
    this.firstSynTs = this.lastSynTs = this.prevSynTs = 0;
    this.mruSynTs = 0;
    this.mruSynSet = false;
    this.firstRtt = 0;
    this.hsSet = false;
    this.hsSynAckTs = this.hsSynForSynAckTs = this.hsLastSynAckTs = this.hsAckTs = 0;
    this.hsAnswersSyn = this.hsRttSet = false;
    this.hsSynToSynAckMs = this.hsSynAckToAckMs = this.hsTotalMs = 0;
    this.handshakeDone = false;
    this.optMss = this.optWs = -1;
    this.synAckTtl = -1;
    this.optSack = this.optTs = false;
    this.dataRetrans = 0;
    this.duplicates = 0;
    this.rstFrom = 0;
    this.rstTs = this.rstFrame = this.rstTtl = 0;
    this.rstIpId = -1;
    this.icmpType = -1;
    this.icmpCode = this.icmpTs = this.icmpFrame = 0;
    this.framesN = 0;
    this.ladderN = 0;
    this.ladderSeen = 0;
    // ladder: its contents are overwritten (ladderN = 0), its capacity kept: no regrowth per connection.
  }
}

/**
 * Raw fields of SYN packets of compact flows, a column per field. A flow is
 * at most K_MAX_SYNS SYNs there (one more makes it a full Flow).
 */
class SynRecords {
  cap = 0;
  frame = new Float64Array(0);
  ts = new Float64Array(0);
  seq = new Int32Array(0);
  ack = new Int32Array(0);
  ipId = new Int32Array(0);
  /** Duplicate signature: TSval, else the first SACK edge, else -1. */
  sig = new Int32Array(0);
  len = new Int32Array(0);
  /** flags | ttl << 9 | REC_TS | REC_DUP | REC_SERVER. */
  pack = new Int32Array(0);
  win = new Uint16Array(0);
  /** rB only: the flow's previous later SYN's record + 1 (0 = the previous one is its first SYN, in rA). */
  link = new Int32Array(0);

  resize(n: number): void {
    const i32 = (old: Int32Array) => {
      const a = new Int32Array(n);
      a.set(old.subarray(0, Math.min(old.length, n)));
      return a;
    };
    const f64 = (old: Float64Array) => {
      const a = new Float64Array(n);
      a.set(old.subarray(0, Math.min(old.length, n)));
      return a;
    };
    this.frame = f64(this.frame);
    this.ts = f64(this.ts);
    this.seq = i32(this.seq);
    this.ack = i32(this.ack);
    this.ipId = i32(this.ipId);
    this.sig = i32(this.sig);
    this.len = i32(this.len);
    this.pack = i32(this.pack);
    this.link = i32(this.link);
    const w = new Uint16Array(n);
    w.set(this.win.subarray(0, Math.min(this.win.length, n)));
    this.win = w;
    this.cap = n;
  }

  store(r: number, v: PacketView, frame: number, ts: number): void {
    this.frame[r] = frame;
    this.ts[r] = ts;
    this.seq[r] = v.seq | 0;
    this.ack[r] = v.ack | 0;
    this.ipId[r] = v.ipId;
    this.sig[r] = v.hasTimestamps ? v.tsVal | 0 : v.sackBlocks > 0 ? v.sackEdges[1]! | 0 : -1;
    this.len[r] = v.payloadLen;
    this.win[r] = v.window;
    this.pack[r] = (v.flags & 0x1ff) | ((v.ttl & 0xff) << 9) | (v.hasTimestamps ? REC_TS : 0);
  }
}

/** An address in a connection batch (codec.ts): 4 and one word, or 6 and four. Returns the next index. */
function putAddr(a: Float64Array, i: number, v6: boolean, w0: number, w1: number, w2: number, w3: number): number {
  if (v6) {
    a[i] = 6;
    a[i + 1] = w0 >>> 0;
    a[i + 2] = w1 >>> 0;
    a[i + 3] = w2 >>> 0;
    a[i + 4] = w3 >>> 0;
    return i + 5;
  }
  a[i] = 4;
  a[i + 1] = w0 >>> 0;
  return i + 2;
}

function endpointHash(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = Math.imul(w0 ^ 0x27d4eb2f, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ w3, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15) ^ port, 0x27d4eb2f);
  return h ^ (h >>> 16);
}

export class FlowTracker {
  private readonly synTimeoutS: number;
  private readonly maxFlows: number;
  private readonly ladderLimit: number;
  private readonly ladderProblemsOnly: boolean;
  private readonly onConnection: (c: Connection, synAckTtl: number) => void;
  private readonly encoder: ConnectionEncoder | null;
  private readonly onEncoded: ((outcome: Outcome) => void) | null;

  private buckets: (Flow | null)[];
  private bucketMask: number;
  /**
   * LRU order without linked lists (relinking on every packet touched two
   * other flows' cold memory): a log of (flow slot, touch) appended as flows
   * are touched. An entry is current while its flow's touch still equals it;
   * the first current entry is the least recently active flow. Stale entries
   * are dropped when the log fills, so it stays within 2x the table.
   */
  private flowAt: (Flow | null)[] = [];
  /**
   * Per slot: the tracker's touch counter when that flow was last active (LRU
   * order across both tiers; -1 = not in the table). Kept apart from the
   * flows so that compacting the log reads a small array, not cold flows.
   */
  private touchAt = new Float64Array(1024).fill(-1);
  private freeSlots: number[] = [];
  private logSlot = new Int32Array(1024);
  private logTouch = new Float64Array(1024);
  private logHead = 0;
  private logTail = 0;
  /**
   * The log is kept only once the table has been full (logStart): until an
   * eviction needs the order, touchAt alone records it, and most captures
   * never fill the table (the log's writes and compactions were ~3% of the
   * per-packet time).
   */
  private logOn = false;
  /**
   * Capture time at or after which packet() must look at the due lists
   * (the earliest of their heads' due times; -Infinity = recompute).
   */
  private dueAt = -Infinity;
  private synHead: Flow | null = null;
  private synTail: Flow | null = null;
  private closedHead: Flow | null = null;
  private closedTail: Flow | null = null;
  /**
   * Ended flows kept for reuse. Made an array of objects from the start (an
   * empty [] holds small integers until its first push, and that change of
   * kind deoptimised create() when the first flow came back).
   */
  private readonly pool: Flow[] = objectArray<Flow>();
  private nextId = 0;
  /** Latest timestamp seen in the whole capture (capture end at finish()). */
  private maxTs = -Infinity;
  private readonly ttlTable = new AddressTtlTable();
  private readonly scratchA = new Uint32Array(4);
  private readonly addrs = new AddrTextCache(ADDR_CACHE);
  private finished = false;
  /** finishSome() in progress: the flows left at the end, by id, and how far it got. */
  private fin: { rest: Flow[]; ks: Int32Array; n: number; i: number; j: number } | null = null;

  // ---- compact tier: SYN-only flows in typed arrays (struct of arrays, by slot).
  // A SYN flood, a scan or clients retrying a dead service fill the table with
  // flows that are SYNs and nothing else; as objects those cost ~3 KB each.
  // Here a slot keeps the endpoints and the raw fields of up to K_MAX_SYNS SYN
  // packets (~110 bytes, and ~46 more per retransmission), and the RST that
  // ends one (a scan of closed ports, "connection refused" at a high rate: the
  // flow then waits out its linger in the closed list kc*),
  // and the flow is replayed through segment() (the one code path for
  // verdicts) when it leaves or when any other packet arrives for it.
  // Typed arrays are allocated for the whole capacity at once: the kernel
  // backs only the pages that slots touch. Links are slot + 1 (0 = none).
  private readonly compactAbove: number;
  private kCap = 0;
  private kActive = 0;
  private kUsed = 0;
  /** Free slots: a stack linked through kHNext. */
  private kFreeTop = 0;
  private kHead = 0;
  private kTail = 0;
  /** Compact flows ended by a RST, in the order they ended (linked through kPrev/kNext too). */
  private kcHead = 0;
  private kcTail = 0;
  private kMask = 0;
  private kBuckets = new Int32Array(0);
  private kHash = new Int32Array(0);
  private kHNext = new Int32Array(0);
  private kPrev = new Int32Array(0);
  private kNext = new Int32Array(0);
  /** Address word 0 of client and server (all of an IPv4 address). */
  private kAddr = new Int32Array(0);
  /** Words 1-3 of client and server, written for IPv6 flows only. */
  private kAddr6 = new Int32Array(0);
  /** cp << 16 | sp. */
  private kPorts = new Int32Array(0);
  /** ipVersion | records << 8 | K_CLOSED. */
  private kInfo = new Int32Array(0);
  /** First SYN's options: (mss + 1) | (windowScale + 1) << 17 | sackPermitted << 26. */
  private kOpt = new Int32Array(0);
  private kId = new Float64Array(0);
  /** Touch counter of the slot's last packet (the LRU order, shared with touchAt of full flows). */
  private kTouch = new Float64Array(0);
  /** The latest later SYN's record in rB, + 1 (0 = none); earlier ones chain through rB.link. */
  private kR2 = new Int32Array(0);
  private touchSeq = 0;
  /** First SYN of each slot (indexed by slot). */
  private readonly rA = new SynRecords();
  /** Later SYNs (retransmissions or copies), allocated on demand. */
  private readonly rB = new SynRecords();
  private rBUsed = 0;
  private rBFreeN = 0;
  private rBFree = new Int32Array(0);
  /** kMaterialize's scratch: a flow's later SYN records, latest first. */
  private readonly kOrder = new Int32Array(K_MAX_SYNS);
  /** The view compact flows are replayed through. */
  private readonly rv = new PacketView();
  /** Set while replaying: the TTL table already learnt from these packets when they arrived. */
  private replaying = false;

  readonly stats: FlowTrackerStats;

  constructor(opts: FlowTrackerOptions) {
    this.synTimeoutS = opts.synTimeoutS ?? 3;
    this.maxFlows = Math.max(1, Math.floor(opts.maxFlows ?? 1_000_000));
    this.ladderLimit = Math.max(0, Math.floor(opts.ladderLimit ?? 12));
    this.ladderProblemsOnly = opts.ladderFor === "problems";
    this.compactAbove = Math.max(0, Math.floor(opts.compactAbove ?? 8192));
    this.onConnection = opts.onConnection ?? (() => undefined);
    this.encoder = opts.encoder ?? null;
    this.onEncoded = opts.onEncoded ?? null;
    this.stats = { active: 0, peak: 0, evicted: 0, duplicates: 0, maxFlows: this.maxFlows };
    this.bucketMask = 4095;
    this.buckets = new Array<Flow | null>(4096).fill(null);
  }

  // ------------------------------------------------------------------ packets

  packet(view: PacketView, frame: number, tsSec: number, tsNsec: number): void {
    const ts = tsSec + tsNsec * 1e-9;
    if (ts > this.maxTs) this.maxTs = ts;
    // Verdicts that became due leave first (O(1) when none is): ended
    // connections past their linger, and the oldest SYN-only connections
    // SYN_GRACE_S after they were due (see synDue): late answers (an ICMPv6
    // address unreachable comes 3 s after the SYN) still count, and the table
    // holds only what is in progress, so a scan of a million ports does not
    // fill it.
    if (this.maxTs >= this.dueAt) this.emitDue(this.maxTs);
    if (view.kind === Kind.TCP) this.tcp(view, frame, ts);
    else if (view.kind === Kind.ICMP_UNREACH) this.icmp(view, frame, ts);
  }

  /** packet(): the verdicts due by `now`, then when the next one will be. */
  private emitDue(now: number): void {
    while (this.closedHead !== null && this.closedHead.endTs + CLOSE_LINGER_S < now) {
      this.emit(this.closedHead, EMIT_LINGER);
    }
    while (this.synHead !== null && this.synDue(this.synHead) + SYN_GRACE_S <= now) {
      this.emit(this.synHead, EMIT_DUE);
    }
    while (this.kHead !== 0 && this.kSynDue(this.kHead - 1) + SYN_GRACE_S <= now) {
      this.kEmit(this.kHead - 1, EMIT_DUE);
    }
    while (this.kcHead !== 0 && this.kEndTs(this.kcHead - 1) + CLOSE_LINGER_S < now) {
      this.kEmit(this.kcHead - 1, EMIT_LINGER);
    }
    let due = Infinity;
    if (this.closedHead !== null) due = this.closedHead.endTs + CLOSE_LINGER_S;
    if (this.kcHead !== 0) due = Math.min(due, this.kEndTs(this.kcHead - 1) + CLOSE_LINGER_S);
    if (this.synHead !== null) due = Math.min(due, this.synDue(this.synHead) + SYN_GRACE_S);
    if (this.kHead !== 0) due = Math.min(due, this.kSynDue(this.kHead - 1) + SYN_GRACE_S);
    this.dueAt = due;
  }

  private lookup(
    ipv: number,
    a: Uint32Array,
    ap: number,
    b: Uint32Array,
    bp: number,
    h: number,
  ): Flow | null {
    let f = this.buckets[h & this.bucketMask] ?? null;
    const a0 = a[0]! | 0,
      a1 = a[1]! | 0,
      a2 = a[2]! | 0,
      a3 = a[3]! | 0;
    const b0 = b[0]! | 0,
      b1 = b[1]! | 0,
      b2 = b[2]! | 0,
      b3 = b[3]! | 0;
    while (f !== null) {
      if (f.hash === h && f.ipv === ipv) {
        if (
          f.cp === ap &&
          f.sp === bp &&
          f.ca0 === a0 &&
          f.sa0 === b0 &&
          f.ca1 === a1 &&
          f.ca2 === a2 &&
          f.ca3 === a3 &&
          f.sa1 === b1 &&
          f.sa2 === b2 &&
          f.sa3 === b3
        )
          return f;
        if (
          f.cp === bp &&
          f.sp === ap &&
          f.ca0 === b0 &&
          f.sa0 === a0 &&
          f.ca1 === b1 &&
          f.ca2 === b2 &&
          f.ca3 === b3 &&
          f.sa1 === a1 &&
          f.sa2 === a2 &&
          f.sa3 === a3
        )
          return f;
      }
      f = f.hnext;
    }
    return null;
  }

  private tcp(v: PacketView, frame: number, ts: number): void {
    const src = v.src;
    const dst = v.dst;
    const h =
      endpointHash(src[0]!, src[1]!, src[2]!, src[3]!, v.srcPort) ^
      endpointHash(dst[0]!, dst[1]!, dst[2]!, dst[3]!, v.dstPort);
    const flags = v.flags;
    const pureSyn = (flags & (SYN | ACK)) === SYN;
    let f = this.lookup(v.ipVersion, src, v.srcPort, dst, v.dstPort, h);
    let fromClient = false;
    let promoted: Flow | null = null;
    if (f === null && this.kActive > 0) {
      const k = this.kLookup(v.ipVersion, src, v.srcPort, dst, v.dstPort, h);
      if (k >= 0) {
        const fromC = this.kIsClient(k, src, v.srcPort);
        const info = this.kInfo[k]!;
        const closed = (info & K_CLOSED) !== 0;
        const room = ((info >>> 8) & 0xff) < K_MAX_SYNS;
        if (!closed && pureSyn && fromC && (flags & (FIN | RST)) === 0 && (v.seq | 0) === this.rA.seq[k]) {
          // retransmitted (or duplicated) SYN
          if (room) {
            this.kAddSyn(k, v, frame, ts);
            return;
          }
          f = promoted = this.kPromote(k);
        } else if (pureSyn && fromC && (v.seq | 0) !== this.rA.seq[k]) {
          this.kEmit(k, EMIT_REUSE); // port reuse: a new connection (below)
        } else if (!closed && room && (flags & (RST | SYN | FIN)) === RST) {
          // refused (or aborted by the client): the flow ends here, still compact
          this.kAddRst(k, v, frame, ts, fromC);
          return;
        } else {
          f = promoted = this.kPromote(k);
        }
      }
    }
    if (f !== null) {
      fromClient =
        f.cp === v.srcPort &&
        f.ca0 === (src[0]! | 0) &&
        f.ca1 === (src[1]! | 0) &&
        f.ca2 === (src[2]! | 0) &&
        f.ca3 === (src[3]! | 0);
      if (pureSyn) {
        const side = fromClient ? f.c : f.s;
        if (fromClient && f.c.synSeen && (v.seq | 0) === f.c.isn) {
          // retransmitted SYN: same connection
        } else if (side.seen || side.synSeen) {
          // A SYN with another ISN on a known 5-tuple: port reuse, a new connection
          // (Wireshark "TCP Port numbers reused", Zeek's new uid).
          this.emit(f, EMIT_REUSE);
          f = null;
        }
        // else if from the client that has sent nothing yet: the SYN-ACK was
        // captured before its SYN (capture reordering); the SYN still opens
        // this connection (outcome() looks at c.synSeen).
        // else: a pure SYN from the server side that never sent anything: simultaneous open, keep.
      }
    }
    if (f === null) {
      if (pureSyn && (flags & (FIN | RST)) === 0 && this.stats.active >= this.compactAbove) {
        this.kCreate(v, h, frame, ts);
        return;
      }
      f = this.create(v, h, ts);
      fromClient = true;
      if ((flags & (SYN | ACK)) === (SYN | ACK)) {
        // First packet seen is a SYN-ACK: its destination is the client.
        this.setEndpoints(f, v.ipVersion, dst, v.dstPort, src, v.srcPort);
        fromClient = false;
      }
    } else {
      this.lruTouch(f);
    }
    this.segment(f, v, frame, ts, fromClient);
    if (promoted === f) this.synInsert(f);
  }

  private setEndpoints(f: Flow, ipv: number, c: Uint32Array, cp: number, s: Uint32Array, sp: number): void {
    // Address words as signed int32, like sequence numbers (unboxed in V8).
    f.ipv = ipv;
    f.ca0 = c[0]! | 0;
    f.ca1 = c[1]! | 0;
    f.ca2 = c[2]! | 0;
    f.ca3 = c[3]! | 0;
    f.cp = cp;
    f.sa0 = s[0]! | 0;
    f.sa1 = s[1]! | 0;
    f.sa2 = s[2]! | 0;
    f.sa3 = s[3]! | 0;
    f.sp = sp;
  }

  /** Table full: ended connections leave first, then the least recently active (full or compact). */
  private makeRoom(): void {
    if (this.stats.active >= this.maxFlows && !this.logOn) this.logStart();
    while (this.stats.active >= this.maxFlows) {
      const lru = this.leastRecent();
      if (this.closedHead !== null) this.emit(this.closedHead, EMIT_LINGER);
      else if (this.kcHead !== 0) this.kEmit(this.kcHead - 1, EMIT_LINGER);
      else if (lru !== null && (this.kHead === 0 || this.touchAt[lru.slot]! < this.kTouch[this.kHead - 1]!)) this.emit(lru, EMIT_EVICT);
      else if (this.kHead !== 0) this.kEmit(this.kHead - 1, EMIT_EVICT);
      else break;
    }
  }

  private create(v: PacketView, h: number, ts: number): Flow {
    this.makeRoom();
    const f = this.pool.pop() ?? this.newFlow();
    f.id = this.nextId++;
    f.hash = h;
    this.setEndpoints(f, v.ipVersion, v.src, v.srcPort, v.dst, v.dstPort);
    f.firstTs = ts;
    f.lastTs = ts;
    this.lruTouch(f);
    // hash table
    const i = h & this.bucketMask;
    f.hnext = this.buckets[i] ?? null;
    this.buckets[i] = f;
    this.stats.active++;
    if (this.stats.active > this.stats.peak) this.stats.peak = this.stats.active;
    if (this.stats.active - this.kActive > this.buckets.length) this.grow();
    return f;
  }

  private newFlow(): Flow {
    const slot = this.freeSlots.pop() ?? this.flowAt.length;
    const f = new Flow(slot);
    this.flowAt[slot] = f;
    if (slot >= this.touchAt.length) {
      const t = new Float64Array(this.touchAt.length * 2).fill(-1);
      t.set(this.touchAt);
      this.touchAt = t;
    }
    return f;
  }

  /** Every flow in the (full) table, in no particular order. */
  private tableFlows(): Flow[] {
    const all: Flow[] = [];
    for (const head of this.buckets) for (let f = head; f !== null; f = f.hnext) all.push(f);
    return all;
  }

  private grow(): void {
    const all = this.tableFlows();
    const n = this.buckets.length * 2;
    const nb = new Array<Flow | null>(n).fill(null);
    const mask = n - 1;
    for (const f of all) {
      const i = f.hash & mask;
      f.hnext = nb[i] ?? null;
      nb[i] = f;
    }
    this.buckets = nb;
    this.bucketMask = mask;
  }

  /** `f` is active now: a new touch, logged (the previous entry, if it is the last one, is updated in place). */
  private lruTouch(f: Flow): void {
    const t = ++this.touchSeq;
    this.touchAt[f.slot] = t;
    if (!this.logOn) return;
    const last = this.logTail - 1;
    if (last >= this.logHead && this.logSlot[last] === f.slot) {
      this.logTouch[last] = t;
      return;
    }
    if (this.logTail === this.logSlot.length) this.logCompact();
    const i = this.logTail++;
    this.logSlot[i] = f.slot;
    this.logTouch[i] = t;
  }

  /** The first time the table is full: the log from touchAt (one entry per full flow, oldest touch first), kept from now on. */
  private logStart(): void {
    const slots: number[] = [];
    const T = this.touchAt;
    for (let i = 0; i < this.flowAt.length; i++) if (T[i]! >= 0) slots.push(i);
    slots.sort((x, y) => T[x]! - T[y]!);
    let n = this.logSlot.length;
    while (n < slots.length * 2) n *= 2;
    this.logSlot = new Int32Array(n);
    this.logTouch = new Float64Array(n);
    for (let i = 0; i < slots.length; i++) {
      this.logSlot[i] = slots[i]!;
      this.logTouch[i] = T[slots[i]!]!;
    }
    this.logHead = 0;
    this.logTail = slots.length;
    this.logOn = true;
  }

  /** Is log entry i the flow's last touch? */
  private logCurrent(i: number): boolean {
    return this.touchAt[this.logSlot[i]!] === this.logTouch[i];
  }

  /** The log is full: keep only current entries (at most one per flow), and room for as many again. */
  private logCompact(): void {
    let j = 0;
    for (let i = this.logHead; i < this.logTail; i++) {
      if (!this.logCurrent(i)) continue;
      this.logSlot[j] = this.logSlot[i]!;
      this.logTouch[j] = this.logTouch[i]!;
      j++;
    }
    this.logHead = 0;
    this.logTail = j;
    if (j * 2 > this.logSlot.length) {
      const n = this.logSlot.length * 2;
      const s = new Int32Array(n);
      s.set(this.logSlot.subarray(0, j));
      const t = new Float64Array(n);
      t.set(this.logTouch.subarray(0, j));
      this.logSlot = s;
      this.logTouch = t;
    }
  }

  /** The full flow active least recently (null if none). */
  private leastRecent(): Flow | null {
    while (this.logHead < this.logTail) {
      if (this.logCurrent(this.logHead)) return this.flowAt[this.logSlot[this.logHead]!]!;
      this.logHead++;
    }
    return null;
  }

  private auxUnlink(f: Flow): void {
    if (f.aux === AUX_NONE) return;
    const syn = f.aux === AUX_SYN_WAIT;
    if (f.auxPrev !== null) f.auxPrev.auxNext = f.auxNext;
    else {
      // a new head: the next due time may be earlier
      this.dueAt = -Infinity;
      if (syn) this.synHead = f.auxNext;
      else this.closedHead = f.auxNext;
    }
    if (f.auxNext !== null) f.auxNext.auxPrev = f.auxPrev;
    else if (syn) this.synTail = f.auxPrev;
    else this.closedTail = f.auxPrev;
    f.auxPrev = f.auxNext = null;
    f.aux = AUX_NONE;
  }

  private auxAppend(f: Flow, which: number): void {
    if (f.aux !== AUX_NONE) this.auxUnlink(f);
    f.aux = which;
    if (which === AUX_SYN_WAIT) {
      f.auxPrev = this.synTail;
      if (this.synTail !== null) this.synTail.auxNext = f;
      else {
        this.synHead = f;
        this.dueAt = -Infinity;
      }
      this.synTail = f;
    } else {
      f.auxPrev = this.closedTail;
      if (this.closedTail !== null) this.closedTail.auxNext = f;
      else {
        this.closedHead = f;
        this.dueAt = -Infinity;
      }
      this.closedTail = f;
    }
  }

  private addFrame(f: Flow, frame: number): void {
    const n = f.framesN;
    if (n < MAX_FRAMES) {
      const B = f.framesBuf;
      // One store for new and reused (pooled) buffers: a store first reached
      // when the first pooled flow came back deoptimised segment().
      if (n === B.length) B.push(0);
      B[n] = frame;
      f.framesN = n + 1;
    }
  }

  private ladderAdd(
    f: Flow,
    frame: number,
    ts: number,
    from: number,
    flags: number,
    seq: number,
    ack: number,
    len: number,
    ttl: number,
    note: number,
  ): void {
    f.ladderSeen++;
    if (f.ladderN >= this.ladderLimit) return;
    const L = f.ladder;
    const o = f.ladderN * LADDER_FIELDS;
    const packed = (flags & 0x1ff) | ((ttl & 0xff) << 9) | (from << 17) | (note << 19);
    // As in addFrame: the same stores whether the array is new or reused.
    // (Grown with doubles: the array holds doubles from its first step.)
    if (o === L.length) L.push(0.5, 0.5, 0.5, 0.5, 0.5, 0.5);
    L[o] = frame;
    L[o + 1] = ts;
    L[o + 2] = seq;
    L[o + 3] = ack;
    L[o + 4] = len;
    L[o + 5] = packed;
    f.ladderN++;
  }

  /**
   * Is this the same packet captured again (SPAN port, -i any)? Same
   * direction, same header fields, within 10 ms, and nothing from the other
   * side in between: a bit-identical resend that answers the other side (a
   * SYN-ACK resent for a retransmitted SYN, IP ID 0 and the same TCP
   * timestamp tick) is a real packet, not a copy.
   */
  private isDuplicate(
    d: Dir,
    rev: Dir,
    v: PacketView,
    ts: number,
    seq: number,
    ack: number,
    flagsLen: number,
    sig: number,
  ): boolean {
    const ipId = v.ipId;
    const revN = rev.packets;
    if (
      d.d0Seq === seq &&
      d.d0Ack === ack &&
      d.d0FlagsLen === flagsLen &&
      d.d0Win === v.window &&
      d.d0IpId === ipId &&
      d.d0Sig === sig &&
      d.d0Rev === revN &&
      ts - d.d0Ts <= DUPLICATE_WINDOW_S &&
      ts >= d.d0Ts - DUPLICATE_WINDOW_S
    )
      return true;
    if (
      d.d1Seq === seq &&
      d.d1Ack === ack &&
      d.d1FlagsLen === flagsLen &&
      d.d1Win === v.window &&
      d.d1IpId === ipId &&
      d.d1Sig === sig &&
      d.d1Rev === revN &&
      ts - d.d1Ts <= DUPLICATE_WINDOW_S &&
      ts >= d.d1Ts - DUPLICATE_WINDOW_S
    )
      return true;
    // remember: shift 0 -> 1
    d.d1IpId = d.d0IpId;
    d.d1Seq = d.d0Seq;
    d.d1Ack = d.d0Ack;
    d.d1FlagsLen = d.d0FlagsLen;
    d.d1Win = d.d0Win;
    d.d1Sig = d.d0Sig;
    d.d1Ts = d.d0Ts;
    d.d1Rev = d.d0Rev;
    d.d0Rev = revN;
    d.d0IpId = ipId;
    d.d0Seq = seq;
    d.d0Ack = ack;
    d.d0FlagsLen = flagsLen;
    d.d0Win = v.window;
    d.d0Sig = sig;
    d.d0Ts = ts;
    return false;
  }

  private segment(f: Flow, v: PacketView, frame: number, ts: number, fromClient: boolean): void {
    if (fromClient) {
      if (f.c === NO_PACKETS) f.c = f.cOwn;
    } else if (f.s === NO_PACKETS) f.s = f.sOwn;
    const fwd = fromClient ? f.c : f.s;
    const rev = fromClient ? f.s : f.c;
    const flags = v.flags;
    // Sequence numbers are kept as signed 32-bit integers (x | 0): V8 stores
    // those unboxed, while uint32 values above 2^31 would each need a heap
    // number. seqLt & co. work the same on both; relative numbers use >>> 0.
    const seq = v.seq | 0;
    const ack = v.ack | 0;
    const seglen = v.payloadLen;
    const fromCode = fromClient ? FROM_CLIENT : FROM_SERVER;

    // ---- duplicate copy of the same packet: counted once, never analysed
    // IPv6 has no IP ID: the TCP timestamp (or the first SACK edge) stands in
    // for it, since a real retransmission carries a fresh TSval.
    const sig = v.hasTimestamps ? v.tsVal | 0 : v.sackBlocks > 0 ? v.sackEdges[1]! | 0 : -1;
    const flagsLen = (flags & 0x1ff) + seglen * 512;
    if (fwd.seen && this.isDuplicate(fwd, rev, v, ts, seq, ack, flagsLen, sig)) {
      f.duplicates++;
      this.stats.duplicates++;
      this.ladderAdd(f, frame, ts, fromCode, flags, seq, ack, seglen, v.ttl, NOTE_DUP);
      if (ts > f.lastTs) f.lastTs = ts;
      return;
    }
    if (!fwd.seen) {
      this.isDuplicate(fwd, rev, v, ts, seq, ack, flagsLen, sig); // seed the signature ring
      fwd.seen = true;
      fwd.base = (flags & SYN) !== 0 ? seq : (seq - 1) | 0;
    }
    if (ts > f.lastTs) f.lastTs = ts;
    fwd.packets++;
    fwd.bytes += seglen;

    // ---- TTL evidence for forged-RST detection (first packets of each direction only)
    if ((flags & RST) === 0 && fwd.packets <= TTL_LEARN_PACKETS && !this.replaying) {
      fwd.ttlSlot = this.ttlTable.learnHinted(fwd.ttlSlot, v.ipVersion, v.src, v.ttl, v.ipId);
    }

    // ---- handshake and connection state
    if ((flags & SYN) !== 0) {
      if ((flags & ACK) === 0) {
        f.mruSynTs = ts;
        f.mruSynSet = true;
        if (fromClient) {
          if (!f.c.synSeen) {
            f.c.synSeen = true;
            f.c.isn = seq;
            f.c.base = seq;
            f.firstSynTs = ts;
            f.optMss = v.mss;
            f.optWs = v.windowScale;
            f.optSack = v.sackPermitted;
            f.optTs = v.hasTimestamps;
            f.prevSynTs = ts;
          } else {
            f.prevSynTs = f.lastSynTs;
          }
          f.syn++;
          f.lastSynTs = ts;
          this.addFrame(f, frame);
          if (!f.s.synSeen && !f.ended) this.auxAppend(f, AUX_SYN_WAIT); // (re)queue at the tail: waiting again
        }
      } else if (!fromClient) {
        // SYN-ACK from the server
        f.synAck++;
        if (!f.s.synSeen) {
          f.s.synSeen = true;
          f.s.isn = seq;
          f.s.base = seq;
          f.synAckTtl = v.ttl;
          f.hsSet = true;
          f.hsSynAckTs = ts;
          f.hsSynForSynAckTs = f.lastSynTs;
          f.hsAnswersSyn = f.c.synSeen;
        }
        if (f.hsSet) f.hsLastSynAckTs = ts;
        this.addFrame(f, frame);
        if (f.aux === AUX_SYN_WAIT) this.auxUnlink(f);
      }
    } else if ((flags & ACK) !== 0 && (flags & RST) === 0 && fromClient && f.hsSet && !f.handshakeDone) {
      // The client's ACK of the SYN-ACK completes the handshake.
      f.handshakeDone = true;
      f.hsAckTs = ts;
      this.addFrame(f, frame);
      if (f.hsAnswersSyn) {
        f.hsRttSet = true;
        // In whole microseconds: timestamps near 1.7e9 s carry ~0.24 µs of
        // float error, so finer digits would be noise, not precision.
        f.hsSynToSynAckMs = Math.round((f.hsSynAckTs - f.hsSynForSynAckTs) * 1e6) / 1e3;
        f.hsSynAckToAckMs = Math.round((ts - f.hsLastSynAckTs) * 1e6) / 1e3;
        f.hsTotalMs = Math.round((ts - f.lastSynTs) * 1e6) / 1e3;
      }
    }
    if ((flags & FIN) !== 0 && !fwd.finSeen) {
      fwd.finSeen = true;
      this.addFrame(f, frame);
      if (f.c.finSeen && f.s.finSeen) this.end(f, ts);
    }
    if ((flags & RST) !== 0) {
      if (!fwd.rstSeen) {
        fwd.rstSeen = true;
        if (f.rstFrom === 0) {
          f.rstFrom = fromClient ? 1 : 2;
          f.rstTs = ts;
          f.rstFrame = frame;
          f.rstTtl = v.ttl;
          f.rstIpId = v.ipId;
        }
        this.addFrame(f, frame);
      }
      this.end(f, ts);
    }

    // ---- Wireshark's sequence analysis
    const note = this.analyze(f, fwd, rev, v, ts, seq, ack, seglen, flags);
    if (note === NOTE_RETRANS && (flags & SYN) === 0) {
      f.dataRetrans++;
      // The first few retransmitted segments are part of the evidence (frames stays bounded).
      if (f.dataRetrans <= RETRANS_FRAMES) this.addFrame(f, frame);
    }

    // tshark's tcp.analysis.initial_rtt: first ACK without SYN after a pure SYN
    if ((flags & (SYN | ACK)) === ACK && f.mruSynSet && f.firstRtt === 0) {
      f.firstRtt = ts - f.mruSynTs;
      if (f.firstRtt <= 0) f.firstRtt = 1e-9;
    }

    this.ladderAdd(f, frame, ts, fromCode, flags, seq, ack, seglen, v.ttl, note);
  }

  /**
   * Wireshark's tcp_analyze_sequence_number (epan/dissectors/packet-tcp.c,
   * as in tshark 4.0), reduced to what decides tcp.analysis.retransmission,
   * out-of-order and keep-alive. Returns a NOTE_* code for this segment.
   * Difference: Wireshark treats nextseq == 0 as "unknown"; a boolean is used
   * here so a connection whose sequence space crosses 0 is still analysed.
   */
  private analyze(
    f: Flow,
    fwd: Dir,
    rev: Dir,
    v: PacketView,
    ts: number,
    seq: number,
    ack: number,
    seglen: number,
    flags: number,
  ): number {
    let note = NOTE_NONE;
    let keepAlive = false;
    let zwp = false;
    let skipToFinishedFwd = false;
    const window = v.window;
    const hasAck = (flags & ACK) !== 0;
    // Computed on every packet, not only inside the keep-alive test below
    // (reached first by a keep-alive, after this function was optimised).
    const noSynFinRst = (flags & (SYN | FIN | RST)) === 0;

    // ZERO WINDOW PROBE
    if (seglen === 1 && fwd.nextKnown && seq === fwd.nextseq && rev.window === 0) {
      zwp = true;
      skipToFinishedFwd = true;
    }
    if (!skipToFinishedFwd) {
      // LOST PACKET: only disables bytes-in-flight in Wireshark; nothing to do here.
      // KEEP ALIVE
      if (
        (seglen === 0 || seglen === 1) &&
        fwd.nextKnown &&
        seq === ((fwd.nextseq - 1) | 0) &&
        noSynFinRst
      ) {
        keepAlive = true;
      }
      const pureCtl = seglen === 0 && noSynFinRst && fwd.nextKnown && seq === fwd.nextseq;
      // KEEP ALIVE ACK / ZERO WINDOW PROBE ACK end the forward checks
      if (pureCtl && ack === fwd.lastack && window === fwd.window && (window !== 0 ? rev.lastWasKeepAlive : rev.lastWasZwp)) {
        skipToFinishedFwd = true;
      } else if (pureCtl && window !== 0 && window === fwd.window && ack === fwd.lastack) {
        // DUPLICATE ACK
        if (fwd.dupacknum === -1) fwd.dupacknum = 1;
        else fwd.dupacknum++;
      }
    }
    // finished_fwd: a new ack number resets the duplicate-ack count
    if (ack !== fwd.lastack) fwd.dupacknum = 0;

    // ACKED LOST PACKET (affects the reverse duplicate-ack counter)
    if (hasAck && rev.maxKnown && seqGt(ack, rev.maxSeqToBeAcked)) {
      if (rev.maxSeqToBeAcked >>> 0 > rev.nextseq >>> 0) {
        // an unsigned comparison in Wireshark, not a sequence-space one
        rev.maxSeqToBeAcked = rev.nextseq;
      } else {
        rev.dupacknum = -1;
      }
    }

    // RETRANSMISSION / FAST RETRANSMISSION / OUT-OF-ORDER / SPURIOUS
    if (seglen > 0 || (flags & (SYN | FIN)) !== 0) {
      if (keepAlive) {
        note = NOTE_KEEPALIVE;
      } else {
        let notAdvanced = fwd.nextKnown && seqLt(seq, fwd.nextseq);
        if (seglen > 1 && ((fwd.nextseq - 1) | 0) === seq) notAdvanced = false;
        const tAck = ts - rev.lastackTs;
        const tNext = ts - fwd.nextseqTs;
        const oooThres = f.firstRtt > 0 ? f.firstRtt : OOO_DEFAULT_S;
        if (notAdvanced && rev.dupacknum >= 2 && rev.lastack === seq && tAck >= 0 && tAck < FAST_RETRANS_S) {
          note = NOTE_RETRANS; // fast retransmission: also tcp.analysis.retransmission
        } else if (notAdvanced && tNext >= 0 && tNext < oooThres && fwd.nextseq !== ((seq + seglen) | 0)) {
          note = NOTE_OOO;
        } else if (seglen > 0 && rev.lastack !== 0 && seqLe((seq + seglen) | 0, rev.lastack)) {
          note = NOTE_RETRANS; // spurious retransmission: also tcp.analysis.retransmission
        } else if (notAdvanced) {
          note = NOTE_RETRANS;
        }
      }
    } else if (keepAlive) {
      note = NOTE_KEEPALIVE;
    }

    // finished_checking_retransmission_type: advance nextseq
    let nextseq = (seq + seglen) | 0;
    if ((flags & (SYN | FIN)) !== 0) nextseq = (nextseq + 1) | 0;
    if (!fwd.nextKnown || seqGt(nextseq, fwd.nextseq)) {
      if (!zwp) {
        fwd.nextKnown = true;
        fwd.nextseq = nextseq;
        fwd.nextseqTs = ts;
      }
    }
    if (!fwd.maxKnown || seq === fwd.maxSeqToBeAcked) {
      if (!zwp) {
        fwd.maxKnown = true;
        fwd.maxSeqToBeAcked = fwd.nextseq;
      }
    }
    fwd.window = window;
    fwd.lastack = ack;
    fwd.lastackTs = ts;
    fwd.lastWasKeepAlive = keepAlive;
    fwd.lastWasZwp = zwp;
    return note;
  }

  private end(f: Flow, ts: number): void {
    if (f.ended) return;
    f.ended = true;
    f.endTs = ts;
    this.auxAppend(f, AUX_CLOSED);
  }

  // ------------------------------------------------------------------ ICMP

  private icmp(v: PacketView, frame: number, ts: number): void {
    if (v.innerIpVersion === 0 || v.innerProto !== 6 || !v.innerHasPorts) return;
    if (v.innerFlags >= 0 && (v.innerFlags & (SYN | ACK)) !== SYN) return; // quotes something other than a SYN
    const a = v.innerSrc;
    const b = v.innerDst;
    const h =
      endpointHash(a[0]!, a[1]!, a[2]!, a[3]!, v.innerSrcPort) ^ endpointHash(b[0]!, b[1]!, b[2]!, b[3]!, v.innerDstPort);
    let f = this.lookup(v.innerIpVersion, a, v.innerSrcPort, b, v.innerDstPort, h);
    if (f === null && this.kActive > 0) {
      const k = this.kLookup(v.innerIpVersion, a, v.innerSrcPort, b, v.innerDstPort, h);
      if (k >= 0) {
        f = this.kPromote(k);
        this.synInsert(f);
      }
    }
    if (f === null) return;
    // The quoted datagram must be the client's SYN of this connection, before any answer.
    if (!(f.cp === v.innerSrcPort && f.ca0 === (a[0]! | 0) && f.ca1 === (a[1]! | 0) && f.ca2 === (a[2]! | 0) && f.ca3 === (a[3]! | 0)))
      return;
    if (!f.c.synSeen || f.s.synSeen || f.handshakeDone) return;
    if (v.innerHasSeq && (v.innerSeq | 0) !== f.c.isn) return;
    if (f.icmpType < 0) {
      f.icmpType = v.icmpType;
      f.icmpCode = v.icmpCode;
      f.icmpTs = ts;
      f.icmpFrame = frame;
      f.icmpIpv = v.ipVersion;
      f.icmpA0 = v.src[0]! | 0;
      f.icmpA1 = v.src[1]! | 0;
      f.icmpA2 = v.src[2]! | 0;
      f.icmpA3 = v.src[3]! | 0;
      this.addFrame(f, frame);
    }
    if (ts > f.lastTs) f.lastTs = ts;
    this.lruTouch(f);
    this.ladderAdd(
      f,
      frame,
      ts,
      FROM_ICMP,
      0,
      v.innerHasSeq ? v.innerSeq | 0 : f.c.isn,
      0,
      v.icmpType * 256 + v.icmpCode,
      v.ttl,
      NOTE_NONE,
    );
  }

  // ------------------------------------------------------------------ time

  /**
   * Emit verdicts that became due by `nowSec` (capture time in file mode,
   * wall clock in live mode): ended connections past their short linger, and
   * connections whose SYNs got no answer. A SYN-only connection is due
   * synTimeoutS after its last SYN, or 2.5 x its last retransmission gap if
   * longer, so a client still backing off (1, 2, 4, 8 s ...) is not cut in two.
   * Meant for live capture (verdicts as soon as they are due). File analysis
   * need not call it: packet() emits SYN-only connections itself, 30 s of
   * capture time after they were due, so late answers still count.
   */
  advance(nowSec: number): void {
    if (nowSec > this.maxTs) this.maxTs = nowSec;
    while (this.closedHead !== null && this.closedHead.endTs + CLOSE_LINGER_S < nowSec) {
      this.emit(this.closedHead, EMIT_LINGER);
    }
    let f = this.synHead;
    while (f !== null && f.lastSynTs + this.synTimeoutS <= nowSec) {
      const next = f.auxNext;
      if (this.synDue(f) <= nowSec) this.emit(f, EMIT_DUE);
      f = next;
    }
    while (this.kcHead !== 0 && this.kEndTs(this.kcHead - 1) + CLOSE_LINGER_S < nowSec) {
      this.kEmit(this.kcHead - 1, EMIT_LINGER);
    }
    let k = this.kHead;
    while (k !== 0 && this.kLastSynTs(k - 1) + this.synTimeoutS <= nowSec) {
      const next = this.kNext[k - 1]!;
      if (this.kSynDue(k - 1) <= nowSec) this.kEmit(k - 1, EMIT_DUE);
      k = next;
    }
  }

  /**
   * When a SYN-only connection's verdict is due: synTimeoutS after its last
   * SYN, or 2.5 x its last retransmission gap if longer (TCP backs off by
   * doubling, so the next SYN would come within 2 x the last gap).
   */
  private synDue(f: Flow): number {
    const gap = f.syn > 1 ? f.lastSynTs - f.prevSynTs : 0;
    return f.lastSynTs + Math.max(this.synTimeoutS, 2.5 * gap);
  }

  /**
   * End of capture: every remaining connection with its final verdict, in
   * connection order. `captureEndTs` is the timestamp of the capture's last
   * record of any kind (a trailing ping or ARP counts: it proves the capture
   * was still running); without it the last TCP/ICMP packet's time is used.
   * A SYN-only connection is "pending" when the capture ended less than
   * synTimeoutS after its last SYN, else "unanswered".
   */
  finish(captureEndTs?: number): void {
    this.finishSome(Infinity, captureEndTs); // no limit: one step does all
  }

  /**
   * finish() in steps of at most `max` connections, so that the caller can
   * let its consumer catch up between steps (a capture that ends with a
   * million SYN-only flows in the table would otherwise have all of them in
   * flight to the report at once). True when every connection is out.
   */
  finishSome(max: number, captureEndTs?: number): boolean {
    if (this.finished) return true;
    let st = this.fin;
    if (st === null) {
      if (captureEndTs !== undefined && captureEndTs > this.maxTs) this.maxTs = captureEndTs;
      const rest = this.tableFlows();
      rest.sort((x, y) => x.id - y.id);
      // Compact flows, merged in by connection id (never all materialised at once).
      const ks = new Int32Array(this.kActive);
      let n = 0;
      for (let k = this.kHead; k !== 0; k = this.kNext[k - 1]!) ks[n++] = k - 1;
      for (let k = this.kcHead; k !== 0; k = this.kNext[k - 1]!) ks[n++] = k - 1;
      const ids = this.kId;
      ks.sort((x, y) => ids[x]! - ids[y]!);
      st = this.fin = { rest, ks, n, i: 0, j: 0 };
    }
    const { rest, ks, n } = st;
    const ids = this.kId;
    for (let left = max; left > 0 && (st.i < rest.length || st.j < n); left--) {
      if (st.j < n && (st.i >= rest.length || ids[ks[st.j]!]! < rest[st.i]!.id)) this.kEmit(ks[st.j++]!, EMIT_FINISH);
      else this.emit(rest[st.i++]!, EMIT_FINISH);
    }
    if (st.i < rest.length || st.j < n) return false;
    this.finished = true;
    this.fin = null;
    return true;
  }

  /** Live view: SYNs waiting for an answer now (oldest first). */
  waitingSyns(
    nowSec: number,
    limit: number,
  ): { client: Endpoint; server: Endpoint; firstSynTs: number; syns: number }[] {
    const out: { client: Endpoint; server: Endpoint; firstSynTs: number; syns: number }[] = [];
    for (let f = this.synHead; f !== null && out.length < limit; f = f.auxNext) {
      // Skip ICMP-rejected attempts (they have an answer of sorts) and SYNs stamped after `now`.
      if (f.icmpType >= 0 || f.ended || f.firstSynTs > nowSec) continue;
      out.push({ client: this.clientEndpoint(f), server: this.serverEndpoint(f), firstSynTs: f.firstSynTs, syns: f.syn });
    }
    let added = 0;
    for (let k = this.kHead; k !== 0 && added < limit; k = this.kNext[k - 1]!) {
      const s = k - 1;
      const first = this.rA.ts[s]!;
      if (first > nowSec) continue;
      const ipv = this.kInfo[s]! & 0xff;
      const ports = this.kPorts[s]!;
      const syns = this.kSyns(s);
      out.push({
        client: { ip: this.addrText(ipv, this.kWord(s, 0, 0), this.kWord(s, 0, 1), this.kWord(s, 0, 2), this.kWord(s, 0, 3)), port: ports >>> 16 },
        server: { ip: this.addrText(ipv, this.kWord(s, 1, 0), this.kWord(s, 1, 1), this.kWord(s, 1, 2), this.kWord(s, 1, 3)), port: ports & 0xffff },
        firstSynTs: first,
        syns,
      });
      added++;
    }
    if (added > 0) {
      out.sort((x, y) => x.firstSynTs - y.firstSynTs);
      if (out.length > limit) out.length = limit;
    }
    return out;
  }

  // ------------------------------------------------------------------ compact tier

  private kResize(cap: number): void {
    const i32 = (old: Int32Array, n: number) => {
      const a = new Int32Array(n);
      a.set(old.subarray(0, Math.min(old.length, n)));
      return a;
    };
    const f64 = (old: Float64Array, n: number) => {
      const a = new Float64Array(n);
      a.set(old.subarray(0, Math.min(old.length, n)));
      return a;
    };
    this.kHash = i32(this.kHash, cap);
    this.kHNext = i32(this.kHNext, cap);
    this.kPrev = i32(this.kPrev, cap);
    this.kNext = i32(this.kNext, cap);
    this.kAddr = i32(this.kAddr, cap * 2);
    this.kAddr6 = i32(this.kAddr6, cap * 6);
    this.kPorts = i32(this.kPorts, cap);
    this.kInfo = i32(this.kInfo, cap);
    this.kOpt = i32(this.kOpt, cap);
    this.kId = f64(this.kId, cap);
    this.kTouch = f64(this.kTouch, cap);
    this.kR2 = i32(this.kR2, cap);
    this.rA.resize(cap);
    this.kCap = cap;
    // Hash buckets: a power of two >= capacity; rehash every live slot.
    let nb = 1024;
    while (nb < cap) nb *= 2;
    this.kBuckets = new Int32Array(nb);
    this.kMask = nb - 1;
    for (const head of [this.kHead, this.kcHead]) {
      for (let k = head; k !== 0; k = this.kNext[k - 1]!) {
        const i = this.kHash[k - 1]! & this.kMask;
        this.kHNext[k - 1] = this.kBuckets[i]!;
        this.kBuckets[i] = k;
      }
    }
  }

  private kLookup(ipv: number, a: Uint32Array, ap: number, b: Uint32Array, bp: number, h: number): number {
    const a0 = a[0]! | 0;
    const b0 = b[0]! | 0;
    const A = this.kAddr;
    for (let k = this.kBuckets[h & this.kMask]!; k !== 0; k = this.kHNext[k - 1]!) {
      const s = k - 1;
      if (this.kHash[s] !== h || (this.kInfo[s]! & 0xff) !== ipv) continue;
      const ports = this.kPorts[s]!;
      const cp = ports >>> 16;
      const sp = ports & 0xffff;
      if (cp === ap && sp === bp && A[2 * s] === a0 && A[2 * s + 1] === b0 && (ipv === 4 || this.k6Eq(s, a, b))) return s;
      if (cp === bp && sp === ap && A[2 * s] === b0 && A[2 * s + 1] === a0 && (ipv === 4 || this.k6Eq(s, b, a))) return s;
    }
    return -1;
  }

  /** IPv6 words 1-3 of client c and server d equal the slot's. */
  private k6Eq(s: number, c: Uint32Array, d: Uint32Array): boolean {
    const B = this.kAddr6;
    const o = s * 6;
    return (
      B[o] === (c[1]! | 0) && B[o + 1] === (c[2]! | 0) && B[o + 2] === (c[3]! | 0) &&
      B[o + 3] === (d[1]! | 0) && B[o + 4] === (d[2]! | 0) && B[o + 5] === (d[3]! | 0)
    );
  }

  private kIsClient(s: number, src: Uint32Array, port: number): boolean {
    if (this.kPorts[s]! >>> 16 !== port || this.kAddr[2 * s] !== (src[0]! | 0)) return false;
    if ((this.kInfo[s]! & 0xff) === 4) return true;
    const B = this.kAddr6;
    const o = s * 6;
    return B[o] === (src[1]! | 0) && B[o + 1] === (src[2]! | 0) && B[o + 2] === (src[3]! | 0);
  }

  /** Address word w (0-3) of the client (side 0) or server (side 1) of slot s. */
  private kWord(s: number, side: number, w: number): number {
    if (w === 0) return this.kAddr[2 * s + side]!;
    return (this.kInfo[s]! & 0xff) === 6 ? this.kAddr6[s * 6 + side * 3 + w - 1]! : 0;
  }

  /** Slot s to the end of the waiting-SYN list, or (closed) of the closed list. */
  private kListAppend(s: number, closed = false): void {
    const tail = closed ? this.kcTail : this.kTail;
    this.kPrev[s] = tail;
    this.kNext[s] = 0;
    if (tail !== 0) this.kNext[tail - 1] = s + 1;
    else {
      if (closed) this.kcHead = s + 1;
      else this.kHead = s + 1;
      this.dueAt = -Infinity; // a new head
    }
    if (closed) this.kcTail = s + 1;
    else this.kTail = s + 1;
  }

  private kListUnlink(s: number, closed = false): void {
    const p = this.kPrev[s]!;
    const n = this.kNext[s]!;
    if (p !== 0) this.kNext[p - 1] = n;
    else {
      if (closed) this.kcHead = n;
      else this.kHead = n;
      this.dueAt = -Infinity; // a new head
    }
    if (n !== 0) this.kPrev[n - 1] = p;
    else if (closed) this.kcTail = p;
    else this.kTail = p;
  }

  /** When a compact flow ended: its last record is the RST. */
  private kEndTs(s: number): number {
    return this.rB.ts[this.kR2[s]! - 1]!;
  }

  /** A free record in rB (for a packet after a compact flow's first SYN). */
  private rBAlloc(): number {
    if (this.rBFreeN > 0) return this.rBFree[--this.rBFreeN]!;
    const r = this.rBUsed++;
    if (r >= this.rB.cap) this.rB.resize(Math.max(4096, this.rB.cap * 2));
    return r;
  }

  /**
   * A RST for a SYN-only compact flow (refused, or aborted by the client):
   * recorded like its SYNs; the flow ends and waits out its linger in the
   * compact closed list instead of becoming a full Flow.
   */
  private kAddRst(s: number, v: PacketView, frame: number, ts: number, fromClient: boolean): void {
    const r = this.rBAlloc();
    const B = this.rB;
    B.store(r, v, frame, ts);
    if (!fromClient) B.pack[r] = B.pack[r]! | REC_SERVER;
    B.link[r] = this.kR2[s]!;
    this.kR2[s] = r + 1;
    this.kInfo[s] = (this.kInfo[s]! + (1 << 8)) | K_CLOSED;
    this.kListUnlink(s);
    this.kListAppend(s, true);
    this.kTouch[s] = ++this.touchSeq;
  }

  /** A new connection whose first packet is a plain SYN from its client. */
  private kCreate(v: PacketView, h: number, frame: number, ts: number): void {
    this.makeRoom();
    if (this.kFreeTop === 0 && this.kUsed >= this.kCap) {
      this.kResize(this.kCap === 0 ? Math.min(this.maxFlows, K_CAP_MAX_INITIAL) : Math.min(this.maxFlows, this.kCap * 2));
    }
    let s: number;
    if (this.kFreeTop !== 0) {
      s = this.kFreeTop - 1;
      this.kFreeTop = this.kHNext[s]!;
    } else s = this.kUsed++;
    this.kHash[s] = h;
    this.kId[s] = this.nextId++;
    this.kAddr[2 * s] = v.src[0]! | 0;
    this.kAddr[2 * s + 1] = v.dst[0]! | 0;
    if (v.ipVersion === 6) {
      const B = this.kAddr6;
      const o = s * 6;
      B[o] = v.src[1]! | 0;
      B[o + 1] = v.src[2]! | 0;
      B[o + 2] = v.src[3]! | 0;
      B[o + 3] = v.dst[1]! | 0;
      B[o + 4] = v.dst[2]! | 0;
      B[o + 5] = v.dst[3]! | 0;
    }
    this.kPorts[s] = (v.srcPort << 16) | v.dstPort;
    this.kInfo[s] = v.ipVersion | (1 << 8);
    this.kOpt[s] = (v.mss + 1) | ((v.windowScale + 1) << 17) | (v.sackPermitted ? 1 << 26 : 0);
    this.kR2[s] = 0;
    this.rA.store(s, v, frame, ts);
    const i = h & this.kMask;
    this.kHNext[s] = this.kBuckets[i]!;
    this.kBuckets[i] = s + 1;
    this.kListAppend(s);
    this.kTouch[s] = ++this.touchSeq;
    this.kActive++;
    this.stats.active++;
    if (this.stats.active > this.stats.peak) this.stats.peak = this.stats.active;
    // What segment() would learn from the first packet of the direction.
    this.ttlTable.learn(v.ipVersion, v.src, v.ttl, v.ipId);
  }

  /** A later SYN with the client's ISN: a retransmission, or the same packet captured twice. */
  private kAddSyn(s: number, v: PacketView, frame: number, ts: number): void {
    const r = this.rBAlloc();
    const B = this.rB;
    B.store(r, v, frame, ts);
    // isDuplicate(): the same as one of the last two SYNs that were not
    // copies themselves (the server has sent nothing, so that count matches).
    let dup = false;
    let seen = 0;
    for (let q = this.kR2[s]!; seen < 2; q = B.link[q - 1]!) {
      const R = q === 0 ? this.rA : B;
      const x = q === 0 ? s : q - 1;
      if (q === 0 || (B.pack[x]! & REC_DUP) === 0) {
        seen++;
        if (
          B.seq[r] === R.seq[x] &&
          B.ack[r] === R.ack[x] &&
          (B.pack[r]! & 0x1ff) + B.len[r]! * 512 === (R.pack[x]! & 0x1ff) + R.len[x]! * 512 &&
          B.win[r] === R.win[x] &&
          B.ipId[r] === R.ipId[x] &&
          B.sig[r] === R.sig[x] &&
          ts - R.ts[x]! <= DUPLICATE_WINDOW_S &&
          ts >= R.ts[x]! - DUPLICATE_WINDOW_S
        ) {
          dup = true;
          break;
        }
      }
      if (q === 0) break;
    }
    B.link[r] = this.kR2[s]!;
    this.kR2[s] = r + 1;
    if (dup) B.pack[r] = B.pack[r]! | REC_DUP;
    else if (this.kSyns(s) <= TTL_LEARN_PACKETS) this.ttlTable.learn(v.ipVersion, v.src, v.ttl, v.ipId);
    this.kInfo[s] = this.kInfo[s]! + (1 << 8);
    this.kListUnlink(s);
    this.kListAppend(s);
    this.kTouch[s] = ++this.touchSeq;
  }

  /** Time of the last SYN that was not a duplicate copy. */
  private kLastSynTs(s: number): number {
    const B = this.rB;
    for (let q = this.kR2[s]!; q !== 0; q = B.link[q - 1]!) if ((B.pack[q - 1]! & (REC_DUP | RST)) === 0) return B.ts[q - 1]!;
    return this.rA.ts[s]!;
  }

  /** SYNs that were not duplicate copies. */
  private kSyns(s: number): number {
    const B = this.rB;
    let n = 1;
    for (let q = this.kR2[s]!; q !== 0; q = B.link[q - 1]!) if ((B.pack[q - 1]! & (REC_DUP | RST)) === 0) n++;
    return n;
  }

  /** synDue() of a compact flow: the gap is between its last two SYNs (not copies). */
  private kSynDue(s: number): number {
    const B = this.rB;
    let last = -1;
    let prev = -1;
    for (let q = this.kR2[s]!; q !== 0 && prev < 0; q = B.link[q - 1]!) {
      if ((B.pack[q - 1]! & (REC_DUP | RST)) !== 0) continue;
      if (last < 0) last = q - 1;
      else prev = q - 1;
    }
    const lastTs = last < 0 ? this.rA.ts[s]! : B.ts[last]!;
    const gap = last < 0 ? 0 : lastTs - (prev < 0 ? this.rA.ts[s]! : B.ts[prev]!);
    return lastTs + Math.max(this.synTimeoutS, 2.5 * gap);
  }

  /** Drop a slot from the compact tier (hash chain, list, free stack). */
  private kRemove(s: number): void {
    const i = this.kHash[s]! & this.kMask;
    let k = this.kBuckets[i]!;
    if (k === s + 1) this.kBuckets[i] = this.kHNext[s]!;
    else {
      while (k !== 0 && this.kHNext[k - 1] !== s + 1) k = this.kHNext[k - 1]!;
      if (k !== 0) this.kHNext[k - 1] = this.kHNext[s]!;
    }
    this.kListUnlink(s, (this.kInfo[s]! & K_CLOSED) !== 0);
    for (let q = this.kR2[s]!; q !== 0; q = this.rB.link[q - 1]!) {
      if (this.rBFreeN >= this.rBFree.length) {
        const nf = new Int32Array(Math.max(4096, this.rBFree.length * 2));
        nf.set(this.rBFree);
        this.rBFree = nf;
      }
      this.rBFree[this.rBFreeN++] = q - 1;
    }
    this.kR2[s] = 0;
    this.kHNext[s] = this.kFreeTop;
    this.kFreeTop = s + 1;
    this.kActive--;
  }

  /** A full Flow (not linked anywhere) with the compact flow's packets replayed through segment(). */
  private kMaterialize(s: number): Flow {
    const f = this.pool.pop() ?? this.newFlow();
    f.id = this.kId[s]!;
    f.hash = this.kHash[s]!;
    const ipv = this.kInfo[s]! & 0xff;
    const ports = this.kPorts[s]!;
    f.ipv = ipv;
    f.ca0 = this.kWord(s, 0, 0);
    f.ca1 = this.kWord(s, 0, 1);
    f.ca2 = this.kWord(s, 0, 2);
    f.ca3 = this.kWord(s, 0, 3);
    f.cp = ports >>> 16;
    f.sa0 = this.kWord(s, 1, 0);
    f.sa1 = this.kWord(s, 1, 1);
    f.sa2 = this.kWord(s, 1, 2);
    f.sa3 = this.kWord(s, 1, 3);
    f.sp = ports & 0xffff;
    f.firstTs = this.rA.ts[s]!;
    f.lastTs = f.firstTs;
    const v = this.rv;
    v.kind = Kind.TCP;
    v.ipVersion = ipv;
    for (let i = 0; i < 4; i++) {
      v.src[i] = this.kWord(s, 0, i);
      v.dst[i] = this.kWord(s, 1, i);
    }
    v.srcPort = f.cp;
    v.dstPort = f.sp;
    const opt = this.kOpt[s]!;
    v.mss = (opt & 0x1ffff) - 1;
    v.windowScale = ((opt >>> 17) & 0x1ff) - 1;
    v.sackPermitted = ((opt >>> 26) & 1) === 1;
    this.replaying = true;
    try {
      this.kReplay(f, this.rA, s);
      // the later SYNs, oldest first (the chain runs from the latest)
      const order = this.kOrder;
      let n = 0;
      for (let q = this.kR2[s]!; q !== 0; q = this.rB.link[q - 1]!) order[n++] = q - 1;
      while (n > 0) this.kReplay(f, this.rB, order[--n]!);
    } finally {
      this.replaying = false;
    }
    this.auxUnlink(f);
    return f;
  }

  private kReplay(f: Flow, R: SynRecords, r: number): void {
    const v = this.rv;
    const pack = R.pack[r]!;
    v.seq = R.seq[r]! >>> 0;
    v.ack = R.ack[r]! >>> 0;
    v.flags = pack & 0x1ff;
    v.ttl = (pack >>> 9) & 0xff;
    // Only the duplicate signature (TSval, else the first SACK edge) and the
    // timestamps option flag matter to segment(): recreate exactly those.
    v.hasTimestamps = (pack & REC_TS) !== 0;
    v.tsVal = R.sig[r]! >>> 0;
    v.sackBlocks = v.hasTimestamps ? 0 : 1;
    v.sackEdges[1] = R.sig[r]!;
    v.payloadLen = R.len[r]!;
    v.window = R.win[r]!;
    v.ipId = R.ipId[r]!;
    if ((pack & REC_SERVER) === 0) {
      this.segment(f, v, R.frame[r]!, R.ts[r]!, true);
      return;
    }
    // from the server: swap the endpoints for this packet
    this.swapEnds(v);
    this.segment(f, v, R.frame[r]!, R.ts[r]!, false);
    this.swapEnds(v);
  }

  private swapEnds(v: PacketView): void {
    for (let i = 0; i < 4; i++) {
      const w = v.src[i]!;
      v.src[i] = v.dst[i]!;
      v.dst[i] = w;
    }
    const p = v.srcPort;
    v.srcPort = v.dstPort;
    v.dstPort = p;
  }

  /** Something other than a client SYN arrived for a compact flow: make it a full Flow in the table. */
  private kPromote(s: number): Flow {
    const f = this.kMaterialize(s);
    this.kRemove(s);
    const i = f.hash & this.bucketMask;
    f.hnext = this.buckets[i] ?? null;
    this.buckets[i] = f;
    // A packet about it (the one that promotes it) makes it active now.
    this.lruTouch(f);
    if (this.stats.active - this.kActive > this.buckets.length) this.grow();
    // Ended by a RST while compact: back to lingering, in the full closed list
    // (at its tail: it leaves a little later than it would have).
    if (f.ended) this.auxAppend(f, AUX_CLOSED);
    return f;
  }

  /**
   * A promoted flow still waiting for an answer after the packet that
   * promoted it: onto the waiting-SYN list, in order of its last SYN. (Not
   * done in kPromote: most promotions are by the SYN-ACK, which would take it
   * straight off again, and finding the place walks back over every flow
   * whose SYN came later.)
   */
  private synInsert(f: Flow): void {
    if (f.aux !== AUX_NONE || !f.c.synSeen || f.s.synSeen || f.ended) return;
    f.aux = AUX_SYN_WAIT;
    let p = this.synTail;
    while (p !== null && p.lastSynTs > f.lastSynTs) p = p.auxPrev;
    f.auxPrev = p;
    f.auxNext = p !== null ? p.auxNext : this.synHead;
    if (f.auxNext !== null) f.auxNext.auxPrev = f;
    else this.synTail = f;
    if (p !== null) p.auxNext = f;
    else {
      this.synHead = f;
      this.dueAt = -Infinity;
    }
  }

  private kEmit(s: number, why: number): void {
    const f = this.kMaterialize(s);
    this.kRemove(s);
    this.stats.active--;
    if (why === EMIT_EVICT) this.stats.evicted++;
    this.deliver(f, why);
  }

  // ------------------------------------------------------------------ emission

  /** Address text (cached: the same string instance also makes the diagnoser's map lookups cheap). */
  private addrText(ipv: number, w0: number, w1: number, w2: number, w3: number): string {
    return this.addrs.get(ipv, w0, w1, w2, w3);
  }

  private clientEndpoint(f: Flow): Endpoint {
    return { ip: this.addrText(f.ipv, f.ca0, f.ca1, f.ca2, f.ca3), port: f.cp };
  }

  private serverEndpoint(f: Flow): Endpoint {
    return { ip: this.addrText(f.ipv, f.sa0, f.sa1, f.sa2, f.sa3), port: f.sp };
  }

  private remove(f: Flow): void {
    // hash chain
    const i = f.hash & this.bucketMask;
    let p = this.buckets[i] ?? null;
    if (p === f) this.buckets[i] = f.hnext;
    else {
      while (p !== null && p.hnext !== f) p = p.hnext;
      if (p !== null) p.hnext = f.hnext;
    }
    this.touchAt[f.slot] = -1; // its LRU log entries are stale now
    this.auxUnlink(f);
    this.stats.active--;
  }

  private emit(f: Flow, why: number): void {
    this.remove(f);
    if (why === EMIT_EVICT) this.stats.evicted++;
    this.deliver(f, why);
  }

  /** A flow that left the table: to the encoder or as a Connection, then back to the pool. */
  private deliver(f: Flow, why: number): void {
    const enc = this.encoder;
    if (enc !== null) {
      const oc = this.encodeFlow(enc, f, why);
      this.recycle(f);
      if (this.onEncoded !== null) this.onEncoded(OUTCOMES[oc]!);
      return;
    }
    const c = this.build(f, why);
    const synAckTtl = f.synAckTtl;
    this.recycle(f);
    this.onConnection(c, synAckTtl);
  }

  private recycle(f: Flow): void {
    // Pooled flows are at most the peak table size: memory the table needed anyway.
    if (this.pool.length < 65536) {
      f.reset();
      this.pool.push(f);
    } else {
      this.flowAt[f.slot] = null;
      this.freeSlots.push(f.slot);
    }
  }

  private outcome(f: Flow, why: number): Outcome {
    return OUTCOMES[this.outcomeCode(f, why)]!;
  }

  private outcomeCode(f: Flow, why: number): number {
    if (!f.c.synSeen) return O_MIDSTREAM;
    if (f.handshakeDone) {
      if (f.rstFrom !== 0 && f.rstTs >= f.hsAckTs) return O_RESET;
      if (f.c.finSeen || f.s.finSeen) return O_CLOSED;
      if (f.rstFrom !== 0) return O_RESET;
      return O_ESTABLISHED;
    }
    if (f.s.synSeen) return O_SYNACK_UNACKED;
    if (f.s.rstSeen) return O_REFUSED;
    if (f.icmpType >= 0) return O_ICMP_REJECTED;
    if (f.c.rstSeen) return O_ABORTED_BY_CLIENT;
    // Only SYNs (perhaps a client FIN) and no answer.
    if (why === EMIT_FINISH || why === EMIT_EVICT) {
      return this.maxTs - f.lastSynTs < this.synTimeoutS ? O_PENDING : O_UNANSWERED;
    }
    return O_UNANSWERED;
  }

  /**
   * Zeek's conn_state, from the endpoint states its TCP analyser reaches:
   * a SYN-ACK answering a SYN makes both endpoints ESTABLISHED (so
   * SYN + SYN-ACK without the client's ACK is "S1", history "Sh"); a RST puts
   * its sender in RESET, a FIN in CLOSED; no SYN first means PARTIAL.
   */
  private zeekState(f: Flow): string {
    return ZEEK_STATES[this.zeekCode(f)]!;
  }

  private zeekCode(f: Flow): number {
    const INACTIVE = 0,
      PARTIAL = 1,
      SYN_SENT = 2,
      SYN_ACK_SENT = 3,
      ESTABLISHED = 4,
      CLOSED = 5,
      RESET = 6;
    let os = INACTIVE;
    let rs = INACTIVE;
    if (f.c.synSeen) os = SYN_SENT;
    else if (f.c.seen) os = PARTIAL;
    if (f.s.synSeen) {
      rs = SYN_ACK_SENT;
      if (os === SYN_SENT) {
        os = ESTABLISHED;
        rs = ESTABLISHED;
      } else if (os === INACTIVE || (os === PARTIAL && f.handshakeDone)) {
        rs = ESTABLISHED;
        if (f.c.seen) os = ESTABLISHED; // SYN missed, SYN-ACK then ACK: Zeek establishes
      }
    } else if (f.s.seen && !f.s.rstSeen) rs = PARTIAL;
    if (f.c.finSeen) os = CLOSED;
    if (f.s.finSeen) rs = CLOSED;
    if (f.c.rstSeen) os = RESET;
    if (f.s.rstSeen) rs = RESET;
    const oInactive = os === INACTIVE || os === PARTIAL;
    const rInactive = rs === INACTIVE || rs === PARTIAL;
    if (rs === RESET) {
      if (os === SYN_SENT || os === SYN_ACK_SENT || (os === RESET && f.c.bytes === 0 && f.s.bytes === 0 && !f.s.synSeen))
        return Z_REJ;
      return oInactive ? Z_RSTRH : Z_RSTR;
    }
    if (os === RESET) {
      if (rInactive) return f.c.synSeen ? Z_RSTOS0 : Z_OTH;
      return Z_RSTO;
    }
    if (rs === CLOSED && os === CLOSED) return Z_SF;
    if (os === CLOSED) return rInactive ? Z_SH : Z_S2;
    if (rs === CLOSED) return oInactive ? Z_SHR : Z_S3;
    if (os === SYN_SENT && rs === INACTIVE) return Z_S0;
    if (os === ESTABLISHED && rs === ESTABLISHED) return Z_S1;
    return Z_OTH;
  }

  /**
   * Ladder steps the connection carries, or -1 for none. ladderFor
   * "problems": only connections worth a look carry their ladder (a problem
   * outcome, pending, or any retransmission or duplicate); a clean one gets []
   * and ladderTruncated false. On big captures the ladders were most of the
   * JSON and of the per-connection cost.
   */
  private ladderSteps(f: Flow, oc: number): number {
    const clean =
      PROBLEM_CODE[oc] === 0 && oc !== O_PENDING && f.syn <= 1 && f.synAck <= 1 && f.dataRetrans === 0 && f.duplicates === 0;
    return this.ladderProblemsOnly && clean ? -1 : f.ladderN;
  }

  /** Does the flow's first RST look forged (TTL / IP ID against its sender's other packets; ttl.ts)? */
  private judgeRst(f: Flow) {
    const w = this.scratchA;
    const fromClient = f.rstFrom === 1;
    w[0] = fromClient ? f.ca0 : f.sa0;
    w[1] = fromClient ? f.ca1 : f.sa1;
    w[2] = fromClient ? f.ca2 : f.sa2;
    w[3] = fromClient ? f.ca3 : f.sa3;
    const ip = this.addrText(f.ipv, w[0]!, w[1]!, w[2]!, w[3]!);
    return this.ttlTable.judgeRst(f.ipv, w, ip, f.rstTtl, f.rstIpId);
  }

  private build(f: Flow, why: number): Connection {
    const client = this.clientEndpoint(f);
    const server = this.serverEndpoint(f);
    const outcome = this.outcome(f, why);
    let rst: Connection["rst"] = null;
    if (f.rstFrom !== 0) {
      const fromClient = f.rstFrom === 1;
      const verdict = this.judgeRst(f);
      rst = {
        from: fromClient ? "client" : "server",
        ts: f.rstTs,
        frame: f.rstFrame,
        ttl: f.rstTtl,
        suspectedForged: verdict.suspected,
        forgedReason: verdict.reason,
      };
    }
    let icmp: Connection["icmp"] = null;
    if (f.icmpType >= 0) {
      const a = this.scratchA;
      a[0] = f.icmpA0;
      a[1] = f.icmpA1;
      a[2] = f.icmpA2;
      a[3] = f.icmpA3;
      icmp = { type: f.icmpType, code: f.icmpCode, from: formatAddr(f.icmpIpv, a), ts: f.icmpTs, frame: f.icmpFrame };
    }
    const ladder: LadderStep[] = [];
    const L = f.ladder;
    const ladderN = this.ladderSteps(f, OUTCOME_CODE.get(outcome)!);
    for (let i = 0; i < ladderN; i++) {
      const o = i * LADDER_FIELDS;
      const packed = L[o + 5]!;
      const from = (packed >>> 17) & 3;
      let flags = packed & 0x1ff;
      let seq = L[o + 2]!;
      let ack = L[o + 3]!;
      let text: string;
      if (from === FROM_ICMP) {
        // ICMP steps keep type and code in the len slot (an ICMP step has no payload length)
        flags = L[o + 4]!;
        text = `ICMP ${Math.floor(flags / 256)}/${flags % 256}`;
        seq = (seq - f.c.base) >>> 0;
        ack = 0;
      } else {
        const me = from === FROM_CLIENT ? f.c : f.s;
        const other = from === FROM_CLIENT ? f.s : f.c;
        text = flagsText(flags);
        seq = (seq - me.base) >>> 0;
        // Relative ack like Wireshark: against the other side's ISN; 0 without the ACK flag.
        ack = (flags & ACK) !== 0 ? (other.seen || other.synSeen ? (ack - other.base) >>> 0 : 1) : 0;
      }
      ladder.push({
        frame: L[o]!,
        ts: L[o + 1]!,
        from: from === FROM_CLIENT ? "client" : from === FROM_SERVER ? "server" : "icmp",
        flags: text,
        seq,
        ack,
        len: from === FROM_ICMP ? 0 : L[o + 4]!,
        ttl: (packed >>> 9) & 0xff,
        note: NOTES[(packed >>> 19) & 7] ?? null,
      });
    }
    return {
      id: f.id,
      ipVersion: f.ipv === 6 ? 6 : 4,
      client,
      server,
      outcome,
      zeekState: this.zeekState(f),
      syn: f.syn,
      synAck: f.synAck,
      rst,
      icmp,
      retransmissions: {
        data: f.dataRetrans,
        syn: f.syn > 1 ? f.syn - 1 : 0,
        synAck: f.synAck > 1 ? f.synAck - 1 : 0,
      },
      duplicates: f.duplicates,
      handshakeRttMs:
        f.hsRttSet ? { synToSynAck: f.hsSynToSynAckMs, synAckToAck: f.hsSynAckToAckMs, total: f.hsTotalMs } : null,
      synOptions: f.c.synSeen
        ? {
            mss: f.optMss >= 0 ? f.optMss : null,
            windowScale: f.optWs >= 0 ? f.optWs : null,
            sackPermitted: f.optSack,
            timestamps: f.optTs,
          }
        : null,
      packets: { client: f.c.packets, server: f.s.packets },
      bytes: { client: f.c.bytes, server: f.s.bytes },
      firstTs: f.firstTs,
      lastTs: f.lastTs,
      frames: f.takeFrames(),
      ladder,
      ladderTruncated: ladderN >= 0 && f.ladderSeen > ladderN,
      evicted: why === EMIT_EVICT,
    };
  }

  /**
   * The same connection build() makes, written straight into a batch
   * (layout: codec.ts); returns the outcome code. Keep the two in step:
   * test/flows/codec.test.ts compares them on every bundled capture.
   */
  private encodeFlow(enc: ConnectionEncoder, f: Flow, why: number): number {
    const oc = this.outcomeCode(f, why);
    const ladderN = this.ladderSteps(f, oc);
    const a = enc.room(64 + f.framesN + (ladderN > 0 ? ladderN * 9 : 0));
    let i = enc.n;
    const v6 = f.ipv === 6;
    a[i++] = f.id;
    a[i++] = v6 ? 6 : 4;
    a[i++] = oc;
    a[i++] = this.zeekCode(f);
    i = putAddr(a, i, v6, f.ca0, f.ca1, f.ca2, f.ca3);
    a[i++] = f.cp;
    i = putAddr(a, i, v6, f.sa0, f.sa1, f.sa2, f.sa3);
    a[i++] = f.sp;
    a[i++] = f.syn;
    a[i++] = f.synAck;
    let bits = 0;
    let forgedReason: string | null = null;
    if (f.rstFrom !== 0) {
      const fromClient = f.rstFrom === 1;
      const verdict = this.judgeRst(f);
      bits |= B_RST | (fromClient ? 0 : B_RST_SERVER) | (verdict.suspected ? B_FORGED : 0);
      forgedReason = verdict.reason;
    }
    const icmp = f.icmpType >= 0;
    if (icmp) bits |= B_ICMP;
    if (f.hsRttSet) bits |= B_RTT;
    const opts = f.c.synSeen;
    if (opts) {
      bits |= B_OPTS | (f.optMss >= 0 ? 0 : B_MSS_NULL) | (f.optWs >= 0 ? 0 : B_WS_NULL);
      bits |= (f.optSack ? B_SACK : 0) | (f.optTs ? B_TS : 0);
    }
    // Rare bits as values, not as statements reached only when set (a first
    // truncated ladder or eviction would deoptimise this function).
    bits |= ladderN >= 0 && f.ladderSeen > ladderN ? B_TRUNC : 0;
    bits |= why === EMIT_EVICT ? B_EVICTED : 0;
    a[i++] = bits;
    if (bits & B_RST) {
      a[i++] = f.rstTs;
      a[i++] = f.rstFrame;
      a[i++] = f.rstTtl;
      a[i++] = forgedReason === null ? 0 : -1 - enc.stringId(forgedReason);
    }
    if (icmp) {
      a[i++] = f.icmpType;
      a[i++] = f.icmpCode;
      i = putAddr(a, i, f.icmpIpv === 6, f.icmpA0, f.icmpA1, f.icmpA2, f.icmpA3);
      a[i++] = f.icmpTs;
      a[i++] = f.icmpFrame;
    }
    a[i++] = f.dataRetrans;
    a[i++] = f.duplicates;
    if (f.hsRttSet) {
      a[i++] = f.hsSynToSynAckMs;
      a[i++] = f.hsSynAckToAckMs;
      a[i++] = f.hsTotalMs;
    }
    if (opts) {
      a[i++] = f.optMss >= 0 ? f.optMss : 0;
      a[i++] = f.optWs >= 0 ? f.optWs : 0;
    }
    a[i++] = f.c.packets;
    a[i++] = f.s.packets;
    a[i++] = f.c.bytes;
    a[i++] = f.s.bytes;
    a[i++] = f.firstTs;
    a[i++] = f.lastTs;
    const nf = f.framesN;
    a[i++] = nf;
    const B = f.framesBuf;
    for (let k = 0; k < nf; k++) a[i++] = B[k]!;
    const n = ladderN > 0 ? ladderN : 0;
    a[i++] = n;
    const L = f.ladder;
    for (let k = 0; k < n; k++) {
      const o = k * LADDER_FIELDS;
      const packed = L[o + 5]!;
      const from = (packed >>> 17) & 3;
      const flags = packed & 0x1ff;
      a[i++] = L[o]!;
      a[i++] = L[o + 1]!;
      a[i++] = from;
      if (from === FROM_ICMP) {
        // ICMP steps keep type and code in the len slot (an ICMP step has no payload length)
        const tc = L[o + 4]!;
        a[i++] = -1 - enc.stringId(`ICMP ${Math.floor(tc / 256)}/${tc % 256}`);
        a[i++] = (L[o + 2]! - f.c.base) >>> 0;
        a[i++] = 0;
        a[i++] = 0;
      } else {
        const me = from === FROM_CLIENT ? f.c : f.s;
        const other = from === FROM_CLIENT ? f.s : f.c;
        a[i++] = flags;
        a[i++] = (L[o + 2]! - me.base) >>> 0;
        // Relative ack like Wireshark: against the other side's ISN; 0 without the ACK flag.
        a[i++] = (flags & ACK) !== 0 ? (other.seen || other.synSeen ? (L[o + 3]! - other.base) >>> 0 : 1) : 0;
        a[i++] = L[o + 4]!;
      }
      a[i++] = (packed >>> 9) & 0xff;
      a[i++] = (packed >>> 19) & 7;
    }
    a[i++] = f.synAckTtl;
    enc.committed(i);
    return oc;
  }

}
