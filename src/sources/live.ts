/**
 * Live capture as a RecordSource, over synsent's own libpcap binding
 * (native/synsent_pcap.cc). Batches have exactly the layout the file readers
 * yield, so one pipeline serves both.
 *
 * The binding never blocks the event loop: the handle is non-blocking, a libuv
 * pool thread poll()s its descriptor, and `dispatch` copies everything that is
 * ready into the batch in one call into C++.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { packageRoot } from "../package-root.js";
import * as path from "node:path";
import { allocBatch, InputError, type RecordBatch, type RecordSource, type ReadStop } from "./record.js";

// ---------------------------------------------------------------------------
// The binding

export interface KernelStats {
  /** Packets that passed the filter (pcap_stats ps_recv). */
  received: number;
  /** Dropped because the capture buffer was full (ps_drop). */
  dropped: number;
  /** Dropped by the interface or its driver (ps_ifdrop). */
  ifDropped: number;
}

interface NativeCapture {
  dispatch(
    data: Uint8Array,
    offset: Uint32Array,
    capLen: Uint32Array,
    origLen: Uint32Array,
    tsSec: Float64Array,
    tsNsec: Uint32Array,
    maxRecords: number,
  ): number;
  wait(timeoutMs: number): Promise<"readable" | "timeout" | "interrupted" | "closed">;
  interrupt(): void;
  /** Optional: bindings built before it existed lack it. */
  linkState?(): "up" | "down" | "gone" | "unknown";
  stats(): KernelStats;
  setFilter(text: string): void;
  close(): void;
  readonly linkType: number;
  readonly linkTypeName: string;
  readonly snaplen: number;
  readonly nanosecond: boolean;
  readonly warnings: string[];
  readonly closed: boolean;
}

export interface NativeAddress {
  family: "IPv4" | "IPv6";
  addr: string;
  netmask: string | null;
  broadaddr: string | null;
  dstaddr: string | null;
}

interface NativeDevice {
  name: string;
  description: string | null;
  flags: number;
  addresses: NativeAddress[];
}

interface Binding {
  Capture: new (opts: {
    device: string;
    snaplen: number;
    promisc: boolean;
    bufferSize: number;
    immediate: boolean;
    timeoutMs: number;
    nanosecond: boolean;
  }) => NativeCapture;
  findAllDevs(): NativeDevice[];
  checkFilter(text: string, linkType?: number, snaplen?: number): string | null;
  libVersion(): string;
  IF_FLAGS: Record<"LOOPBACK" | "UP" | "RUNNING" | "WIRELESS" | "CONNECTION_STATUS" | "CONNECTED" | "DISCONNECTED" | "NOT_APPLICABLE", number>;
}

/** Error thrown by the native layer: `code` is the pcap status name (NO_SUCH_DEVICE, PERM_DENIED, ...). */
interface NativeError extends Error {
  code?: string;
  pcapStatus?: number;
}

/** Where the compiled binding lives, relative to the package root. */
export const BINDING_PATH = path.join("native", "build", "Release", "synsent_pcap.node");


let binding: Binding | null = null;
let bindingProblem: string | null = null;

/** One line saying why live capture is unavailable, or null when the binding loads. */
export function bindingError(): string | null {
  tryLoad();
  return binding ? null : bindingProblem;
}

function tryLoad(): void {
  if (binding || bindingProblem) return;
  const file = path.join(packageRoot(), BINDING_PATH);
  if (!fs.existsSync(file)) {
    bindingProblem =
      "live capture is not available: the libpcap binding was not built (apt-get install libpcap-dev g++ make python3, then npm rebuild synsent, or npm run rebuild:native in a checkout)";
    return;
  }
  try {
    const require = createRequire(import.meta.url);
    binding = require(file) as Binding;
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    bindingProblem = /libpcap/.test(msg)
      ? `live capture is not available: ${msg} (apt-get install libpcap0.8, then npm rebuild synsent)`
      : `live capture is not available: cannot load ${file}: ${msg} (npm rebuild synsent, or npm run rebuild:native in a checkout)`;
  }
}

/** The binding, or an InputError (exit 3) that says what to install. */
export function loadBinding(): Binding {
  tryLoad();
  if (!binding) throw new InputError(bindingProblem!, "");
  return binding;
}

