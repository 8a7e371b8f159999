/**
 * Progress on stderr, only when stderr is a terminal. A file of known size
 * gets a bar (bytes read of total, packets/s, connections, time left); input
 * of unknown length (stdin: `zcat big.pcap.gz | synsent analyze -`) gets a
 * line without a bar (bytes read, packets/s, connections, time so far), shown
 * once 8 MB have been read. Shorter inputs are a moment's work: nothing.
 */
import { createRequire } from "node:module";
import type { RecordSource } from "../sources/record.js";
import type { Progress } from "../analyze.js";

/** Inputs smaller than this take a moment: no progress display. */
const MOMENT_BYTES = 8 << 20;

/** Loaded only when progress is shown (start-up time of every other run). */
function loadCliProgress(): typeof import("cli-progress") {
  return createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
}

/** 59s, 1m05s, 2h03m. */
export function elapsedText(s: number): string {
  const t = Math.floor(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}

/** What both displays show: MB read, packets/s since `started`, connections so far. */
function counters(p: Progress, started: number): { mb: string; pps: string; connections: string } {
  const secs = Math.max(0.001, (Date.now() - started) / 1000);
  return {
    mb: (p.bytesRead / 1e6).toFixed(0),
    pps: Math.round(p.packets / secs).toLocaleString("en-US"),
    connections: p.connections.toLocaleString("en-US"),
  };
}

export interface ProgressHandle {
  update(p: Progress): void;
  stop(): void;
}

export function startProgress(wanted: boolean | undefined, source: RecordSource): ProgressHandle | null {
  const enabled = wanted ?? (process.stderr.isTTY === true);
  if (!enabled || !process.stderr.isTTY) return null;
  const total = source.totalBytes;
  if (total === null) return unknownLength();
  if (total < MOMENT_BYTES) return null; // a moment's work: no bar
  const cliProgress = loadCliProgress();
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
  const totalMb = (total / 1e6).toFixed(0);
  bar.start(total, 0, { mb: "0", totalMb, pps: "0", connections: 0 });
  return {
    update(p) {
      bar.update(Math.min(p.bytesRead, total), { ...counters(p, started), totalMb });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Stdin and other inputs of unknown length: a line without bar, percentage or time left. */
function unknownLength(): ProgressHandle {
  const started = Date.now();
  let bar: import("cli-progress").SingleBar | null = null;
  return {
    update(p) {
      if (bar === null) {
        if (p.bytesRead < MOMENT_BYTES) return;
        const cliProgress = loadCliProgress();
        bar = new cliProgress.SingleBar({
          stream: process.stderr,
          format: " {mb} MB read | {pps} packets/s | {connections} connections | {elapsed}",
          hideCursor: true,
          clearOnComplete: true,
          fps: 8,
        });
        bar.start(1, 0, { mb: "0", pps: "0", connections: "0", elapsed: "0s" });
      }
      bar.update(0, { ...counters(p, started), elapsed: elapsedText((Date.now() - started) / 1000) });
    },
    stop() {
      bar?.stop();
    },
  };
}
