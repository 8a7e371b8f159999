/**
 * `synsent capture [interface] [filter...]`: the same diagnosis as analyze,
 * on packets as they arrive, with synsent's own libpcap binding.
 *
 * On a terminal it shows a live view and prints the report at the end; into a
 * pipe or file it writes one NDJSON line per connection verdict as it happens
 * (then the summary lines), so `synsent capture eth0 | jq` works.
 * Ctrl-C, SIGTERM, --count and --duration all stop it the same way: packets
 * already captured are analysed, the -w file is flushed and closed, and the
 * report includes the kernel's drop counters (report.source.kernel).
 */
import { checkReportArgs, runAndReport, UsageError, type Format, type ReportArgs } from "./common.js";
import type { CaptureArgs } from "./capture-command.js";

export { captureCommand, DEFAULT_BUFFER_KIB } from "./capture-command.js";
import { installSignals } from "./signals.js";
import { finishEvidence } from "./evidence.js";
import { atomicTarget, describeErrno, OutputError } from "./output.js";
import {
  BadFilterError,
  checkFilter,
  defaultInterface,
  listInterfaces,
  loadBinding,
  LiveSource,
  type KernelStats,
} from "../sources/live.js";
import { PcapWriter } from "../sources/pcap-writer.js";
import { InputError, type RecordBatch, type RecordSource } from "../sources/record.js";
import { LiveView } from "../report/live-view.js";
import type { PipelineState } from "../analyze.js";

/**
 * --syn-timeout keeps analyze's default of 3 s. Live, timers run on the wall
 * clock, so a SYN is declared unanswered while its client may still retry:
 * the kernel's first retry comes 1 s after the SYN (RFC 6298's initial RTO;
 * Linux retries on a 1 s linear schedule first), so at 3 s the SYN has been
 * retried twice with no answer: a verdict, not an impatient guess. Below
 * MIN_LIVE_SYN_TIMEOUT_S the first retry can arrive after the verdict and be
 * counted as a second connection, so synsent warns.
 */
export const MIN_LIVE_SYN_TIMEOUT_S = 1.5;

function parseArgs(a: CaptureArgs): {
  format: Format;
  count: number | null;
  durationS: number | null;
  bufferBytes: number | null;
} {
  const format: Format = a.format ?? (process.stdout.isTTY || a.output !== undefined ? "text" : "ndjson");
  checkReportArgs({ ...a, format });
  if (a.count !== undefined && (!Number.isInteger(a.count) || a.count < 1)) {
    throw new UsageError(`--count must be a whole number of packets, at least 1, got ${String(a.count)}`);
  }
  if (a.duration !== undefined && (!Number.isFinite(a.duration) || a.duration <= 0 || a.duration > 365 * 86400)) {
    throw new UsageError(`--duration must be a positive number of seconds, got ${String(a.duration)}`);
  }
  if (!Number.isInteger(a.snaplen) || a.snaplen < 1 || a.snaplen > 262144) {
    throw new UsageError(`--snaplen must be a whole number of bytes from 1 to 262144, got ${String(a.snaplen)}`);
  }
  const bs = a["buffer-size"];
  if (bs !== undefined && (!Number.isInteger(bs) || bs < 1 || bs > 4 * 1024 * 1024)) {
    throw new UsageError(`--buffer-size is in KiB, a whole number from 1 to 4194304, got ${String(bs)}`);
  }
  if (a.write === "" || a.write === "-") {
    throw new UsageError("-w needs a file name (for a raw pcap stream on stdout use tcpdump -w -)");
  }
  if (a.evidence !== undefined && a.write === undefined) {
    throw new UsageError("--evidence with capture needs -w FILE: the evidence packets are read back from it");
  }
  return { format, count: a.count ?? null, durationS: a.duration ?? null, bufferBytes: bs !== undefined ? bs * 1024 : null };
}

/**
 * Split `[interface] [filter...]`. tcpdump takes the filter alone, so
 * `synsent capture tcp port 80` must work too: when the first word is not an
 * interface but the words compile as a filter with it, it is the filter's
 * first word and the default interface is used.
 */
