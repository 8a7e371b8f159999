/**
 * What `analyze` and `capture` share: the report options, and the code that
 * runs the pipeline over a source and renders/writes the report in the chosen
 * format.
 */
import type { Argv } from "yargs";
import { OUTCOMES, PROBLEM_OUTCOMES, type Connection, type Outcome } from "../flows/connection.js";
import type { Report } from "../report/model.js";
import { analyzeSource, DEFAULT_MAX_EXAMPLES, DEFAULT_MAX_FLOWS, DEFAULT_SYN_TIMEOUT_S, type AnalyzeOptions, type PipelineState, type SourceMeta } from "../analyze.js";
import type { RecordSource } from "../sources/record.js";
import { ConnectionEncoder } from "../flows/codec.js";
import { batchDiagnoser, NativeConnectionText, type BatchDiagnoser } from "../flows/native.js";
// Renderers are loaded when their format is chosen (start-up time: a text
// report of a small capture should not pay for the HTML/SVG code).
import type { JsonReportWriter } from "../report/json.js";
import type { NdjsonReportWriter } from "../report/ndjson.js";
import type { Anonymizer } from "../report/anonymize.js";
import * as fs from "node:fs";
import * as v8 from "node:v8";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { dropEarlyWriterThread, takeWriterThread, WORKER_MIN_BYTES, WORKER_URL } from "./writer-thread.js";
import { BrokenPipe, Output, OutputError } from "./output.js";

/** Stands for a lone "-" on the command line (see cli.ts). */
export const DASH_TOKEN = "\u0000-";

/** Map the token back to "-". */
export function dash<T extends string | undefined>(v: T): T {
  return (v === DASH_TOKEN ? "-" : v) as T;
}

export const FORMATS = ["text", "json", "ndjson", "markdown", "html"] as const;
export type Format = (typeof FORMATS)[number];

/** A mistake in how synsent was called: one line, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface ReportArgs {
  format: Format;
  output?: string;
  "fail-on"?: string;
  "syn-timeout": number;
  "max-flows": number;
  "max-examples": number;
  evidence?: string;
  anonymize?: string;
  color?: boolean;
  /** 1 or 2; undefined = automatic (2 for json/ndjson over more than a few MB). */
  threads?: number;
}

export function reportOptions<T>(y: Argv<T>) {
  return y
    .option("format", {
      alias: "F",
      choices: FORMATS,
      default: "text" as Format,
      describe: "report format",
    })
    .option("output", {
      alias: "o",
      type: "string",
      describe: "write the report to FILE instead of standard output",
      requiresArg: true,
    })
    .option("fail-on", {
      type: "string",
      describe: `exit 1 when any connection has one of these outcomes (comma-separated: ${OUTCOMES.join(", ")}, or "problems")`,
      requiresArg: true,
    })
    .option("syn-timeout", {
      type: "number",
      default: DEFAULT_SYN_TIMEOUT_S,
      describe: "seconds without an answer after the last SYN before it counts as unanswered (else: pending)",
      requiresArg: true,
    })
    .option("max-flows", {
      type: "number",
      default: DEFAULT_MAX_FLOWS,
      describe: "flow table bound; the oldest idle flows are evicted beyond it (the report says how many)",
      requiresArg: true,
    })
    .option("max-examples", {
      type: "number",
      default: 3,
      describe: "example connections shown per kind of problem (text, markdown, html)",
      requiresArg: true,
    })
    .option("evidence", {
      type: "string",
      describe: "also write the packets of the problem connections to this pcap file",
      requiresArg: true,
    })
    .option("anonymize", {
      type: "string",
      describe: "replace IP and MAC addresses (prefix-preserving, keyed: --anonymize=KEY gives the same mapping every run)",
    })
    .option("color", {
      type: "boolean",
      describe: "colour the text report (default: on a terminal, unless NO_COLOR is set)",
    })
    .option("threads", {
      type: "number",
      describe:
        "1 or 2: with 2, a second thread diagnoses (and writes json/ndjson reports) while the first reads and tracks flows; the output is the same (default: 2 for json, ndjson, text and markdown from files over 8 MB and from pipes, else 1; text/markdown with --anonymize stay on 1)",
      requiresArg: true,
    });
}