/** libpcap's version string, or null without the binding. */
export function pcapVersion(): string | null {
  tryLoad();
  return binding ? binding.libVersion() : null;
}

// ---------------------------------------------------------------------------
// Interfaces

export interface InterfaceInfo {
  name: string;
  description: string | null;
  up: boolean;
  running: boolean;
  loopback: boolean;
  wireless: boolean;
  /** "connected" | "disconnected" | "not-applicable" | "unknown" */
  connection: string;
  addresses: { family: "IPv4" | "IPv6"; addr: string; prefixLen: number | null; broadcast: string | null }[];
}

function prefixLen(mask: string | null): number | null {
  if (!mask) return null;
  let bits = 0;
  if (mask.includes(":")) {
    const groups = expandV6(mask);
    if (!groups) return null;
    for (const g of groups) bits += popcount(g);
    return bits;
  }
  for (const part of mask.split(".")) bits += popcount(Number(part) & 0xff);
  return bits;
}

function expandV6(a: string): number[] | null {
  const halves = a.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...new Array<string>(Math.max(0, fill)).fill("0"), ...tail];
  if (all.length !== 8) return null;
  return all.map((g) => parseInt(g, 16) & 0xffff);
}

function popcount(v: number): number {
  let n = 0;
  while (v) {
    n += v & 1;
    v >>>= 1;
  }
  return n;
}

/** All capture interfaces in libpcap's order (the order of `tcpdump -D`). */
export function listInterfaces(): InterfaceInfo[] {
  const b = loadBinding();
  const F = b.IF_FLAGS;
  return b.findAllDevs().map((d) => {
    const cs = d.flags & F.CONNECTION_STATUS;
    return {
      name: d.name,
      description: d.description,
      up: (d.flags & F.UP) !== 0,
      running: (d.flags & F.RUNNING) !== 0,
      loopback: (d.flags & F.LOOPBACK) !== 0,
      wireless: (d.flags & F.WIRELESS) !== 0,
      connection:
        cs === F.CONNECTED ? "connected" : cs === F.DISCONNECTED ? "disconnected" : cs === F.NOT_APPLICABLE ? "not-applicable" : "unknown",
      addresses: d.addresses.map((a) => ({ family: a.family, addr: a.addr, prefixLen: prefixLen(a.netmask), broadcast: a.broadaddr })),
    };
  });
}

/**
 * The interface tcpdump would pick without -i: libpcap lists up-and-running,
 * non-loopback interfaces first and tcpdump takes the first entry; the
 * pseudo-interface "any" is skipped like tcpdump's default never picks it
 * ahead of a real interface.
 */
export function defaultInterface(list: InterfaceInfo[] = listInterfaces()): string {
  const real = list.filter((i) => i.name !== "any");
  const pick = real.find((i) => i.up && i.running && !i.loopback) ?? real.find((i) => i.up && !i.loopback);
  if (!pick) {
    throw new InputError(
      `no interface to capture on: none is up apart from loopback (name one, e.g. synsent capture lo; synsent interfaces lists them)`,
      "",
    );
  }
  return pick.name;
}

/** null when `filter` compiles for `linkType` (default Ethernet), else the one-line error. */
export function checkFilter(filter: string, linkType = 1): string | null {
  const why = loadBinding().checkFilter(filter, linkType);
  return why === null ? null : badFilterMessage(filter, why);
}

function badFilterMessage(filter: string, why: string): string {
  return `bad filter "${filter}": ${why.replace(/^can't parse filter expression:\s*/, "")}`;
}

// ---------------------------------------------------------------------------
// The source

