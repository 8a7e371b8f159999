/**
 * The second thread (`--threads 2`): for json/ndjson it owns the report
 * output; for text/markdown it only diagnoses. The main thread reads, decodes
 * and tracks flows; it sends each batch of finished connections here encoded
 * as numbers (ConnectionEncoder), and this thread turns them back into
 * Connection objects and writes them with the same writers as the
 * single-threaded path, so the output is identical.
 *
 * Unless the report is anonymized, the diagnoser runs here (it sees the same
 * connections in the same order, so its result is the same); anonymized, the
 * main thread diagnoses the real addresses.
 *
 * Messages in:  {t:"init", ...Init} (first, and once: the thread may be
 *               started before the command line is parsed, writer-thread.ts)
 *               {t:"batch", b}  {t:"end", report}  {t:"abort"}
 * Messages out: {t:"ready"}  {t:"ack"}  {t:"diagnosis", destinations, findings, examples}
 *               {t:"done"}  {t:"error", kind, message}
 * At "end", a thread that diagnoses finishes the diagnosis, sends it, and
 * writes the report's end with it (the report it gets has none); then "done".
 * Besides: each batch's array goes back on init.recycle, and init.written[0]
 * counts the batches written (Atomics: the main thread may be waiting on it;
 * it is bumped before the batch's ack is posted).
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { ConnectionDecoder, JsonReportWriter, type ConnectionBatch } from "../report/json.js";
import { NdjsonReportWriter } from "../report/ndjson.js";
import type { Report } from "../report/model.js";
import { BrokenPipe, Output, OutputError } from "./output.js";
import { batchDiagnoser, NativeConnectionText } from "../flows/native.js";

type In = { t: "batch"; b: ConnectionBatch } | { t: "end"; report: Report } | { t: "abort" };

const port = parentPort!;

interface Init {
  t: "init";
  /** Where each batch's array goes back to be filled again. */
  recycle: MessagePort;
  /** [batches written so far]: the main thread waits on it (Atomics) when it is far ahead. */
  written: Int32Array;
  /** "none": diagnose only (text and markdown reports are rendered by the main thread from the diagnosis). */
  format: "json" | "ndjson" | "none";
  output: string | undefined;
  /** Diagnoser options, or null when the main thread diagnoses. */
  diagnose: { maxExamplesPerKind: number } | null;
}

port.once("message", (m: Init) => start(m));

function start({ format, output, diagnose, written, recycle }: Init): void {
  function fail(e: unknown): void {
    // Nothing more gets written: release a main thread waiting for progress.
    Atomics.store(written, 0, 0x3fffffff);
    Atomics.notify(written, 0);
    const kind = e instanceof BrokenPipe || (e as NodeJS.ErrnoException)?.code === "EPIPE" ? "pipe" : e instanceof OutputError ? "output" : "internal";
    port.postMessage({ t: "error", kind, message: e instanceof Error ? e.message : String(e) });
  }

  let out: Output | null = null;
  let opened = true;
  if (format !== "none") {
    try {
      out = Output.open(output, "report");
    } catch (e) {
      fail(e);
      opened = false;
    }
  }

  if (opened) {
    const o = out;
    const writer =
      o === null
        ? null
        : format === "json"
          ? new JsonReportWriter((s) => o.write(s), { batch: true, writeBytes: (b) => o.writeBytes(b) })
          : new NdjsonReportWriter((line) => o.write(line), { writeBytes: (b) => o.writeBytes(b) });
    const decoder = new ConnectionDecoder();
    // The connection text and the diagnosis straight from the batch by the
    // compiled side when it is built (same bytes, same diagnosis).
    const text = writer !== null ? NativeConnectionText.create() : null;
    const diagnoser = diagnose ? batchDiagnoser(diagnose) : null;
    let failed = false;
    port.on("message", (m: In) => {
      if (failed) return;
      try {
        if (m.t === "batch") {
          if (diagnoser) diagnoser.add(m.b);
          if (text !== null && writer !== null) text.writeTo(m.b, format === "ndjson", writer);
          else if (writer !== null) decoder.decode(m.b, (c) => writer.connection(c));
          // ndjson: lines go out batch by batch (the main thread sends one per batch of packets).
          if (format === "ndjson") o!.flush();
          // The array goes back to be filled again (no new 0.5-2 MB array per batch).
          recycle.postMessage(m.b.nums, [m.b.nums.buffer as ArrayBuffer]);
          Atomics.add(written, 0, 1);
          Atomics.notify(written, 0);
          port.postMessage({ t: "ack" });
        } else if (m.t === "end") {
          let report = m.report;
          if (diagnoser) {
            const d = diagnoser.finish();
            port.postMessage({ t: "diagnosis", destinations: d.destinations, findings: d.findings, examples: d.examples });
            report = { ...report, ...d };
          }
          if (writer !== null) {
            writer.end(report);
            o!.close();
          }
          port.postMessage({ t: "done" });
          port.close();
        } else {
          o?.abort();
          port.close();
        }
      } catch (e) {
        failed = true;
        o?.abort();
        fail(e);
        port.close();
      }
    });
    port.postMessage({ t: "ready" });
  } else {
    port.close();
  }
}