/** Validate numbers and the outcome list; throws UsageError. */
export function checkReportArgs(a: ReportArgs): Set<Outcome> | null {
  const st = a["syn-timeout"];
  if (!Number.isFinite(st) || st < 0 || st > 86_400) {
    throw new UsageError(`--syn-timeout must be a number of seconds between 0 and 86400, got ${String(st)}`);
  }
  const mf = a["max-flows"];
  if (!Number.isInteger(mf) || mf < 1 || mf > 100_000_000) {
    throw new UsageError(`--max-flows must be a whole number between 1 and 100000000, got ${String(mf)}`);
  }
  const me = a["max-examples"];
  if (!Number.isInteger(me) || me < 0 || me > 1000) {
    throw new UsageError(`--max-examples must be a whole number between 0 and 1000, got ${String(me)}`);
  }
  if (a.threads !== undefined && a.threads !== 1 && a.threads !== 2) {
    throw new UsageError(`--threads must be 1 or 2, got ${String(a.threads)}`);
  }
  if (a.output !== undefined && a.output === "") throw new UsageError("--output needs a file name");
  if (a.evidence !== undefined && a.evidence === "") throw new UsageError("--evidence needs a file name");
  if (a["fail-on"] === undefined) return null;
  const set = new Set<Outcome>();
  for (const raw of a["fail-on"].split(",")) {
    const w = raw.trim();
    if (w === "") continue;
    if (w === "problems") {
      for (const o of PROBLEM_OUTCOMES) set.add(o);
      continue;
    }
    if (!(OUTCOMES as readonly string[]).includes(w)) {
      throw new UsageError(`--fail-on: unknown outcome "${w}" (expected ${OUTCOMES.join(", ")} or "problems")`);
    }
    set.add(w as Outcome);
  }
  if (set.size === 0) throw new UsageError("--fail-on needs at least one outcome");
  return set;
}

export function useColor(a: ReportArgs, out: Output): boolean {
  if (a.color !== undefined) return a.color;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  return out.isStdout && process.stdout.isTTY === true;
}

export interface RunResult {
  report: Report;
  /** Connections whose outcome is in --fail-on. */
  failMatches: number;
  /** Problem connections, for --evidence (bounded). */
  problemConnections: Connection[];
  problemConnectionsDropped: number;
  /** The anonymizer the report used; evidence must use the same mapping. */
  anonymizer: Anonymizer | null;
}

/** Evidence selection keeps at most this many problem connections. */
export const MAX_EVIDENCE_CONNECTIONS = 100_000;

/**
 * Run the pipeline over `source` and write the report in the chosen format.
 * json and ndjson are streamed connection by connection; the other formats are
 * rendered from the final model.
 */
