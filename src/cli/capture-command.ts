/**
 * The `capture` command's options. The capture machinery (libpcap binding,
 * live view) is imported only when the command runs, so `analyze` does not
 * pay for loading it.
 */
import type { Argv, CommandModule } from "yargs";
import { reportOptions, type Format, type ReportArgs } from "./common.js";

export interface CaptureArgs extends Omit<ReportArgs, "format"> {
  format?: Format;
  interface?: string;
  filter?: (string | number)[];
  count?: number;
  duration?: number;
  snaplen: number;
  write?: string;
  "buffer-size"?: number;
  promisc: boolean;
  immediate: boolean;
  live?: boolean;
}

export const captureCommand: CommandModule<object, CaptureArgs> = {
  command: "capture [interface] [filter..]",
  describe: "capture live and diagnose handshakes as they happen (Ctrl-C stops and prints the report)",
  builder: (y: Argv) =>
    reportOptions(y)
      // Same choices as analyze, but the default depends on where stdout goes.
      .default("format", undefined)
      .describe("format", "report format (default: text on a terminal, ndjson into a pipe or file: one line per connection as it happens)")
      .positional("interface", {
        type: "string",
        describe: "interface to capture on (default: the one tcpdump picks; synsent interfaces lists them)",
      })
      .positional("filter", {
        type: "string",
        array: true,
        describe: "BPF capture filter, as for tcpdump (e.g. tcp port 443)",
      })
      .option("count", { alias: "c", type: "number", requiresArg: true, describe: "stop after this many packets" })
      .option("duration", { type: "number", requiresArg: true, describe: "stop after this many seconds" })
      .option("snaplen", { alias: "s", type: "number", default: 262144, requiresArg: true, describe: "bytes kept per packet" })
      .option("write", {
        alias: "w",
        type: "string",
        requiresArg: true,
        describe: "also save the raw packets to this pcap file (nanosecond timestamps; tshark/Wireshark read it)",
      })
      .option("buffer-size", {
        alias: "B",
        type: "number",
        default: DEFAULT_BUFFER_KIB,
        requiresArg: true,
        describe: "kernel capture buffer in KiB, as tcpdump -B (larger than tcpdump's 2 MiB: analysis pauses longer than a write)",
      })
      .option("promisc", { type: "boolean", default: true, describe: "promiscuous mode (--no-promisc: only this host's traffic)" })
      .option("immediate", {
        type: "boolean",
        default: true,
        describe: "hand packets over as they arrive (--no-immediate: in blocks, cheaper at very high rates)",
      })
      .option("live", { type: "boolean", describe: "live view on the terminal (default: when standard output is a terminal)" })
      .example("$0 capture", "default interface, everything, live view; Ctrl-C for the report")
      .example("$0 capture eth0 tcp port 443 --duration 60", "one minute of HTTPS handshakes on eth0")
      .example("$0 capture eth0 --format ndjson | jq 'select(.outcome==\"unanswered\")'", "stream verdicts")
      .example("$0 capture eth0 -w trace.pcap --fail-on unanswered -c 10000", "keep the packets, exit 1 on silent drops") as unknown as Argv<CaptureArgs>,
  handler: async (a) => {
    const { runCapture } = await import("./capture.js");
    await runCapture(a);
  },
};

/**
 * Kernel ring for live capture. tcpdump's 2 MiB is enough for a process that
 * only writes packets out; synsent analyses them, and with the CPU shared a
 * burst outlasts 2 MiB (bench/live-capture.ts: 70 % captured at 2 MiB, 97 %
 * at 64 MiB on a loaded 2-core machine). 32 MiB of kernel memory is cheap.
 */
export const DEFAULT_BUFFER_KIB = 32 * 1024;

