/** A progress bar on stderr, only when stderr is a terminal and the input size is known. */
import { createRequire } from "node:module";
import type { RecordSource } from "../sources/record.js";
import type { Progress } from "../analyze.js";

export interface ProgressHandle {
  update(p: Progress): void;
  stop(): void;
}

export function startProgress(wanted: boolean | undefined, source: RecordSource): ProgressHandle | null {
  const enabled = wanted ?? (process.stderr.isTTY === true);
  if (!enabled || !process.stderr.isTTY) return null;
  const total = source.totalBytes;
  if (total === null || total < 8 << 20) return null; // a moment's work: no bar
  // Loaded only when a bar is shown (start-up time of every other run).
  const cliProgress = createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: " {bar} {percentage}% | {mb}/{totalMb} MB | {pps} packets/s | {connections} connections | {eta_formatted} left",
      barsize: 30,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { mb: "0", totalMb: (total / 1e6).toFixed(0), pps: "0", connections: 0 });
  return {
    update(p) {
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      bar.update(Math.min(p.bytesRead, total), {
        mb: (p.bytesRead / 1e6).toFixed(0),
        totalMb: (total / 1e6).toFixed(0),
        pps: Math.round(p.packets / secs).toLocaleString("en-US"),
        connections: p.connections.toLocaleString("en-US"),
      });
    },
    stop() {
      bar.stop();
    },
  };
}