export async function runAndReport(
  source: RecordSource,
  meta: SourceMeta,
  a: ReportArgs,
  extra: {
    signal?: AbortSignal;
    onBatch?: (s: PipelineState) => void;
    onProgress?: AnalyzeOptions["onProgress"];
    kernelStats?: () => { received: number; dropped: number; ifDropped: number } | null;
    /** Extra per-connection hook (live view). */
    onConnection?: (c: Connection) => void;
  } = {},
): Promise<RunResult> {
  const failOn = checkReportArgs(a);
  boundHeapGrowth();
  // json/ndjson: the second thread writes the report (and diagnoses unless
  // anonymized). text/markdown: it only diagnoses, and the report is rendered
  // here from the diagnosis; the diagnoser must see the real addresses, so
  // not with --anonymize. Live capture (onBatch/kernelStats) stays on one
  // thread: verdicts are few and due now.
  const secondThreadHelps =
    a.format === "json" || a.format === "ndjson" || ((a.format === "text" || a.format === "markdown") && a.anonymize === undefined);
  if (secondThreadHelps && !extra.onBatch && !extra.kernelStats) {
    const total = source.totalBytes;
    // Automatic: 2 for files over a few MB, and for input of unknown length
    // (a pipe: `zcat big.pcap.gz | synsent analyze -`, `<(...)`), which is
    // how big captures often arrive. Measured on the 200k bench file through
    // a pipe: 1.08 s with two threads, 1.39 s with one; a 2 M-SYN flood 4.7-5.4
    // s against 5.9 s (~10 % more memory); a 12-packet capture +10-20 ms.
    // ndjson still goes out with every batch of packets (a live stream is
    // read as it is written).
    const threads = a.threads ?? (total === null || total >= WORKER_MIN_BYTES ? 2 : 1);
    if (threads === 2 && fs.existsSync(WORKER_URL)) return runWithWriterThread(source, meta, a, failOn, extra);
  }
  dropEarlyWriterThread();
  const anonymizer = await makeAnonymizer(a);
  const html = a.format === "html" ? await import("../report/html.js") : null;
  // The HTML timeline shows every connection attempt, binned; connections are
  // not kept, so collect the few numbers it needs as they stream past.
  const timeline = html ? new html.TimelineCollector() : null;
  const json = a.format === "json" || a.format === "ndjson" ? await import("../report/json.js") : null;
  const ndjson = a.format === "ndjson" ? await import("../report/ndjson.js") : null;
  const textual = await loadTextual(a.format);
  const out = Output.open(dash(a.output), "report");
  const tally = new VerdictTally(failOn, a.evidence !== undefined);
  const live = extra.onBatch !== undefined;
  try {
    let streamWriter: JsonReportWriter | NdjsonReportWriter | null = null;
    const write = (s: string) => out.write(s);
    if (a.format === "json") streamWriter = new json!.JsonReportWriter(write, { batch: true, writeBytes: (b) => out.writeBytes(b) });
    else if (a.format === "ndjson") {
      // Live capture: one line per verdict as it happens, flushed so `| jq`
      // sees it now (verdicts also come from timers, between batches).
      // Files and stdin flush after each batch of packets instead (below):
      // as prompt for a reader, without a write() per line.
      streamWriter = new ndjson!.NdjsonReportWriter(write, {
        writeBytes: (b) => {
          out.writeBytes(b);
          if (live) out.flush();
        },
      });
    }
    const onConnection = (c: Connection) => {
      tally.add(c);
      if (streamWriter) streamWriter.connection(anonymizer ? anonymizer.anonymizeConnection(c) : c);
      if (timeline) timeline.add(c);
      if (extra.onConnection) extra.onConnection(c);
    };
    const maxExamples = Math.max(a["max-examples"], DEFAULT_MAX_EXAMPLES);
    // json/ndjson of a file as the writer thread makes them (connection batches
    // -> diagnoser + the compiled connection text), here on one thread; other
    // cases (anonymized, evidence, live) need the Connection objects.
    const direct =
      streamWriter !== null && anonymizer === null && a.evidence === undefined && !live && extra.onConnection === undefined ? directWriter(streamWriter, a.format === "ndjson", maxExamples, tally) : null;
    let report = await analyzeSource(
      source,
      meta,
      {
        synTimeoutS: a["syn-timeout"],
        maxFlows: a["max-flows"],
        maxExamples,
        collectConnections: false,
        ...(direct ? { diagnose: false, encoder: direct.encoder, onEncoded: direct.onEncoded } : { onConnection }),
        afterBatch:
          a.format === "ndjson" && !live
            ? () => {
                direct?.send();
                out.flush();
                return null;
              }
            : undefined,
        signal: extra.signal,
        onBatch: extra.onBatch,
        onProgress: extra.onProgress,
      },
      { kernelStats: extra.kernelStats },
    );
    if (direct) report = { ...report, ...direct.finish() };
    if (anonymizer) report = anonymizer.anonymizeReport(report);
    switch (a.format) {
      case "json":
      case "ndjson":
        streamWriter!.end(report);
        break;
      case "text":
      case "markdown":
        out.write(renderTextual(textual, a, report, out));
        break;
      case "html":
        out.write(
          html!.renderHtml(report, { maxExamples: a["max-examples"], timeline: timeline ?? undefined, anonymized: anonymizer ? anonymizer.describe() : null }),
        );
        break;
    }
    out.close();
    return tally.result(report, anonymizer);
  } catch (e) {
    out.abort();
    throw e;
  }
}

/**
 * One thread, json/ndjson: finished connections go from the flow table into
 * batches (no Connection objects), and each batch is diagnosed and written as
 * text by the compiled side, as on the writer thread (json-worker.ts). Null
 * when the compiled side is not built: then Connection objects as before.
 */
