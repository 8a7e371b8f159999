import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Argv, CommandModule } from "yargs";
import { openCapture } from "../sources/open.js";
import { dash, reportOptions, runAndReport, UsageError, type ReportArgs } from "./common.js";
import { defaultSignalsWhileBlocked, installSignals } from "./signals.js";
import { startProgress } from "./progress.js";

interface AnalyzeArgs extends ReportArgs {
  files: string[];
  progress?: boolean;
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: "analyze <files..>",
  describe: "analyze capture files (pcap, pcapng, gzip; '-' reads stdin); several files are merged by timestamp",
  builder: (y: Argv) =>
    reportOptions(y)
      .positional("files", { type: "string", array: true, describe: "capture files, or - for standard input" })
      .option("progress", { type: "boolean", describe: "progress bar on stderr (default: when stderr is a terminal)" })
      .example("$0 analyze trace.pcap", "what went wrong, in plain language")
      .example("tcpdump -i eth0 -w - | $0 analyze -", "analyze a live tcpdump stream")
      .example("$0 analyze rotated-*.pcap --format json -o report.json", "merge rotated files, JSON report")
      .example("$0 analyze trace.pcapng --fail-on unanswered,refused", "exit 1 when a SYN went unanswered or was refused") as unknown as Argv<AnalyzeArgs>,
  handler: async (a) => {
    const files = (a.files ?? []).map((f) => dash(String(f)));
    if (files.length === 0) throw new UsageError("analyze needs at least one capture file (or - for stdin)");
    if (files.filter((f) => f === "-").length > 1) throw new UsageError("standard input (-) can be read only once");
    const signals = installSignals();
    let spool: string | null = null;
    try {
      let inputs = files;
      if (a.evidence !== undefined && files.includes("-")) {
        // Evidence needs a second pass over the packets; stdin can be read
        // once, so keep a private copy of it.
        spool = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "synsent-")), "stdin.capture");
        await pipeline(process.stdin, fs.createWriteStream(spool));
        inputs = files.map((f) => (f === "-" ? spool! : f));
      }
      // Opening a FIFO waits for its writer in a thread-pool call that nothing
      // cancels (even process.exit waits for it), and the first bytes of a pipe
      // may be slow to come: until the input is open, a signal has its default
      // action and ends synsent at once (nothing read, no report to write).
      const resumeSignals = defaultSignalsWhileBlocked();
      let source;
      try {
        source = await openCapture(inputs);
      } finally {
        resumeSignals();
      }
      const progress = startProgress(a.progress, source);
      let result;
      try {
        result = await runAndReport(source, { files }, a, {
          signal: signals.signal,
          onProgress: progress ? (p) => progress.update(p) : undefined,
        });
      } finally {
        progress?.stop();
        await source.close();
      }
      if (a.evidence !== undefined) {
        // Loaded only for --evidence: it brings the pcap writer, the
        // anonymizer and node:crypto (start-up time of every other run).
        const { finishEvidence } = await import("./evidence.js");
        await finishEvidence(a, inputs, result);
      }
      process.exitCode = signals.exitCode() ?? (result.failMatches > 0 ? 1 : 0);
    } finally {
      signals.dispose();
      if (spool) fs.rmSync(path.dirname(spool), { recursive: true, force: true });
    }
  },
};
