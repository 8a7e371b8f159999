/**
 * Seeded synthetic capture generator for benchmarks and exact-count tests.
 *
 * Writes a classic pcap (Ethernet, IPv4 with some IPv6) shaped like the
 * reference capture of the "Performance at scale" issue: 200 k connections,
 * ~1.43 M packets, ~115 MB, of which ~10 % are unanswered (SYN at t, t+1, t+3,
 * t+7 s), ~8 % refused (SYN, RST-ACK) and the rest short HTTP-like exchanges,
 * ~3 % of them with one retransmitted request.
 *
 * The reference size (~80 bytes a packet on disk) only works out with a short
 * snap length, so the default is `tcpdump -s 96`; checksums are computed over
 * the full (virtual) payload all the same, so a file written with
 * `--snaplen 65535` carries every payload byte and verifies in Wireshark.
 *
 * Determinism: one small PRNG (sfc32) drives every choice, so a seed always
 * gives the same bytes. Memory stays bounded whatever the size: only
 * connections in progress are held, in a min-heap keyed by the time of their
 * next packet, and packets leave through one reused write buffer.
 *
 * Addresses are documentation ranges only (RFC 5737, RFC 3849). This writes
 * files; it never sends anything.
 */
import * as fs from "node:fs";
import { pathToFileURL } from "node:url";

// ---------------------------------------------------------------------------
// PRNG

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): tiny, fast, good enough for traffic shapes. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    this.a = 0x9e3779b9 ^ hi;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162 ^ lo;
    this.d = 1;
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** Log-uniform in [lo, hi): RTTs and delays span orders of magnitude. */
  logUniform(lo: number, hi: number): number {
    return lo * Math.pow(hi / lo, this.float());
  }

  /** Exponential with the given mean (Poisson arrivals). */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
}

// ---------------------------------------------------------------------------
// Output: one reused buffer, flushed with fs.writeSync

export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
export const LINKTYPE_ETHERNET = 1;

/** A byte sink that accumulates packets in a big reused buffer. */
export class ChunkWriter {
  readonly buf: Buffer;
  pos = 0;
  /** Bytes handed to the sink so far (plus `pos` still buffered). */
  flushed = 0;

  constructor(
    private readonly sink: (chunk: Buffer, len: number) => void,
    size = 8 << 20,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Make room for n more bytes (flushing if needed). */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.flush();
    if (n > this.buf.length) throw new Error(`record of ${n} bytes does not fit the ${this.buf.length}-byte write buffer`);
  }

  flush(): void {
    if (this.pos > 0) {
      this.sink(this.buf, this.pos);
      this.flushed += this.pos;
      this.pos = 0;
    }
  }

  get total(): number {
    return this.flushed + this.pos;
  }
}

/** Writes a microsecond, little-endian classic pcap global header. */
export function writePcapGlobalHeader(w: ChunkWriter, snaplen: number, linkType = LINKTYPE_ETHERNET): void {
  w.reserve(PCAP_GLOBAL_HEADER_LEN);
  const b = w.buf;
  const p = w.pos;
  b.writeUInt32LE(0xa1b2c3d4, p);
  b.writeUInt16LE(2, p + 4);
  b.writeUInt16LE(4, p + 6);
  b.writeInt32LE(0, p + 8); // thiszone
  b.writeUInt32LE(0, p + 12); // sigfigs
  b.writeUInt32LE(snaplen >>> 0, p + 16);
  b.writeUInt32LE(linkType, p + 20);
  w.pos += PCAP_GLOBAL_HEADER_LEN;
}

// ---------------------------------------------------------------------------
// Packet building

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** TCP option sets, chosen per segment (what Linux/Windows stacks put on SYNs). */
export const Opt = {
  NONE: 0,
  /** MSS, NOP, WS 7, NOP, NOP, SACK-permitted: 12 bytes (client SYN, no timestamps). */
  SYN: 1,
  /** MSS, NOP, WS 9, NOP, NOP, SACK-permitted: 12 bytes (SYN-ACK). */
  SYNACK: 2,
  /** MSS only: 4 bytes (flood tools). */
  MSS_ONLY: 3,
} as const;

/** Payload templates: bytes a segment's payload is cut from, with word-sum prefix tables for checksums. */
export class PayloadTemplate {
  readonly bytes: Buffer;
  /** prefix[n] = sum of big-endian 16-bit words of bytes[0..n), odd tail byte as the high half. */
  readonly prefix: Float64Array;

  constructor(head: string, size: number) {
    const bytes = Buffer.alloc(size);
    const h = Buffer.from(head, "latin1");
    h.copy(bytes, 0, 0, Math.min(h.length, size));
    // Filler that compresses poorly and reads as text in Wireshark's hex pane.
    const filler = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (let i = h.length; i < size; i++) bytes[i] = filler.charCodeAt((i * 7 + (i >> 5)) % filler.length);
    this.bytes = bytes;
    const prefix = new Float64Array(size + 1);
    for (let n = 1; n <= size; n++) {
      const i = n - 1;
      prefix[n] = prefix[n - 1] + ((i & 1) === 0 ? bytes[i] << 8 : bytes[i]);
    }
    this.prefix = prefix;
  }

