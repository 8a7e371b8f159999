/**
 * The pipeline: sources -> decode -> flows -> diagnose -> report model.
 * One loop serves files, merged files, stdin and live capture, because every
 * source yields the same RecordBatch shape.
 */
import { openCapture } from "./sources/open.js";
import type { RecordBatch, RecordSource, ReadStop } from "./sources/record.js";
import { PacketView, Kind, KIND_LABEL } from "./decode/packet.js";
import { decodePacket, LT_EN10MB } from "./decode/decode.js";
import { linkTypeName } from "./decode/linktypes.js";
import { FlowTracker, type FlowTrackerOptions } from "./flows/tracker.js";
import {
  A_BYTES,
  A_ETHERNET,
  A_FIRST_NSEC,
  A_FIRST_SEC,
  A_LAST_NSEC,
  A_LAST_SEC,
  A_PACKETS,
  A_TCP,
  A_TRUNCATED,
  NativeFlowTracker,
  nativeTrackerAvailable,
} from "./flows/native.js";
import type { Connection, Outcome } from "./flows/connection.js";
import type { ConnectionEncoder } from "./flows/codec.js";
import { Diagnoser } from "./diagnose/diagnose.js";
import type { Report, SourceSummary } from "./report/model.js";
import { VERSION } from "./version.js";

export interface AnalyzeOptions {
  /** Seconds after the last SYN before an unanswered SYN is a verdict and not `pending`. */
  synTimeoutS?: number;
  /** Flow table bound; the oldest idle flows are evicted beyond it. */
  maxFlows?: number;
  /** Example connections kept per kind of finding. */
  maxExamples?: number;
  /**
   * Which connections carry a packet ladder: "problems" (default) = problem
   * outcomes, pending, and any connection with retransmissions or duplicates;
   * "all" = every connection (a few hundred bytes each in JSON).
   */
  ladderFor?: "all" | "problems";
  /** See FlowTrackerOptions.compactAbove (tests set 0 to run every SYN-only flow through the compact tier). */
  compactAbove?: number;
  /**
   * Which flow tracker: "auto" (default) = the compiled one (native/flows)
   * when it is built, else the JavaScript one; "js" = always the JavaScript
   * one (the reference). Live capture (onBatch) always uses the JavaScript
   * tracker. Both give the same connections in the same order.
   */
  tracker?: "auto" | "js";
  /** Keep every connection in `report.connections` (library default: true). */
  collectConnections?: boolean;
  /** Called for every connection as soon as its verdict is final. */
  onConnection?: (c: Connection, synAckTtl: number) => void;
  /**
   * false: do not diagnose here (the caller diagnoses the connections it gets
   * from onConnection elsewhere, e.g. on the writer thread, and fills in
   * destinations, findings and examples itself). Default true.
   */
  diagnose?: boolean;
  /**
   * Write finished connections straight into this encoder (flows/codec.ts)
   * instead of building Connection objects: onConnection is not called,
   * onEncoded gets each outcome, and report.connections stays empty.
   */
  encoder?: ConnectionEncoder;
  onEncoded?: (outcome: Outcome) => void;
  /** Called every few batches with progress counters. */
  onProgress?: (p: Progress) => void;
  /** Abort: stop reading, and report what was seen so far. */
  signal?: AbortSignal;
  /**
   * Called after every batch of records; when it returns a promise, reading
   * waits for it (a slower consumer of connections holds the reader back, so
   * memory stays bounded). May throw to stop the run.
   */
  afterBatch?: () => Promise<void> | null;
  /** Called after every batch (live capture uses it to advance timers and redraw). */
  onBatch?: (state: PipelineState) => void;
}

export interface Progress {
  bytesRead: number;
  totalBytes: number | null;
  packets: number;
  connections: number;
}

/** Live state exposed to the live view. */
export interface PipelineState {
  readonly tracker: FlowTracker;
  readonly diagnoser: Diagnoser;
  readonly packets: number;
  readonly connections: number;
  readonly lastTs: number | null;
}

export interface SourceMeta {
  files: string[];
  interface?: string | null;
  filter?: string | null;
}

export const DEFAULT_SYN_TIMEOUT_S = 3;
export const DEFAULT_MAX_FLOWS = 1_000_000;
export const DEFAULT_MAX_EXAMPLES = 5;
/** Connections emitted per step at the end of a capture (between afterBatch calls). */
const FINISH_STEP = 8192;

/** Analyze capture files ("-" = stdin). Several files are merged in timestamp order. */
export async function analyze(paths: string | string[], opts: AnalyzeOptions = {}): Promise<Report> {
  const files = typeof paths === "string" ? [paths] : paths;
  const source = await openCapture(files);
  try {
    return await analyzeSource(source, { files }, opts);
  } finally {
    await source.close();
  }
}

/**
 * Run decode, flow tracking and diagnosis over any record source.
 * The caller owns the source (and closes it).
 */