function directWriter(
  w: JsonReportWriter | NdjsonReportWriter,
  ndjson: boolean,
  maxExamples: number,
  tally: VerdictTally,
): { encoder: ConnectionEncoder; onEncoded: (o: Outcome) => void; send: () => void; finish: () => ReturnType<BatchDiagnoser["finish"]> } | null {
  const text = NativeConnectionText.create();
  if (text === null) return null;
  const encoder = new ConnectionEncoder(BATCH_NUMBERS + 4096);
  const diagnoser = batchDiagnoser({ maxExamplesPerKind: maxExamples });
  const send = () => {
    if (encoder.connections === 0) return;
    const b = encoder.take();
    diagnoser.add(b);
    text.writeTo(b, ndjson, w);
    encoder.recycle(b.nums);
  };
  return {
    encoder,
    onEncoded: (o) => {
      tally.addOutcome(o);
      if (encoder.size >= BATCH_NUMBERS) send();
    },
    send,
    finish: () => {
      send();
      return diagnoser.finish();
    },
  };
}

/** The renderer of a text or markdown report (loaded when that format is chosen). */
interface Textual {
  text: typeof import("../report/text.js") | null;
  markdown: typeof import("../report/markdown.js") | null;
}

async function loadTextual(format: Format): Promise<Textual> {
  return {
    text: format === "text" ? await import("../report/text.js") : null,
    markdown: format === "markdown" ? await import("../report/markdown.js") : null,
  };
}

/** The whole text or markdown report, rendered from the final model. */
function renderTextual(t: Textual, a: ReportArgs, report: Report, out: Output): string {
  if (t.text) return t.text.renderText(report, { color: useColor(a, out), maxExamples: a["max-examples"], width: textWidth(out) });
  return t.markdown!.renderMarkdown(report, { maxExamples: a["max-examples"] });
}

/** --anonymize: the anonymizer every output of this run shares (and a note when its key is random). */
async function makeAnonymizer(a: ReportArgs): Promise<Anonymizer | null> {
  if (a.anonymize === undefined) return null;
  const { Anonymizer } = await import("../report/anonymize.js");
  const anonymizer = new Anonymizer(a.anonymize === "" ? null : a.anonymize);
  if (anonymizer.keyWasGenerated) process.stderr.write(`synsent: ${anonymizer.describe()}\n`);
  return anonymizer;
}

/** What the CLI itself needs from every verdict: --fail-on matches and --evidence's problem connections. */
class VerdictTally {
  private failMatches = 0;
  private readonly problemConnections: Connection[] = [];
  private problemConnectionsDropped = 0;
  private readonly problem = new Set<Outcome>(PROBLEM_OUTCOMES);

  constructor(
    private readonly failOn: Set<Outcome> | null,
    private readonly wantEvidence: boolean,
  ) {}

  /** For connections that are never built as objects (no --evidence then). */
  addOutcome(o: Outcome): void {
    if (this.failOn && this.failOn.has(o)) this.failMatches++;
  }

  add(c: Connection): void {
    if (this.failOn && this.failOn.has(c.outcome)) this.failMatches++;
    if (this.wantEvidence && this.problem.has(c.outcome)) {
      if (this.problemConnections.length < MAX_EVIDENCE_CONNECTIONS) this.problemConnections.push(c);
      else this.problemConnectionsDropped++;
    }
  }

  result(report: Report, anonymizer: Anonymizer | null): RunResult {
    return {
      report,
      failMatches: this.failMatches,
      problemConnections: this.problemConnections,
      problemConnectionsDropped: this.problemConnectionsDropped,
      anonymizer,
    };
  }
}

function textWidth(out: Output): number {
  if (out.isStdout && process.stdout.isTTY && process.stdout.columns) return Math.max(60, Math.min(160, process.stdout.columns));
  return 100;
}

/**
 * V8 lets the old generation grow to ~4x what survived the last full GC
 * before it collects again; with a flow table of a million SYN-flood flows
 * that slack, not live data, is what pushed peak RSS past 300 MB. 1.3x keeps
 * the heap near its live size (measured: flood of 3 M SYNs, 310 -> 265 MB;
 * no measurable cost on the 200k bench file). It is read at every GC, so
 * setting it here, before the run, takes effect; it is process-wide (both
 * threads). The command line only: the library leaves the host's heap alone.
 */