  /** One's-complement partial sum of [off, off+len); off must be even. */
  sum(off: number, len: number): number {
    return this.prefix[off + len] - this.prefix[off];
  }
}

/**
 * One reusable segment description (filled per packet, no allocation).
 * IPv4 addresses are 32-bit numbers; IPv6 addresses are 16-byte arrays.
 */
export class Segment {
  v6 = false;
  src4 = 0;
  dst4 = 0;
  src6: Uint8Array = new Uint8Array(16);
  dst6: Uint8Array = new Uint8Array(16);
  srcMac = 0; // low 32 bits; high 16 bits are 0x0200 (locally administered)
  dstMac = 0;
  sport = 0;
  dport = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  ttl = 64;
  ipId = 0;
  flowLabel = 0;
  opt: number = Opt.NONE;
  mss = 1460;
  payloadLen = 0;
  payload: PayloadTemplate | null = null;
  payloadOff = 0;
}

function optLen(opt: number): number {
  switch (opt) {
    case Opt.SYN:
    case Opt.SYNACK:
      return 12;
    case Opt.MSS_ONLY:
      return 4;
    default:
      return 0;
  }
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

function wordSum(b: Buffer, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  return s;
}

/**
 * Appends one Ethernet/IP/TCP record to `w` and returns its wire length.
 * IP and TCP checksums are exact; the payload's share comes from the template's prefix sums.
 */
export function writeTcpRecord(w: ChunkWriter, s: Segment, tsUs: number, snaplen: number): number {
  const ipLen = s.v6 ? 40 : 20;
  const tcpLen = 20 + optLen(s.opt);
  const wireLen = 14 + ipLen + tcpLen + s.payloadLen;
  const capLen = wireLen < snaplen ? wireLen : snaplen;
  const hdrLen = 14 + ipLen + tcpLen;
  // Headers are always written in full (then cut by capLen), so reserve for both.
  w.reserve(PCAP_RECORD_HEADER_LEN + (capLen > hdrLen ? capLen : hdrLen));
  const b = w.buf;
  let p = w.pos;

  const sec = Math.floor(tsUs / 1e6);
  b.writeUInt32LE(sec, p);
  b.writeUInt32LE(tsUs - sec * 1e6, p + 4);
  b.writeUInt32LE(capLen, p + 8);
  b.writeUInt32LE(wireLen, p + 12);
  p += PCAP_RECORD_HEADER_LEN;

  // Ethernet
  b[p] = 0x02;
  b[p + 1] = 0x00;
  b.writeUInt32BE(s.dstMac >>> 0, p + 2);
  b[p + 6] = 0x02;
  b[p + 7] = 0x00;
  b.writeUInt32BE(s.srcMac >>> 0, p + 8);
  b[p + 12] = s.v6 ? 0x86 : 0x08;
  b[p + 13] = s.v6 ? 0xdd : 0x00;
  p += 14;

  const tcpSegLen = tcpLen + s.payloadLen;
  let pseudo: number;
  const ip = p;
  if (s.v6) {
    b.writeUInt32BE((0x60000000 | (s.flowLabel & 0xfffff)) >>> 0, p);
    b.writeUInt16BE(tcpSegLen, p + 4);
    b[p + 6] = 6;
    b[p + 7] = s.ttl;
    b.set(s.src6, p + 8);
    b.set(s.dst6, p + 24);
    pseudo = wordSum(b, p + 8, p + 40) + 6 + tcpSegLen;
    p += 40;
  } else {
    b[p] = 0x45;
    b[p + 1] = 0;
    b.writeUInt16BE(20 + tcpSegLen, p + 2);
    b.writeUInt16BE(s.ipId & 0xffff, p + 4);
    b.writeUInt16BE(0x4000, p + 6); // DF, as Linux sets on TCP
    b[p + 8] = s.ttl;
    b[p + 9] = 6;
    b[p + 10] = 0;
    b[p + 11] = 0;
    b.writeUInt32BE(s.src4 >>> 0, p + 12);
    b.writeUInt32BE(s.dst4 >>> 0, p + 16);
    b.writeUInt16BE(~fold(wordSum(b, ip, ip + 20)) & 0xffff, ip + 10);
    pseudo = wordSum(b, p + 12, p + 20) + 6 + tcpSegLen;
    p += 20;
  }

  const tcp = p;
  b.writeUInt16BE(s.sport, p);
  b.writeUInt16BE(s.dport, p + 2);
  b.writeUInt32BE(s.seq >>> 0, p + 4);
  b.writeUInt32BE(s.flags & TCP_ACK ? s.ack >>> 0 : 0, p + 8);
  b[p + 12] = (tcpLen / 4) << 4;
  b[p + 13] = s.flags;
  b.writeUInt16BE(s.window, p + 14);
  b[p + 16] = 0;
  b[p + 17] = 0;
  b[p + 18] = 0;
  b[p + 19] = 0;
  p += 20;
  switch (s.opt) {
    case Opt.SYN:
    case Opt.SYNACK:
      b[p] = 2;
      b[p + 1] = 4;
      b.writeUInt16BE(s.mss, p + 2);
      b[p + 4] = 1;
      b[p + 5] = 3;
      b[p + 6] = 3;
      b[p + 7] = s.opt === Opt.SYN ? 7 : 9;
      b[p + 8] = 1;
      b[p + 9] = 1;
      b[p + 10] = 4;
      b[p + 11] = 2;
      p += 12;
      break;
    case Opt.MSS_ONLY:
      b[p] = 2;
      b[p + 1] = 4;
      b.writeUInt16BE(s.mss, p + 2);
      p += 4;
      break;
  }
  let sum = pseudo + wordSum(b, tcp, p);
  if (s.payloadLen > 0 && s.payload !== null) {
    sum += s.payload.sum(s.payloadOff, s.payloadLen);
    const room = capLen - hdrLen;
    if (room > 0) s.payload.bytes.copy(b, p, s.payloadOff, s.payloadOff + Math.min(room, s.payloadLen));
  }
  b.writeUInt16BE(~fold(sum) & 0xffff, tcp + 16);

  w.pos += PCAP_RECORD_HEADER_LEN + capLen;
  return wireLen;
}

// ---------------------------------------------------------------------------
// Traffic model

/** What each connection is meant to be; the ground truth's vocabulary matches synsent's Outcome. */
const K_CLOSED = 0;
const K_UNANSWERED = 1;
const K_REFUSED = 2;

const MAX_STEPS = 24;
/** Client ephemeral range (Linux default ip_local_port_range). */
const EPH_LO = 32768;
const EPH_HI = 60999;

const CLIENT_NETS = [0xc6336400 /* 198.51.100.0 */, 0xcb007100 /* 203.0.113.0 */];
const CLIENT_V4 = CLIENT_NETS.length * 254;
const CLIENT_V6 = 64;
/** Live servers 192.0.2.10-.25; black-holed hosts 192.0.2.200-.203 (only ever unanswered). */
const SERVER_V4_BASE = 0xc000020a;
const SERVERS_V4 = 16;
const DEAD_V4_BASE = 0xc00002c8;
const DEAD_V4 = 4;
const SERVERS_V6 = 8;
const SERVER_PORTS = [443, 443, 443, 443, 80, 80, 8080, 5432];
/** The capture point's router (every server packet arrives through it). */
const ROUTER_MAC = 0x00000001;

const REQUEST_TEMPLATE_LEN = 512;
const RESPONSE_TEMPLATE_LEN = 8 * 1460;

class Conn {
  id = 0;
  kind = K_CLOSED;
  v6 = false;
  client = 0; // index into the client address pool
  server = 0; // server address index (dead hosts after the live ones)
  cport = 0;
  sport = 0;
  isnC = 0;
  isnS = 0;
  ipIdC = 0;
  ipIdS = 0;
  ttlS = 64;
  mss = 1460;
  flowLabelC = 0;
  flowLabelS = 0;
  n = 0;
  i = 0;
  heapIndex = -1;
  readonly t = new Float64Array(MAX_STEPS); // absolute µs
  readonly fromServer = new Uint8Array(MAX_STEPS);
  readonly flags = new Uint8Array(MAX_STEPS);
  readonly seq = new Float64Array(MAX_STEPS); // relative to own ISN
  readonly ack = new Float64Array(MAX_STEPS); // relative to peer ISN
  readonly len = new Uint16Array(MAX_STEPS);
  readonly off = new Uint16Array(MAX_STEPS);
  readonly tpl = new Uint8Array(MAX_STEPS); // 0 none, 1 request, 2 response
  readonly opt = new Uint8Array(MAX_STEPS);
  readonly win = new Uint16Array(MAX_STEPS);

  add(t: number, fromServer: number, flags: number, seq: number, ack: number): number {
    const k = this.n++;
    this.t[k] = Math.round(t);
    this.fromServer[k] = fromServer;
    this.flags[k] = flags;
    this.seq[k] = seq;
    this.ack[k] = ack;
    this.len[k] = 0;
    this.off[k] = 0;
    this.tpl[k] = 0;
    this.opt[k] = Opt.NONE;
    this.win[k] = fromServer ? 509 : 502;
    return k;
  }
}

/** Min-heap of connections by the time of their next packet (ties by id, so output order is total). */
class ConnHeap {
  readonly items: Conn[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Conn | undefined {
    return this.items[0];
  }

  private less(a: Conn, b: Conn): boolean {
    const ta = a.t[a.i];
    const tb = b.t[b.i];
    return ta < tb || (ta === tb && a.id < b.id);
  }

  push(c: Conn): void {
    const items = this.items;
    items.push(c);
    this.up(items.length - 1);
  }

  /** Re-sort after the top's key grew. */
  updateTop(): void {
    this.down(0);
  }

  pop(): Conn | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const items = this.items;
    const c = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(c, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = c;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const c = items[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && this.less(items[r], items[l]) ? r : l;
      if (!this.less(items[m], c)) break;
      items[i] = items[m];
      i = m;
    }
    items[i] = c;
  }
}

export interface GenerateOptions {
  /** Output file path. */
  out: string;
  /** Number of connections (ignored when `packets` is set). Default 200 000. */
  connections?: number;
  /** Instead of `connections`: about this many packets (within one connection's worth, < 24). */
  packets?: number;
  seed?: number;
  /** Connection arrivals per second (Poisson). Default 700, so 200 k connections span ~5 minutes. */
  rate?: number;
  /** Snap length: bytes kept per packet. Default 96 (matches the reference file's ~80 bytes/packet). */
  snaplen?: number;
  /** Shares of connection kinds; the rest are normal exchanges closed with FIN. */
  unansweredShare?: number;
  refusedShare?: number;
  /** Share of normal connections with one retransmitted request. */
  retransShare?: number;
  /** Share of connections over IPv6. */
  ipv6Share?: number;
  /** Capture start, seconds since the Unix epoch. Default 2024-01-01T00:00:00Z. */
  startS?: number;
  /**
   * Seconds between the last unanswered SYN and the last connection (a normal
   * one), so a tool's SYN timeout up to this value sees every unanswered
   * connection as unanswered, not pending. Default 30.
   */
  tailS?: number;
  /** Write the `<out>.truth.json` sidecar. Default true. */
  truthFile?: boolean;
}

/** Exact counts of what was written, for tests that check a tool's numbers. */
export interface GenerateTruth {
  generator: "synsent-bench-generate";
  version: number;
  options: {
    seed: number;
    connections: number | null;
    packets: number | null;
    rate: number;
    snaplen: number;
    unansweredShare: number;
    refusedShare: number;
    retransShare: number;
    ipv6Share: number;
    startS: number;
    tailS: number;
  };
  file: string;
  /** File size in bytes. */
  bytes: number;
  packets: number;
  /** Sum of on-the-wire frame lengths. */
  wireBytes: number;
  connections: number;
  ipv4Connections: number;
  ipv6Connections: number;
  /** Connections by intended outcome (synsent's Outcome names). */
  outcomes: { closed: number; unanswered: number; refused: number };
  /** The same by Zeek conn_state. */
  zeek: { SF: number; S0: number; REJ: number };
  /** SYN without ACK, retransmissions included. */
  syn: number;
  synAck: number;
  /** RST segments (all RST-ACK answers to SYNs). */
  rst: number;
  fin: number;
  /** Data segments that repeat an earlier one (Wireshark tcp.analysis.retransmission, SYNs excluded). */
  dataRetransmissions: number;
  /** SYN retransmissions (3 per unanswered connection). Wireshark counts these as retransmissions too. */
  synRetransmissions: number;
  /** Connections with a retransmitted request. */
  connectionsWithRetransmission: number;
  /** Sum of TCP payload bytes by IP length (both directions, retransmissions included). */
  payloadBytes: number;
  firstTs: number;
  lastTs: number;
  /** Most connections in progress at once (generator memory bound). */
  peakConcurrent: number;
  /**
   * Unanswered connections whose last SYN is within T seconds of the last
   * packet, for T in the keys: a tool with a SYN timeout of T may call them
   * "pending" instead of "unanswered".
   */
  unansweredEndingWithin: Record<string, number>;
  generateSeconds: number;
}

const TRUTH_VERSION = 1;
const PENDING_WINDOWS = [1, 3, 5, 10, 30];

function clientAddr4(i: number): number {
  return (CLIENT_NETS[Math.floor(i / 254)] + (i % 254) + 1) >>> 0;
}

function setClient6(dst: Uint8Array, i: number): void {
  // 2001:db8:1::/64, interface id 0x...a<i>
  dst.fill(0);
  dst[0] = 0x20;
  dst[1] = 0x01;
  dst[2] = 0x0d;
  dst[3] = 0xb8;
  dst[5] = 0x01;
  dst[8] = 0x02;
  dst[14] = 0x0a;
  dst[15] = i;
}

function setServer6(dst: Uint8Array, i: number): void {
  // 2001:db8:2::10 + i
  dst.fill(0);
  dst[0] = 0x20;
  dst[1] = 0x01;
  dst[2] = 0x0d;
  dst[3] = 0xb8;
  dst[5] = 0x02;
  dst[15] = 0x10 + i;
}

/** Generates the capture described by `opts` and returns (and by default writes) its ground truth. */
export function generate(opts: GenerateOptions): GenerateTruth {
  const started = process.hrtime.bigint();
  const seed = opts.seed ?? 1;
  const byPackets = opts.packets !== undefined;
  const targetConns = byPackets ? Infinity : (opts.connections ?? 200_000);
  const targetPackets = byPackets ? (opts.packets as number) : Infinity;
  const rate = opts.rate ?? 700;
  const snaplen = opts.snaplen ?? 96;
  const unansweredShare = opts.unansweredShare ?? 0.1;
  const refusedShare = opts.refusedShare ?? 0.08;
  const retransShare = opts.retransShare ?? 0.03;
  const ipv6Share = opts.ipv6Share ?? 0.05;
  const startS = opts.startS ?? 1_704_067_200;
  const tailS = opts.tailS ?? 30;
  if (!(Number.isInteger(targetConns) || targetConns === Infinity) || targetConns < 0) throw new Error(`--connections must be a non-negative integer, got ${opts.connections}`);
  if (byPackets && (!Number.isInteger(targetPackets) || targetPackets < 0)) throw new Error(`--packets must be a non-negative integer, got ${opts.packets}`);
  if (!(rate > 0)) throw new Error(`--rate must be > 0, got ${rate}`);
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 262144) throw new Error(`--snaplen must be 1..262144, got ${snaplen}`);
  if (unansweredShare < 0 || refusedShare < 0 || unansweredShare + refusedShare > 1) throw new Error("--unanswered and --refused shares must be >= 0 and add up to at most 1");

  const rng = new Prng(seed);
  const fd = fs.openSync(opts.out, "w");
  const w = new ChunkWriter((chunk, len) => {
    let off = 0;
    while (off < len) off += fs.writeSync(fd, chunk, off, len - off);
  });
  writePcapGlobalHeader(w, snaplen);

  const reqTpl = new PayloadTemplate(
    "GET /api/v1/items?page=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: synsent-bench/1\r\nAccept: */*\r\nCookie: session=",
    REQUEST_TEMPLATE_LEN,
  );
  const respTpl = new PayloadTemplate(
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nServer: example\r\nCache-Control: no-store\r\n\r\n",
    RESPONSE_TEMPLATE_LEN,
  );

  // Ephemeral port cursors per client address (Linux-like: consecutive with small random gaps).
  const portCursor = new Int32Array(CLIENT_V4 + CLIENT_V6);
  for (let i = 0; i < portCursor.length; i++) portCursor[i] = rng.int(EPH_LO, EPH_HI);
  const serverTtl = new Uint8Array(SERVERS_V4 + DEAD_V4 + SERVERS_V6);
  for (let i = 0; i < serverTtl.length; i++) serverTtl[i] = 64 - rng.int(3, 20);

  const heap = new ConnHeap();
  const pool: Conn[] = [];
  const seg = new Segment();
  const client6 = new Uint8Array(16);
  const server6 = new Uint8Array(16);

  const t0 = startS * 1e6;
  let nextArrival = t0;
  let started_ = 0;
  let committed = 0; // packets written + still scheduled
  let packets = 0;
  let wireBytes = 0;
  let payloadBytes = 0;
  let syn = 0;
  let synAck = 0;
  let rst = 0;
  let fin = 0;
  let dataRetrans = 0;
  let connsRetrans = 0;
  let v6Conns = 0;
  const outcome = [0, 0, 0];
  let firstTs = -1;
  let lastTs = -1;
  let peak = 0;
  let lastUnansweredSyn = 0;
  let lastStarted = false;
  const tailUs = tailS * 1e6;
  // Last-SYN times of recent unanswered connections (only the last 30 s matter).
  let recentUnanswered: number[] = [];
  let recentHead = 0;
  const maxWindowUs = PENDING_WINDOWS[PENDING_WINDOWS.length - 1] * 1e6;

  const build = (c: Conn, at: number, forceClosed: boolean): void => {
    c.n = 0;
    c.i = 0;
    const u = rng.float();
    c.kind = forceClosed ? K_CLOSED : u < unansweredShare ? K_UNANSWERED : u < unansweredShare + refusedShare ? K_REFUSED : K_CLOSED;
    c.v6 = rng.float() < ipv6Share;
    if (c.v6) {
      c.client = CLIENT_V4 + rng.int(0, CLIENT_V6 - 1);
      c.server = SERVERS_V4 + DEAD_V4 + rng.int(0, SERVERS_V6 - 1);
      c.mss = 1440;
      c.flowLabelC = rng.u32() & 0xfffff;
      c.flowLabelS = rng.u32() & 0xfffff;
    } else {
      c.client = rng.int(0, CLIENT_V4 - 1);
      c.server = c.kind === K_UNANSWERED && rng.float() < 0.5 ? SERVERS_V4 + rng.int(0, DEAD_V4 - 1) : rng.int(0, SERVERS_V4 - 1);
      c.mss = 1460;
    }
    let port = portCursor[c.client] + rng.int(1, 4);
    if (port > EPH_HI) port = EPH_LO + (port - EPH_HI - 1);
    portCursor[c.client] = port;
    c.cport = port;
    c.sport = c.kind === K_REFUSED && rng.float() < 0.5 ? 8443 : SERVER_PORTS[rng.int(0, SERVER_PORTS.length - 1)];
    c.isnC = rng.u32();
    c.isnS = c.kind === K_REFUSED ? 0 : rng.u32();
    c.ipIdC = rng.int(0, 0xffff);
    c.ipIdS = c.kind === K_REFUSED ? 0 : rng.int(0, 0xffff);
    c.ttlS = serverTtl[c.server];
    const rtt = rng.logUniform(200, 50_000); // µs
    let k: number;
    switch (c.kind) {
      case K_UNANSWERED:
        // Linux's classic doubling: retries 1, 3 and 7 s after the first SYN.
        for (const dt of [0, 1e6, 3e6, 7e6]) c.opt[c.add(at + dt, 0, TCP_SYN, 0, 0)] = Opt.SYN;
        if (c.t[c.n - 1] > lastUnansweredSyn) lastUnansweredSyn = c.t[c.n - 1];
        for (let j = 0; j < c.n; j++) c.win[j] = 64240;
        break;
      case K_REFUSED:
        c.opt[c.add(at, 0, TCP_SYN, 0, 0)] = Opt.SYN;
        c.win[0] = 64240;
        k = c.add(at + rtt, 1, TCP_RST | TCP_ACK, 0, 1);
        c.win[k] = 0;
        break;
      default: {
        const mss = c.mss;
        let t = at;
        c.opt[c.add(t, 0, TCP_SYN, 0, 0)] = Opt.SYN;
        c.win[0] = 64240;
        t += rtt;
        k = c.add(t, 1, TCP_SYN | TCP_ACK, 0, 1);
        c.opt[k] = Opt.SYNACK;
        c.win[k] = 65160;
        t += rng.int(15, 80);
        c.add(t, 0, TCP_ACK, 1, 1);
        const req = rng.int(100, 400);
        t += rng.logUniform(30, 800);
        k = c.add(t, 0, TCP_PSH | TCP_ACK, 1, 1);
        c.len[k] = req;
        c.tpl[k] = 1;
        if (rng.float() < retransShare) {
          // The request was lost past the capture point: same bytes again after the minimum RTO (200 ms).
          t += 200_000 + rtt;
          k = c.add(t, 0, TCP_PSH | TCP_ACK, 1, 1);
          c.len[k] = req;
          c.tpl[k] = 1;
          dataRetrans++;
          connsRetrans++;
        }
        const u2 = rng.float();
        const segs = u2 < 0.7 ? 1 : u2 < 0.95 ? 2 : rng.int(3, 5);
        const respLen = (segs - 1) * mss + rng.int(200, mss);
        const serverCloses = rng.float() < 0.5; // HTTP/1.0-style: FIN rides on the last segment
        t += rtt + rng.logUniform(100, 20_000);
        for (let j = 0; j < segs; j++) {
          const last = j === segs - 1;
          const len = last ? respLen - j * mss : mss;
          if (j > 0) t += rng.int(10, 40);
          k = c.add(t, 1, TCP_ACK | (last ? TCP_PSH | (serverCloses ? TCP_FIN : 0) : 0), 1 + j * mss, 1 + req);
          c.len[k] = len;
          c.off[k] = j * mss;
          c.tpl[k] = 2;
          // Delayed ACK: every second full segment is acked at once; the last one by the FIN.
          if ((j & 1) === 1 && !last) {
            t += rng.int(10, 60);
            c.add(t, 0, TCP_ACK, 1 + req, 1 + (j + 1) * mss);
          }
        }
        t += rng.logUniform(20, 1000);
        if (serverCloses) {
          c.add(t, 0, TCP_FIN | TCP_ACK, 1 + req, 2 + respLen);
          t += rtt;
          c.add(t, 1, TCP_ACK, 2 + respLen, 2 + req);
        } else {
          c.add(t, 0, TCP_FIN | TCP_ACK, 1 + req, 1 + respLen);
          t += rtt;
          c.add(t, 1, TCP_FIN | TCP_ACK, 1 + respLen, 2 + req);
          t += rng.int(15, 80);
          c.add(t, 0, TCP_ACK, 2 + req, 2 + respLen);
        }
      }
    }
  };

  const emit = (c: Conn): void => {
    const k = c.i;
    const fromServer = c.fromServer[k] === 1;
    seg.v6 = c.v6;
    if (c.v6) {
      setClient6(client6, c.client - CLIENT_V4);
      setServer6(server6, c.server - SERVERS_V4 - DEAD_V4);
      seg.src6 = fromServer ? server6 : client6;
      seg.dst6 = fromServer ? client6 : server6;
      seg.flowLabel = fromServer ? c.flowLabelS : c.flowLabelC;
    } else {
      const ca = clientAddr4(c.client);
      const sa = c.server < SERVERS_V4 ? SERVER_V4_BASE + c.server : DEAD_V4_BASE + (c.server - SERVERS_V4);
      seg.src4 = fromServer ? sa : ca;
      seg.dst4 = fromServer ? ca : sa;
    }
    const clientMac = 0x0a000000 + c.client;
    seg.srcMac = fromServer ? ROUTER_MAC : clientMac;
    seg.dstMac = fromServer ? clientMac : ROUTER_MAC;
    if (fromServer) {
      seg.sport = c.sport;
      seg.dport = c.cport;
      seg.seq = (c.isnS + c.seq[k]) % 4294967296;
      seg.ack = (c.isnC + c.ack[k]) % 4294967296;
      seg.ttl = c.ttlS;
      seg.ipId = c.ipIdS;
      if (c.kind !== K_REFUSED) c.ipIdS = (c.ipIdS + 1) & 0xffff;
    } else {
      seg.sport = c.cport;
      seg.dport = c.sport;
      seg.seq = (c.isnC + c.seq[k]) % 4294967296;
      seg.ack = (c.isnS + c.ack[k]) % 4294967296;
      seg.ttl = 64;
      seg.ipId = c.ipIdC;
      c.ipIdC = (c.ipIdC + 1) & 0xffff;
    }
    const flags = c.flags[k];
    seg.flags = flags;
    seg.window = c.win[k];
    seg.opt = c.opt[k];
    seg.mss = c.mss;
    seg.payloadLen = c.len[k];
    seg.payload = c.tpl[k] === 1 ? reqTpl : c.tpl[k] === 2 ? respTpl : null;
    seg.payloadOff = c.off[k];
    const ts = c.t[k];
    const wire = writeTcpRecord(w, seg, ts, snaplen);
    packets++;
    wireBytes += wire;
    payloadBytes += seg.payloadLen;
    if (firstTs < 0) firstTs = ts;
    lastTs = ts;
    if (flags & TCP_SYN) {
      if (flags & TCP_ACK) synAck++;
      else syn++;
    }
    if (flags & TCP_RST) rst++;
    if (flags & TCP_FIN) fin++;
    if (c.kind === K_UNANSWERED && k === c.n - 1) {
      recentUnanswered.push(ts);
      if (recentUnanswered.length - recentHead > 4096 || recentHead > 65536) {
        while (recentHead < recentUnanswered.length && recentUnanswered[recentHead] < ts - maxWindowUs) recentHead++;
        if (recentHead > 65536) {
          recentUnanswered = recentUnanswered.slice(recentHead);
          recentHead = 0;
        }
      }
    }
  };

  for (;;) {
    const top = heap.peek();
    const canStart = !lastStarted && started_ < targetConns && committed < targetPackets;
    // The last connection is a normal one, held back until `tail` seconds after the
    // last unanswered SYN, so no tool's SYN timeout can call those "pending".
    const isLast = byPackets ? committed + MAX_STEPS >= targetPackets : started_ === targetConns - 1;
    const arrival = canStart && isLast ? Math.max(nextArrival, lastUnansweredSyn + tailUs) : nextArrival;
    if (canStart && (top === undefined || arrival <= top.t[top.i])) {
      const c = pool.pop() ?? new Conn();
      c.id = started_++;
      build(c, arrival, isLast);
      if (isLast) lastStarted = true;
      outcome[c.kind]++;
      if (c.v6) v6Conns++;
      committed += c.n;
      heap.push(c);
      if (heap.size > peak) peak = heap.size;
      nextArrival += Math.max(1, Math.round(rng.exp(1e6 / rate)));
      continue;
    }
    if (top === undefined) break;
    emit(top);
    top.i++;
    if (top.i < top.n) heap.updateTop();
    else {
      heap.pop();
      pool.push(top);
    }
  }
  w.flush();
  fs.closeSync(fd);

  const endingWithin: Record<string, number> = {};
  for (const win of PENDING_WINDOWS) {
    let n = 0;
    for (let i = recentHead; i < recentUnanswered.length; i++) if (recentUnanswered[i] >= lastTs - win * 1e6) n++;
    endingWithin[String(win)] = n;
  }

  const truth: GenerateTruth = {
    generator: "synsent-bench-generate",
    version: TRUTH_VERSION,
    options: {
      seed,
      connections: byPackets ? null : targetConns,
      packets: byPackets ? targetPackets : null,
      rate,
      snaplen,
      unansweredShare,
      refusedShare,
      retransShare,
      ipv6Share,
      startS,
      tailS,
    },
    file: opts.out,
    bytes: w.total,
    packets,
    wireBytes,
    connections: started_,
    ipv4Connections: started_ - v6Conns,
    ipv6Connections: v6Conns,
    outcomes: { closed: outcome[K_CLOSED], unanswered: outcome[K_UNANSWERED], refused: outcome[K_REFUSED] },
    zeek: { SF: outcome[K_CLOSED], S0: outcome[K_UNANSWERED], REJ: outcome[K_REFUSED] },
    syn,
    synAck,
    rst,
    fin,
    dataRetransmissions: dataRetrans,
    synRetransmissions: 3 * outcome[K_UNANSWERED],
    connectionsWithRetransmission: connsRetrans,
    payloadBytes,
    firstTs: firstTs < 0 ? 0 : firstTs / 1e6,
    lastTs: lastTs < 0 ? 0 : lastTs / 1e6,
    peakConcurrent: peak,
    unansweredEndingWithin: endingWithin,
    generateSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
  if (opts.truthFile !== false) fs.writeFileSync(truthPath(opts.out), JSON.stringify(truth, null, 2) + "\n");
  return truth;
}

/** Where the ground truth of a generated file lives. */
export function truthPath(out: string): string {
  return `${out}.truth.json`;
}

/** One-line human summary of a generated file. */
export function summaryLine(t: GenerateTruth): string {
  const mb = (t.bytes / 1e6).toFixed(1);
  const rate = t.generateSeconds > 0 ? ` in ${t.generateSeconds.toFixed(1)} s (${(t.packets / t.generateSeconds / 1e6).toFixed(2)} M packets/s)` : "";
  return (
    `${t.file}: ${t.packets} packets, ${mb} MB, ${t.connections} connections ` +
    `(closed ${t.outcomes.closed}, unanswered ${t.outcomes.unanswered}, refused ${t.outcomes.refused}; ` +
    `IPv6 ${t.ipv6Connections}), ${t.syn} SYNs, ${t.dataRetransmissions} data retransmissions${rate}`
  );
}

// ---------------------------------------------------------------------------
// CLI

const USAGE = `usage: node dist/bench/generate.js [--connections N | --packets N] [--seed S] -o FILE
  --connections N   connections to generate (default 200000, ~1.42 M packets)
  --packets N       instead: about N packets (within one connection's worth, < 24)
  --seed S          PRNG seed (default 1); same seed => byte-identical file
  --rate R          connection arrivals per second (default 700)
  --snaplen N       bytes kept per packet (default 96, like tcpdump -s 96; 65535 keeps payloads)
  --unanswered F    share of unanswered connections (default 0.1)
  --refused F       share of refused connections (default 0.08)
  --retrans F       share of normal connections with one retransmitted request (default 0.03)
  --ipv6 F          share of IPv6 connections (default 0.05)
  --start S         capture start, Unix seconds (default 1704067200)
  --tail S          quiet seconds between the last unanswered SYN and the final
                    (normal) connection, so SYN timeouts up to S see no 'pending' (default 30)
  --no-truth        do not write FILE.truth.json
  -o, --out FILE    output pcap (required)`;

/** Tiny argv parser shared by the bench scripts: --key value, --flag, -o value. */
export function parseArgs(argv: string[], flags: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") {
      out.set("help", "true");
      continue;
    }
    let key: string;
    if (a === "-o") key = "out";
    else if (a.startsWith("--")) key = a.slice(2);
    else throw new Error(`unexpected argument '${a}'`);
    const eq = key.indexOf("=");
    if (eq >= 0) {
      out.set(key.slice(0, eq), key.slice(eq + 1));
      continue;
    }
    if (flags.includes(key)) {
      out.set(key, "true");
      continue;
    }
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`option --${key} needs a value`);
    out.set(key, v);
    i++;
  }
  return out;
}