export async function analyzeSource(
  source: RecordSource,
  meta: SourceMeta,
  opts: AnalyzeOptions = {},
  extra: { kernelStats?: () => { received: number; dropped: number; ifDropped: number } | null } = {},
): Promise<Report> {
  const synTimeoutS = opts.synTimeoutS ?? DEFAULT_SYN_TIMEOUT_S;
  const maxFlows = opts.maxFlows ?? DEFAULT_MAX_FLOWS;
  const collect = opts.collectConnections ?? true;
  const connections: Connection[] = [];
  const diagnoser = new Diagnoser({ maxExamplesPerKind: opts.maxExamples ?? DEFAULT_MAX_EXAMPLES });
  let connectionCount = 0;
  const onConnection = opts.onConnection;
  const diagnose = opts.diagnose ?? true;
  if (opts.encoder && diagnose) throw new Error("analyzeSource: an encoder needs diagnose: false (the diagnoser reads Connection objects)");
  const trackerOpts: FlowTrackerOptions = {
    synTimeoutS,
    maxFlows,
    ladderFor: opts.ladderFor ?? "problems",
    compactAbove: opts.compactAbove,
    encoder: opts.encoder,
    onEncoded: opts.encoder
      ? (o) => {
          connectionCount++;
          if (opts.onEncoded) opts.onEncoded(o);
        }
      : undefined,
    onConnection: (c, synAckTtl) => {
      connectionCount++;
      if (diagnose) diagnoser.add(c, synAckTtl);
      if (collect) connections.push(c);
      if (onConnection) onConnection(c, synAckTtl);
    },
  };
  // The live view (onBatch) reads the JavaScript tracker's waiting SYNs.
  const compiled = (opts.tracker ?? "auto") === "auto" && opts.onBatch === undefined && nativeTrackerAvailable();
  const jsTracker = compiled ? null : new FlowTracker(trackerOpts);
  const tracker = jsTracker ?? new NativeFlowTracker(trackerOpts);
  const scanner = jsTracker === null ? (tracker as NativeFlowTracker) : null;

  const view = new PacketView();
  // Counters indexed by Kind value and by link type; link types are few, so a
  // small array cache avoids a Map lookup per packet for the common ones.
  const kindCounts = new Float64Array(32);
  const linkCounts = new Map<number, number>();
  let lastLink = -1;
  let lastLinkCount = 0;
  let packets = 0;
  let bytes = 0;
  let truncated = 0;
  let firstSec = Infinity;
  let firstNsec = 0;
  let lastSec = -Infinity;
  let lastNsec = 0;
  let batches = 0;

  const state: PipelineState = {
    // onBatch is the only reader of state, and it always gets the JavaScript tracker (above)
    tracker: jsTracker!,
    diagnoser,
    get packets() {
      return packets;
    },
    get connections() {
      return connectionCount;
    },
    get lastTs() {
      return lastSec === -Infinity ? null : lastSec + lastNsec / 1e9;
    },
  };

  const signal = opts.signal;
  for (;;) {
    if (signal?.aborted) break;
    // A read can wait forever (stdin kept open, a quiet interface): an abort
    // must not wait for it.
    const b = signal ? await nextOrAbort(source, signal) : await source.next();
    if (b === null) break;
    const n = b.count;
    const data = b.data;
    const offset = b.offset;
    const capLen = b.capLen;
    const origLen = b.origLen;
    const linkType = b.linkType;
    const fcsLen = b.fcsLen;
    const tsSec = b.tsSec;
    const tsNsec = b.tsNsec;
    for (let i = 0; i < n; i++) {
      if (scanner !== null) {
        // The compiled side takes every record of the common shape (Ethernet, IP, TCP), keeping these counters too.
        const A = scanner.acc;
        A[A_PACKETS] = packets;
        A[A_BYTES] = bytes;
        A[A_TCP] = kindCounts[Kind.TCP]!;
        A[A_TRUNCATED] = truncated;
        A[A_FIRST_SEC] = firstSec;
        A[A_FIRST_NSEC] = firstNsec;
        A[A_LAST_SEC] = lastSec;
        A[A_LAST_NSEC] = lastNsec;
        const j = scanner.scan(b, i);
        packets = A[A_PACKETS]!;
        bytes = A[A_BYTES]!;
        kindCounts[Kind.TCP] = A[A_TCP]!;
        truncated = A[A_TRUNCATED]!;
        firstSec = A[A_FIRST_SEC]!;
        firstNsec = A[A_FIRST_NSEC]!;
        lastSec = A[A_LAST_SEC]!;
        lastNsec = A[A_LAST_NSEC]!;
        if (j > i) {
          if (lastLink !== LT_EN10MB) {
            if (lastLink !== -1) linkCounts.set(lastLink, (linkCounts.get(lastLink) ?? 0) + lastLinkCount);
            lastLink = LT_EN10MB;
            lastLinkCount = 0;
          }
          lastLinkCount += A[A_ETHERNET]!;
        }
        if (j >= n) break;
        i = j; // this one in JavaScript (below)
      }
      packets++;
      const lt = linkType[i];
      if (lt !== lastLink) {
        if (lastLink !== -1) linkCounts.set(lastLink, (linkCounts.get(lastLink) ?? 0) + lastLinkCount);
        lastLink = lt;
        lastLinkCount = 0;
      }
      lastLinkCount++;
      bytes += capLen[i];
      const sec = tsSec[i];
      const nsec = tsNsec[i];
      if (sec < firstSec || (sec === firstSec && nsec < firstNsec)) {
        firstSec = sec;
        firstNsec = nsec;
      }
      if (sec > lastSec || (sec === lastSec && nsec > lastNsec)) {
        lastSec = sec;
        lastNsec = nsec;
      }
      const kind = decodePacket(view, data, offset[i], capLen[i], origLen[i], lt, fcsLen[i]);
      kindCounts[kind]++;
      if (kind === Kind.TCP) {
        if (view.truncated) truncated++;
        tracker.packet(view, packets, sec, nsec);
      } else if (kind === Kind.ICMP_UNREACH) {
        tracker.packet(view, packets, sec, nsec);
      }
    }
    // (the compiled tracker works through the batch here; the JavaScript one already has)
    if (scanner !== null) {
      scanner.flush();
      scanner.endBatch();
    }
    batches++;
    if (opts.afterBatch) {
      const wait = opts.afterBatch();
      if (wait !== null) await wait;
    }
    if (opts.onBatch) opts.onBatch(state);
    if (opts.onProgress && (batches & 15) === 0) {
      opts.onProgress({ bytesRead: source.bytesRead, totalBytes: source.totalBytes, packets, connections: connectionCount });
    }
  }
  if (lastLink !== -1) linkCounts.set(lastLink, (linkCounts.get(lastLink) ?? 0) + lastLinkCount);
  // The tracker sees only TCP/ICMP; the capture's real end (a trailing ARP or
  // ping shows it kept running) decides unanswered vs pending.
  const endTs = lastSec === -Infinity ? undefined : lastSec + lastNsec / 1e9;
  // The connections still in the table, in steps, each followed by
  // afterBatch (a writer thread's backpressure) as between packet batches.
  while (!tracker.finishSome(FINISH_STEP, endTs)) {
    if (opts.afterBatch) {
      const wait = opts.afterBatch();
      if (wait !== null) await wait;
    }
  }
  if (opts.onProgress) {
    opts.onProgress({ bytesRead: source.bytesRead, totalBytes: source.totalBytes, packets, connections: connectionCount });
  }

  const { destinations, findings, examples } = diagnoser.finish();
  const stops = collectStops(source);
  const skipped: SourceSummary["skipped"] = [];
  for (let k = 0; k < kindCounts.length; k++) {
    if (kindCounts[k] === 0 || k === Kind.TCP || k === Kind.ICMP_UNREACH) continue;
    skipped.push({ reason: KIND_LABEL[k] ?? `kind ${k}`, packets: kindCounts[k] });
  }
  skipped.sort((a, b) => b.packets - a.packets);
  const firstTs = firstSec === Infinity ? null : firstSec + firstNsec / 1e9;
  const lastTs = lastSec === -Infinity ? null : lastSec + lastNsec / 1e9;
  const stats = tracker.stats;
  const report: Report = {
    tool: { name: "synsent", version: VERSION },
    options: { synTimeoutS, maxFlows },
    source: {
      files: meta.files,
      interface: meta.interface ?? null,
      filter: meta.filter ?? null,
      packets,
      tcpPackets: kindCounts[Kind.TCP],
      icmpUnreachable: kindCounts[Kind.ICMP_UNREACH],
      bytes,
      firstTs,
      lastTs,
      durationS: firstTs === null || lastTs === null ? 0 : (lastSec - firstSec) + (lastNsec - firstNsec) / 1e9,
      linkTypes: [...linkCounts.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([linkType, n]) => ({ linkType, name: linkTypeName(linkType), packets: n })),
      skipped,
      truncated,
      duplicates: stats.duplicates,
      stopped: stops,
      kernel: extra.kernelStats ? extra.kernelStats() : null,
    },
    connections,
    destinations,
    findings,
    examples,
    flowTable: { maxFlows: stats.maxFlows, peak: stats.peak, evicted: stats.evicted },
  };
  return report;
}

function nextOrAbort(source: RecordSource, signal: AbortSignal): Promise<RecordBatch | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener("abort", onAbort, { once: true });
    source.next().then(
      (b) => {
        signal.removeEventListener("abort", onAbort);
        resolve(b);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

function collectStops(source: RecordSource): ReadStop[] {
  const s = source as RecordSource & { stops?: ReadStop[] };
  if (Array.isArray(s.stops)) return s.stops.slice();
  return source.stopped ? [source.stopped] : [];
}