export interface LiveOptions {
  /** Interface name ("any" works on Linux). */
  interface: string;
  /** BPF filter (tcpdump syntax); null/empty captures everything. */
  filter?: string | null;
  /** Bytes kept per packet (default 262144, as tcpdump). */
  snaplen?: number;
  /** Promiscuous mode (default true, as tcpdump). */
  promisc?: boolean;
  /** Kernel capture buffer in bytes (default: libpcap's, 2 MiB on Linux). */
  bufferSize?: number | null;
  /**
   * Deliver packets as soon as they arrive (default true). On Linux this is a
   * short TPACKET_V3 block timeout rather than libpcap's immediate mode: see
   * deliveryMode().
   */
  immediate?: boolean;
  /** Override the kernel block timeout (ms) that `immediate` chooses. */
  bufferTimeoutMs?: number;
  /** Stop after this many packets (tcpdump -c). */
  count?: number | null;
  /** Stop on abort (Ctrl-C / SIGTERM). */
  signal?: AbortSignal;
  /** Records per batch (default 4096). */
  batchRecords?: number;
  /** Bytes of packet data per batch (default 4 MiB, at least one snaplen). */
  batchBytes?: number;
  /**
   * When no packet arrives for this long, next() returns an empty batch
   * (count 0), so the pipeline's per-batch hook still runs: timers for
   * unanswered SYNs advance and the live view redraws on a quiet link.
   * Default 250 ms; 0 disables.
   */
  idleTickMs?: number;
  /** Called with every non-empty batch before the pipeline sees it (-w). */
  tee?: (batch: RecordBatch) => void;
}

/** The capture filter does not compile; the message is `bad filter "TEXT": reason`. */
export class BadFilterError extends InputError {
  constructor(message: string, iface: string) {
    super(message, iface);
    this.name = "BadFilterError";
  }
}

export class LiveSource implements RecordSource {
  readonly name: string;
  readonly filter: string | null;
  stopped: ReadStop | null = null;
  bytesRead = 0;
  readonly totalBytes = null;
  readonly format = "live" as const;
  /** Packets handed to the pipeline. */
  packets = 0;
  /**
   * Set when the capture ended because the interface went down ("down") or
   * was deleted ("gone"); `stopped.reason` then says so in plain words.
   */
  lost: "down" | "gone" | null = null;

  private readonly cap: NativeCapture;
  private readonly batch: RecordBatch;
  private readonly maxRecords: number;
  private readonly count: number;
  private readonly idleTickMs: number;
  private readonly tee: ((b: RecordBatch) => void) | null;
  private stopRequested = false;
  private finalTick = false;
  private drainBatches = 0;
  private ended = false;
  private closed = false;
  private lastStats: KernelStats | null = null;
  private lastReturn = Date.now();
  private readonly watchLink: boolean;
  private lastLinkCheck = 0;
  private readonly onAbort: (() => void) | null = null;
  private readonly signal: AbortSignal | null;