function boundHeapGrowth(): void {
  try {
    v8.setFlagsFromString("--heap-growing-percent=30");
  } catch {
    // not fatal: only memory headroom
  }
}

/** Connections are sent in batches of about this many numbers (~2 MB; fewer messages). */
const BATCH_NUMBERS = 1 << 18;
/**
 * The first batch is small (~100 connections): the writer thread starts
 * (and its code warms up) while this thread is still warming up too, and
 * the sending path runs before the code that calls it is optimised (a first
 * send after ~6 000 connections deoptimised this thread's emitting code).
 */
const FIRST_BATCH_NUMBERS = 1 << 12;
/** Batches sent but not yet written; beyond it the reading side waits (memory stays bounded). */
const MAX_IN_FLIGHT = 4;
/**
 * Beyond this many batches in flight, the reading side waits right where it
 * is, in the middle of a batch of packets (Atomics.wait on a counter the
 * writer thread bumps): one packet can make a million connections due at
 * once (a capture that goes quiet after a flood), and they must not all be
 * in flight. The wait gives up on a writer that makes no progress for
 * STALL_MS (the run then ends with the writer's own error, not a hang).
 */
const MAX_IN_FLIGHT_SYNC = 8;
const STALL_MS = 10_000;

/**
 * runAndReport with a second thread (see json-worker.ts): it writes json/ndjson
 * reports and diagnoses (unless anonymized); text/markdown are rendered here
 * from its diagnosis. --fail-on, --evidence and --anonymize happen here,
 * exactly as on one thread.
 */
