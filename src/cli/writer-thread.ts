/**
 * The writer thread (json-worker.ts), started as early as possible.
 *
 * A worker thread takes ~45 ms of CPU to start (Node's own start-up, then its
 * modules), and on two cores it used to start when this thread had just
 * begun reading packets: it competed with this thread's own warm-up and with
 * V8's compiler threads. Started here instead, while the command line is
 * still loading (one thread busy, the other core idle), when the arguments
 * make a second thread likely: `analyze` with a capture file of at least
 * WORKER_MIN_BYTES or a pipe (stdin or a FIFO), or `--threads 2`. A guess that turns out wrong costs the
 * idle core ~45 ms and nothing else: the worker waits for its configuration
 * (an "init" message, see json-worker.ts) and is terminated if never taken.
 *
 * main.ts calls startEarly() before it loads the rest of the command line.
 * This module must stay small (Node's own modules only).
 */
import { Worker } from "node:worker_threads";
import * as fs from "node:fs";

/** Below this input size a second thread costs more (start-up) than it saves. */
export const WORKER_MIN_BYTES = 8 << 20;
export const WORKER_URL = new URL("./json-worker.js", import.meta.url);
/**
 * A small young generation: everything the writer allocates dies within a
 * batch, and it keeps the second heap (and peak RSS) small. Measured on the
 * 200k bench file: 4 MB was both the fastest and the smallest of 4/8/16/default.
 */
const WORKER_OPTIONS = { resourceLimits: { maxYoungGenerationSizeMb: 4 } };

interface Started {
  worker: Worker;
  /** Set if it failed or stopped before anyone took it. */
  dead: boolean;
}

let early: Started | null = null;

/** Would these arguments (process.argv after node and the script) likely use the writer thread? */
export function likelyWriterThread(args: readonly string[], stdinStat: () => fs.Stats = () => fs.fstatSync(0)): boolean {
  if (args[0] !== "analyze") return false;
  let big = false;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--threads") {
      const v = args[i + 1];
      if (v === "1") return false;
      if (v === "2") big = true;
      i++;
      continue;
    }
    if (a === "--threads=1") return false;
    if (a === "--threads=2") big = true;
    if (a === "-" && args[i - 1] !== "-o" && args[i - 1] !== "--output") {
      // stdin: a pipe (length unknown) or a big file redirected to it
      if (bigOrUnknown(stdinStat)) big = true;
      continue;
    }
    if (a.startsWith("-")) continue;
    // A positional argument (or an option's value): a big file, or a pipe such as <(zcat f.gz)?
    if (bigOrUnknown(() => fs.statSync(a, { throwIfNoEntry: false }))) big = true;
  }
  return big;
}

/** A regular file of at least WORKER_MIN_BYTES, or a FIFO or socket (input of unknown length). */
function bigOrUnknown(stat: () => fs.Stats | undefined): boolean {
  try {
    const st = stat();
    if (st === undefined) return false;
    return st.isFile() ? st.size >= WORKER_MIN_BYTES : st.isFIFO() || st.isSocket();
  } catch {
    // not a file we can stat: the command itself will say so
    return false;
  }
}

/** Start the writer thread now if the arguments make it likely (once). */
export function startEarly(args: readonly string[]): void {
  if (early !== null || !fs.existsSync(WORKER_URL) || !likelyWriterThread(args)) return;
  const s: Started = { worker: new Worker(WORKER_URL, WORKER_OPTIONS), dead: false };
  // Until taken: a failure is only remembered (takeWriterThread then starts a
  // new thread), never an unhandled 'error' event; and the process does not
  // wait for it.
  const onDead = () => {
    s.dead = true;
  };
  s.worker.on("error", onDead);
  s.worker.on("exit", onDead);
  s.worker.unref();
  early = s;
}

/** The writer thread: the one started early if it is alive, else a new one. It waits for its "init" message. */
export function takeWriterThread(): Worker {
  const s = early;
  if (s === null || s.dead) {
    dropEarlyWriterThread();
    return new Worker(WORKER_URL, WORKER_OPTIONS);
  }
  early = null;
  s.worker.removeAllListeners("error");
  s.worker.removeAllListeners("exit");
  s.worker.ref();
  return s.worker;
}

/** A writer thread started early and never taken: stop it. */
export function dropEarlyWriterThread(): void {
  const s = early;
  early = null;
  if (s !== null) void s.worker.terminate();
}