  private constructor(cap: NativeCapture, opts: LiveOptions) {
    this.cap = cap;
    this.name = opts.interface;
    this.filter = opts.filter ? opts.filter : null;
    this.maxRecords = opts.batchRecords ?? 4096;
    const dataBytes = Math.max(opts.batchBytes ?? 4 << 20, cap.snaplen + 65536);
    this.batch = allocBatch(this.maxRecords, dataBytes);
    // One handle, one link type; Linux capture has no FCS.
    this.batch.linkType.fill(cap.linkType);
    this.batch.fcsLen.fill(0);
    this.count = opts.count && opts.count > 0 ? opts.count : Infinity;
    this.idleTickMs = opts.idleTickMs ?? 250;
    this.tee = opts.tee ?? null;
    this.signal = opts.signal ?? null;
    // Only an interface that exists and is up now can be seen going away
    // ("any" has no flags of its own).
    this.watchLink = this.linkState() === "up";
    if (this.signal) {
      if (this.signal.aborted) this.stopRequested = true;
      this.onAbort = () => this.stop();
      this.signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  /**
   * Open an interface. Every failure a user can hit is an InputError with one
   * line that says what to do (exit 3): no such interface (and which exist),
   * permission denied (root or setcap, with the real node path), interface
   * down, bad filter, binding not built.
   */
  static open(opts: LiveOptions): LiveSource {
    const b = loadBinding();
    const dev = opts.interface;
    const snaplen = opts.snaplen ?? 262144;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 262144) {
      throw new InputError(`snap length must be a whole number of bytes from 1 to 262144, got ${snaplen}`, dev);
    }
    let cap: NativeCapture;
    try {
      cap = new b.Capture({
        device: dev,
        snaplen,
        promisc: opts.promisc ?? true,
        bufferSize: opts.bufferSize ?? 0,
        ...deliveryMode(opts.immediate ?? true, opts.bufferTimeoutMs),
        nanosecond: true,
      });
    } catch (e) {
      throw new InputError(openErrorMessage(dev, e as NativeError), dev);
    }
    if (opts.filter) {
      try {
        cap.setFilter(opts.filter);
      } catch (e) {
        cap.close();
        const err = e as NativeError;
        if (err.code === "BAD_FILTER") throw new BadFilterError(badFilterMessage(opts.filter, err.message), dev);
        throw new InputError(`cannot set filter on ${dev}: ${err.message}`, dev);
      }
    }
    return new LiveSource(cap, opts);
  }

  /** LINKTYPE_ of the interface. */
  get linkType(): number {
    return this.cap.linkType;
  }
  get linkTypeName(): string {
    return this.cap.linkTypeName;
  }
  get snaplen(): number {
    return this.cap.snaplen;
  }
  /** True when the platform gives nanosecond timestamps (else microsecond). */
  get nanosecond(): boolean {
    return this.cap.nanosecond;
  }
  /** pcap_activate warnings (e.g. promiscuous mode not supported). */
  get warnings(): string[] {
    return this.cap.warnings;
  }

  /** Kernel counters now (the last ones seen, after close). */
  stats(): KernelStats | null {
    if (!this.closed && !this.cap.closed) {
      try {
        this.lastStats = this.cap.stats();
      } catch {
        // keep the last good counters
      }
    }
    return this.lastStats;
  }

  /**
   * End the capture: packets already in the kernel ring are still delivered,
   * then next() returns null. Safe from signal handlers and timers.
   */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    if (!this.closed) this.cap.interrupt();
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  /**
   * Wall clock (s) of the latest moment the kernel ring was seen empty: every
   * packet stamped before it has been handed out. Live mode advances the flow
   * tracker's timers to this, never further, so a SYN-ACK still queued in the
   * ring under load cannot turn its SYN into a false "unanswered". Null until
   * the ring is first drained.
   */
  caughtUpTo: number | null = null;

  async next(): Promise<RecordBatch | null> {
    const b = this.batch;
    for (;;) {
      if (this.ended || this.closed) return null;
      if (this.packets >= this.count) return this.end();
      const stopping = this.stopRequested;
      // After a stop, drain what is already queued, but not forever on a busy link.
      if (stopping && this.drainBatches++ >= 64) return this.end();
      const before = Date.now() / 1000;
      let n: number;
      try {
        n = this.cap.dispatch(b.data, b.offset, b.capLen, b.origLen, b.tsSec, b.tsNsec, this.maxRecords);
      } catch (e) {
        // The interface went away or down mid-capture: report what was seen.
        const state = this.linkState();
        if (state === "gone" || state === "down") return this.lose(state);
        this.stopped = { file: this.name, record: this.packets + 1, offset: this.bytesRead, reason: (e as Error).message };
        return this.end();
      }
      if (n < this.maxRecords) this.caughtUpTo = before;
      if (n > 0) {
        if (this.packets + n >= this.count) n = this.count - this.packets;
        b.count = n;
        let bytes = 0;
        const capLen = b.capLen;
        for (let i = 0; i < n; i++) bytes += capLen[i];
        this.bytesRead += bytes;
        this.packets += n;
        this.lastReturn = Date.now();
        if (this.tee) this.tee(b);
        return b;
      }
      if (stopping) {
        // Stopped and the ring is drained: one last empty batch so per-batch
        // hooks see the final time, then the end.
        if (!this.finalTick) {
          this.finalTick = true;
          b.count = 0;
          return b;
        }
        return this.end();
      }
      // libpcap 1.10 keeps a capture on a downed interface open and silent:
      // look at the link on quiet moments (at most every 200 ms).
      if (this.watchLink && Date.now() - this.lastLinkCheck >= 200) {
        this.lastLinkCheck = Date.now();
        const state = this.linkState();
        if (state === "gone" || state === "down") return this.lose(state);
      }
      let waitMs = 1000;
      if (this.idleTickMs > 0) {
        const left = this.lastReturn + this.idleTickMs - Date.now();
        if (left <= 0) {
          this.lastReturn = Date.now();
          b.count = 0;
          return b;
        }
        waitMs = Math.max(1, Math.ceil(left));
      }
      const r = await this.cap.wait(waitMs);
      if (r === "closed") return this.end();
    }
  }

  private linkState(): "up" | "down" | "gone" | "unknown" {
    if (this.closed || typeof this.cap.linkState !== "function") return "unknown";
    try {
      return this.cap.linkState();
    } catch {
      return "unknown";
    }
  }

  private lose(state: "down" | "gone"): null {
    this.lost = state;
    const reason =
      state === "gone"
        ? `interface ${this.name} was deleted`
        : `interface ${this.name} went down (bring it back with: ip link set ${this.name} up)`;
    this.stopped = { file: this.name, record: this.packets + 1, offset: this.bytesRead, reason };
    return this.end();
  }

  private end(): null {
    if (!this.ended) {
      this.ended = true;
      this.stats();
    }
    return null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stats();
    this.closed = true;
    this.ended = true;
    if (this.signal && this.onAbort) this.signal.removeEventListener("abort", this.onAbort);
    this.cap.close();
  }
}

/**
 * How packets get from the kernel to us.
 *
 * libpcap's immediate mode on Linux switches the ring from TPACKET_V3 (packets
 * packed into blocks) to TPACKET_V2, whose frames are each sized for the whole
 * snap length; on interfaces with offloads (veth, most NICs) that is 256 KiB a
 * frame, so a 2 MiB buffer holds 8 packets and a burst is mostly dropped
 * (measured: 14 % captured at 300 k packets/s, against 100 % with V3). So on
 * Linux "immediate" keeps V3 and asks the kernel to hand over a partly filled
 * block after LINUX_IMMEDIATE_TIMEOUT_MS: packets reach the live view within
 * a few ms, and bursts still fill whole blocks. Elsewhere (BPF devices)
 * immediate mode has no such cost and is used as is.
 */
export const LINUX_IMMEDIATE_TIMEOUT_MS = 5;
/** Block timeout without --immediate (tcpdump uses 1000 ms; a live view wants less). */
export const BUFFERED_TIMEOUT_MS = 100;

function deliveryMode(immediate: boolean, overrideMs: number | undefined): { immediate: boolean; timeoutMs: number } {
  if (!immediate) return { immediate: false, timeoutMs: overrideMs ?? BUFFERED_TIMEOUT_MS };
  if (process.platform === "linux") return { immediate: false, timeoutMs: overrideMs ?? LINUX_IMMEDIATE_TIMEOUT_MS };
  return { immediate: true, timeoutMs: overrideMs ?? BUFFERED_TIMEOUT_MS };
}

function openErrorMessage(dev: string, e: NativeError): string {
  const detail = (e.message || "").trim();
  switch (e.code) {
    case "NO_SUCH_DEVICE": {
      let names = "";
      try {
        names = listInterfaces()
          .map((i) => i.name)
          .join(", ");
      } catch {
        // listing needs the same binding; leave it out
      }
      return `no such interface "${dev}"${names ? ` (interfaces here: ${names})` : ""}`;
    }
    case "PERM_DENIED":
    case "PROMISC_PERM_DENIED":
      return `permission denied capturing on ${dev}: run as root, or allow node to capture with: sudo setcap cap_net_raw,cap_net_admin=eip ${realNode()}${e.code === "PROMISC_PERM_DENIED" ? " (or capture with --no-promisc)" : ""}`;
    case "IFACE_NOT_UP":
      return `interface ${dev} is down: bring it up (sudo ip link set ${dev} up) or pick another (synsent interfaces)`;
    case "RFMON_NOTSUP":
      return `interface ${dev} does not support monitor mode`;
    default:
      if (/permission|not permitted/i.test(detail)) {
        return `permission denied capturing on ${dev} (${detail}): run as root, or allow node to capture with: sudo setcap cap_net_raw,cap_net_admin=eip ${realNode()}`;
      }
      return `cannot capture on ${dev}: ${detail || e.code || "unknown error"}`;
  }
}

function realNode(): string {
  try {
    return fs.realpathSync(process.execPath);
  } catch {
    return process.execPath;
  }
}