/** Parses a number option: accepts 1e6, 1_000_000, 200k, 10M. */
export function numberArg(args: Map<string, string>, key: string): number | undefined {
  const raw = args.get(key);
  if (raw === undefined) return undefined;
  const m = /^([0-9._eE+-]+)([kKmMgG]?)$/.exec(raw.trim());
  const v = m ? Number(m[1].replace(/_/g, "")) * ({ "": 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 } as Record<string, number>)[m[2]] : NaN;
  if (!Number.isFinite(v)) throw new Error(`option --${key}: '${raw}' is not a number`);
  return v;
}

function main(argv: string[]): number {
  let args: Map<string, string>;
  try {
    args = parseArgs(argv, ["no-truth"]);
  } catch (e) {
    process.stderr.write(`generate: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.has("help")) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const known = new Set(["connections", "packets", "seed", "rate", "snaplen", "unanswered", "refused", "retrans", "ipv6", "start", "tail", "no-truth", "out"]);
  for (const k of args.keys()) {
    if (!known.has(k)) {
      process.stderr.write(`generate: unknown option --${k}\n${USAGE}\n`);
      return 2;
    }
  }
  const out = args.get("out");
  if (!out) {
    process.stderr.write(`generate: -o FILE is required\n${USAGE}\n`);
    return 2;
  }
  try {
    const truth = generate({
      out,
      connections: numberArg(args, "connections"),
      packets: numberArg(args, "packets"),
      seed: numberArg(args, "seed"),
      rate: numberArg(args, "rate"),
      snaplen: numberArg(args, "snaplen"),
      unansweredShare: numberArg(args, "unanswered"),
      refusedShare: numberArg(args, "refused"),
      retransShare: numberArg(args, "retrans"),
      ipv6Share: numberArg(args, "ipv6"),
      startS: numberArg(args, "start"),
      tailS: numberArg(args, "tail"),
      truthFile: !args.has("no-truth"),
    });
    process.stdout.write(summaryLine(truth) + "\n");
    return 0;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`generate: ${err.code ? `${out}: ` : ""}${err.message}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