async function runWithWriterThread(
  source: RecordSource,
  meta: SourceMeta,
  a: ReportArgs,
  failOn: Set<Outcome> | null,
  extra: { signal?: AbortSignal; onProgress?: AnalyzeOptions["onProgress"]; onConnection?: (c: Connection) => void },
): Promise<RunResult> {
  const maxExamples = Math.max(a["max-examples"], DEFAULT_MAX_EXAMPLES);
  // The diagnoser moves to the writer thread (it has time to spare) unless the
  // report is anonymized: it must see the real addresses, and the writer gets
  // anonymized connections.
  const diagnoseThere = a.anonymize === undefined;
  // text/markdown: the worker only diagnoses; the report is rendered and written here.
  const rendered = a.format === "text" || a.format === "markdown";
  if (rendered && !diagnoseThere) throw new Error("runWithWriterThread: text/markdown need the diagnoser on the worker");
  const out = rendered ? Output.open(dash(a.output), "report") : null;
  const textual = await loadTextual(a.format);
  let diagnosis: Pick<Report, "destinations" | "findings" | "examples"> | null = null;
  const anonymizer = await makeAnonymizer(a);
  const enc = new ConnectionEncoder(BATCH_NUMBERS + 4096);
  // [batches written] (the writer thread adds 1 per batch and notifies);
  // batches in flight are those sent and not yet written.
  const written = new Int32Array(new SharedArrayBuffer(4));
  let sent = 0;
  const inFlight = () => sent - Atomics.load(written, 0);
  let stalled = false;
  // The writer hands each batch's array back on its own port, read here
  // synchronously (receiveMessageOnPort), so arrays are reused even while
  // this thread waits in the middle of a batch of packets.
  const recycled = new MessageChannel();
  recycled.port1.unref();
  const takeBack = () => {
    for (let m = receiveMessageOnPort(recycled.port1); m !== undefined; m = receiveMessageOnPort(recycled.port1)) {
      enc.recycle(m.message as Float64Array);
    }
  };
  // Started early (while the command line loaded) if the arguments called for
  // it, else now; either way it waits for this first message.
  const worker = takeWriterThread();
  worker.postMessage(
    {
      t: "init",
      written,
      recycle: recycled.port2,
      format: rendered ? "none" : a.format,
      output: rendered ? undefined : dash(a.output),
      diagnose: diagnoseThere ? { maxExamplesPerKind: maxExamples } : null,
    },
    [recycled.port2],
  );
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  let done: (() => void) | null = null;
  const failWith = (kind: string, message: string) => {
    failure = kind === "pipe" ? new BrokenPipe() : kind === "output" ? new OutputError(message) : new Error(`report writer: ${message}`);
    if (wake) wake();
  };
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (m: { t: string; kind?: string; message?: string }) => {
      if (m.t === "ready") resolve();
      else if (m.t === "ack") {
        if (wake && inFlight() <= MAX_IN_FLIGHT / 2) wake();
      } else if (m.t === "done") done?.();
      else if (m.t === "diagnosis") {
        const d = m as unknown as Pick<Report, "destinations" | "findings" | "examples">;
        diagnosis = { destinations: d.destinations, findings: d.findings, examples: d.examples };
      }
      else if (m.t === "error") {
        failWith(m.kind ?? "internal", m.message ?? "failed");
        reject(failure);
        done?.();
      }
    });
    worker.on("error", (e) => {
      failWith("internal", e.message);
      reject(failure);
      done?.();
    });
    worker.on("exit", () => {
      if (!failure && done === null) failWith("internal", "the writer thread stopped");
      reject(failure);
      done?.();
    });
  });
  // No waiting for the worker to start: messages queue until it listens, and
  // its start-up (loading its modules) overlaps the first batches here.
  ready.catch(() => undefined);

  let sendAt = FIRST_BATCH_NUMBERS;
  const send = () => {
    if (enc.connections === 0) return;
    takeBack();
    const b = enc.take();
    sent++;
    sendAt = BATCH_NUMBERS;
    worker.postMessage({ t: "batch", b }, [b.nums.buffer as ArrayBuffer]);
    // Too far behind within one batch of packets: wait here for the writer.
    let last = Atomics.load(written, 0);
    let quiet = 0;
    while (!stalled && sent - last > MAX_IN_FLIGHT_SYNC) {
      if (Atomics.wait(written, 0, last, 100) === "timed-out") {
        quiet += 100;
        if (quiet >= STALL_MS) stalled = true;
      } else quiet = 0;
      last = Atomics.load(written, 0);
    }
  };
  const tally = new VerdictTally(failOn, a.evidence !== undefined);
  const direct = anonymizer === null && a.evidence === undefined && extra.onConnection === undefined;
  try {
    let report = await analyzeSource(
      source,
      meta,
      {
        synTimeoutS: a["syn-timeout"],
        maxFlows: a["max-flows"],
        maxExamples,
        collectConnections: false,
        diagnose: !diagnoseThere,
        // Straight from the flow table into the batch (no Connection objects)
        // unless something here needs the objects.
        ...(direct
          ? {
              encoder: enc,
              onEncoded: (o: Outcome) => {
                tally.addOutcome(o);
                if (enc.size >= sendAt) send();
              },
            }
          : {
              onConnection: (c: Connection, synAckTtl: number) => {
                tally.add(c);
                enc.add(anonymizer ? anonymizer.anonymizeConnection(c) : c, synAckTtl);
                if (enc.size >= sendAt) send();
                if (extra.onConnection) extra.onConnection(c);
              },
            }),
        afterBatch: () => {
          if (failure) throw failure;
          // ndjson is read as it is written (`| jq`, tail -f): what a batch of
          // packets finished goes out with it, as on one thread.
          if (a.format === "ndjson" && enc.connections > 0) send();
          if (inFlight() < MAX_IN_FLIGHT) return null;
          return new Promise<void>((resolve) => {
            wake = () => {
              wake = null;
              resolve();
            };
          });
        },
        signal: extra.signal,
        onProgress: extra.onProgress,
      },
    );
    if (failure) throw failure;
    await ready;
    send();
    // Diagnosed there: the thread finishes the diagnosis, writes the report's
    // end with it and sends it back (one message each way, not two).
    // Anonymized: the report is diagnosed here, then anonymized, then sent.
    if (anonymizer) report = anonymizer.anonymizeReport(report);
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    worker.postMessage({ t: "end", report: { ...report, connections: [] } });
    await finished;
    if (failure) throw failure;
    if (diagnoseThere) report = { ...report, ...diagnosis! };
    if (out !== null) {
      out.write(renderTextual(textual, a, report, out));
      out.close();
    }
    return tally.result(report, anonymizer);
  } catch (e) {
    worker.postMessage({ t: "abort" });
    out?.abort();
    throw e;
  } finally {
    recycled.port1.close();
    await worker.terminate().catch(() => undefined);
  }
}