function resolveTarget(a: CaptureArgs): { iface: string; filter: string | null } {
  const words = (a.filter ?? []).map(String);
  const first = a.interface !== undefined ? String(a.interface) : undefined;
  if (first === undefined) return { iface: defaultInterface(), filter: null };
  const names = listInterfaces().map((i) => i.name);
  if (!names.includes(first) && checkFilter([first, ...words].join(" ")) === null) {
    return { iface: defaultInterface(), filter: [first, ...words].join(" ") };
  }
  return { iface: first, filter: words.length ? words.join(" ") : null };
}

export async function runCapture(a: CaptureArgs): Promise<void> {
  const opts = parseArgs(a);
  loadBinding(); // exit 3 with what to install, before anything else
  const { iface, filter } = resolveTarget(a);
  const format = opts.format;
  const reportArgs: ReportArgs = { ...a, format };

  // The live view owns the terminal while it runs, so anything streamed to
  // stdout during the capture (json/ndjson) rules it out.
  const streamsToStdout = a.output === undefined && (format === "json" || format === "ndjson");
  const wantLive = a.live ?? (process.stdout.isTTY === true && !streamsToStdout);
  if (a.live === true && !process.stdout.isTTY) throw new UsageError("--live needs standard output to be a terminal");
  if (wantLive && streamsToStdout) throw new UsageError(`--live cannot share the terminal with --format ${format} on standard output: add -o FILE`);

  const signals = installSignals();
  let writer: PcapWriter | null = null;
  let source: LiveSource | null = null;
  let view: LiveView | null = null;
  let timer: NodeJS.Timeout | null = null;
  let state: PipelineState | null = null;
  let teeError: Error | null = null;
  // -w is written under a temporary name and renamed when the capture ends
  // cleanly, so a failed run never leaves a file that looks whole.
  let writeTarget: ReturnType<typeof atomicTarget> | null = null;
  try {
    let writeBatch: ((b: RecordBatch) => void) | undefined;
    if (a.write !== undefined) {
      const file = a.write;
      writeBatch = (b) => {
        if (!writer || teeError) return;
        try {
          for (let i = 0; i < b.count; i++) writer.writeRecord(b, i);
          // Every batch reaches the file at once: complete whenever we stop.
          writer.flush();
        } catch (e) {
          teeError = new OutputError(`cannot write ${file}: ${describeErrno(e)}`);
          source?.stop();
        }
      };
    }
    source = LiveSource.open({
      interface: iface,
      filter,
      snaplen: a.snaplen,
      promisc: a.promisc,
      bufferSize: opts.bufferBytes,
      immediate: a.immediate,
      count: opts.count,
      signal: signals.signal,
      tee: writeBatch,
    });
    if (a.write !== undefined) {
      try {
        writeTarget = atomicTarget(a.write);
        writer = PcapWriter.create(writeTarget.path, { linkType: source.linkType, snapLen: source.snaplen, nano: source.nanosecond });
      } catch (e) {
        throw new OutputError(`cannot write ${a.write}: ${describeErrno(e)}`);
      }
    }
    for (const w of source.warnings) process.stderr.write(`synsent: warning: ${iface}: ${w}\n`);
    if (a["syn-timeout"] < MIN_LIVE_SYN_TIMEOUT_S) {
      process.stderr.write(
        `synsent: warning: --syn-timeout ${a["syn-timeout"]} is shorter than the 1 s SYN retry: a retried SYN may be counted as a new, second connection\n`,
      );
    }
    // Like tcpdump's "listening on" line: scripts wait for it before making traffic.
    process.stderr.write(
      `synsent: capturing on ${iface}${filter ? ` (filter: ${filter})` : ""}, link-type ${source.linkTypeName}, snapshot length ${source.snaplen} bytes, ${source.nanosecond ? "nanosecond" : "microsecond"} timestamps\n`,
    );
    if (opts.durationS !== null) {
      const s = source;
      timer = setTimeout(() => s.stop(), opts.durationS * 1000);
    }
    const src = source;
    if (wantLive) {
      view = new LiveView({
        out: process.stdout,
        interface: iface,
        filter,
        snapshot: () => {
          const now = Date.now() / 1000;
          const waiting = state ? state.tracker.waitingSyns(now, 200) : [];
          return {
            now,
            packets: state ? state.packets : 0,
            connections: state ? state.connections : 0,
            kernel: src.stats(),
            waiting: waiting.slice(0, 50),
            waitingTotal: waiting.length,
          };
        },
        footer: `Ctrl-C: stop and print the report${opts.durationS !== null ? ` (stops by itself after ${opts.durationS} s)` : ""}${opts.count !== null ? ` (stops after ${opts.count} packets)` : ""}`,
      });
      view.start();
    }
    const kernelStats = (): KernelStats | null => src.stats();
    // The pipeline writes the report as soon as the source ends: give the
    // terminal back first.
    const liveView = view;
    const piped: RecordSource = {
      name: src.name,
      get stopped() {
        return src.stopped;
      },
      get bytesRead() {
        return src.bytesRead;
      },
      totalBytes: null,
      next: async () => {
        const b = await src.next();
        if (b === null) liveView?.stop();
        return b;
      },
      close: () => src.close(),
    };
    const result = await runAndReport(
      piped,
      { files: [], interface: iface, filter },
      reportArgs,
      {
        onBatch: (s) => {
          state = s;
          // Wall clock, but only as far as the ring has been drained (see LiveSource.caughtUpTo).
          if (src.caughtUpTo !== null) s.tracker.advance(src.caughtUpTo);
        },
        kernelStats,
        onConnection: view ? (c) => view!.connection(c) : undefined,
      },
    );
    view?.stop();
    view = null;
    try {
      writer?.close();
    } catch (e) {
      // The last flush fails the same way as the one that stopped the tee.
      teeError ??= new OutputError(`cannot write ${a.write}: ${describeErrno(e)}`);
    }
    if (teeError) throw teeError;
    writeTarget?.commit();
    const k = result.report.source.kernel;
    // tcpdump's closing lines, on stderr so they never mix with the report.
    // A lost interface gets a line of its own (the report is written and
    // covers what came before; exit 3). Zero packets say whether the filter
    // is why.
    const none = src.packets === 0 ? (filter ? ` (none matched the filter "${filter}")` : " (the interface was silent)") : "";
    process.stderr.write(
      `synsent: ${src.packets} packets captured${none}${k ? `, ${k.received} received by filter, ${k.dropped} dropped by kernel, ${k.ifDropped} dropped by interface` : ""}${src.stopped && !src.lost ? `; capture ended early: ${src.stopped.reason}` : ""}\n`,
    );
    if (src.lost) {
      process.stderr.write(`synsent: capture stopped: ${src.stopped!.reason}; the report covers the ${src.packets} packets captured before\n`);
    }
    if (writer) process.stderr.write(`synsent: wrote ${writer.records} packets to ${a.write}\n`);
    if (a.evidence !== undefined && a.write !== undefined) await finishEvidence(reportArgs, [a.write], result);
    // Interrupted runs say so in the exit status (130 SIGINT, 143 SIGTERM), as
    // shells and supervisors expect; the report of what was seen is complete.
    // A lost interface is an input that became unreadable: 3, after the report.
    process.exitCode = signals.exitCode() ?? (src.lost ? 3 : result.failMatches > 0 ? 1 : 0);
  } catch (e) {
    // A filter that does not compile is a mistake in the command line: exit 2.
    if (e instanceof BadFilterError) throw new UsageError(e.message);
    if (e instanceof InputError && e.file === "") throw new InputError(e.message, iface);
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    view?.stop();
    try {
      writer?.close();
    } catch {
      // reported above when it matters
    }
    // Committed above on success; otherwise the temporary file goes away.
    writeTarget?.abort();
    await source?.close();
    signals.dispose();
  }
}
