/**
 * Where reports and files go. Regular files are written to a temporary name
 * beside the target and renamed when complete, so an interrupted or failed run
 * never leaves a half-written report that looks whole. `-`, /dev/null, FIFOs
 * and other non-regular targets are written straight through.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { defaultSignalsWhileBlocked } from "./signals.js";

/** A failure to write an output; the CLI prints `message` and exits 4. */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputError";
  }
}

/** Raised when the reader of stdout went away (`synsent ... | head -1`): not an error. */
export class BrokenPipe extends Error {
  constructor() {
    super("broken pipe");
    this.name = "BrokenPipe";
  }
}

const pendingTemps = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const t of pendingTemps) {
      try {
        fs.unlinkSync(t);
      } catch {
        // already gone
      }
    }
  });
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** A write stuck this long lets Ctrl-C / SIGTERM end synsent at once (see signals.ts). */
const STUCK_MS = 1000;

/** write(2) until done; retries EAGAIN (stdout may be a non-blocking pipe). */
export function writeAllSync(fd: number, buf: Uint8Array, what: string): void {
  let off = 0;
  let spins = 0;
  let restoreSignals: (() => void) | null = null;
  try {
    while (off < buf.length) {
      try {
        off += fs.writeSync(fd, buf, off, buf.length - off);
        spins = 0;
        if (restoreSignals) {
          restoreSignals();
          restoreSignals = null;
        }
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" && spins < 600_000) {
          spins++;
          // JavaScript signal handlers cannot run while we wait here.
          if (spins === STUCK_MS && !restoreSignals) restoreSignals = defaultSignalsWhileBlocked();
          Atomics.wait(sleepCell, 0, 0, 1);
          continue;
        }
        if (code === "EPIPE") throw new BrokenPipe();
        throw new OutputError(`cannot write ${what}: ${describeErrno(e)}`);
      }
    }
  } finally {
    if (restoreSignals) restoreSignals();
  }
}

export function describeErrno(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const texts: Record<string, string> = {
    ENOSPC: "no space left on device",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOENT: "no such file or directory",
    EISDIR: "is a directory",
    EROFS: "read-only file system",
    EDQUOT: "disk quota exceeded",
    ENOTDIR: "a path component is not a directory",
    EFBIG: "file too large",
    EIO: "input/output error",
  };
  if (err && typeof err.code === "string") return `${texts[err.code] ?? err.code} (${err.code})`;
  return String((err as Error)?.message ?? e);
}

/**
 * A buffered, synchronous writer for one output. Synchronous writes give
 * natural back-pressure (a slow `jq` slows synsent down instead of growing
 * memory).
 */
export class Output {
  private fd: number;
  /** Regular files: the temporary name written to, renamed on close. */
  private readonly temp: AtomicTarget | null;
  private chunks: string[] = [];
  private pending = 0;
  /** Bytes waiting to be written (writeBytes). */
  private readonly bb = Buffer.allocUnsafe(1 << 16);
  private bn = 0;
  private closed = false;
  readonly label: string;
  readonly isStdout: boolean;

  private constructor(fd: number, label: string, temp: AtomicTarget | null) {
    this.fd = fd;
    this.label = label;
    this.temp = temp;
    this.isStdout = fd === 1;
  }

  static open(target: string | undefined | null, what = "report"): Output {
    if (target === undefined || target === null || target === "" || target === "-") {
      return new Output(1, "standard output", null);
    }
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new OutputError(`cannot write ${what} to ${target}: ${describeErrno(e)}`);
      }
    }
    if (st && st.isDirectory()) throw new OutputError(`cannot write ${what} to ${target}: it is a directory`);
    if (st && !st.isFile()) {
      // /dev/null, a FIFO, a terminal: write straight through.
      try {
        return new Output(fs.openSync(target, "w"), target, null);
      } catch (e) {
        throw new OutputError(`cannot write ${what} to ${target}: ${describeErrno(e)}`);
      }
    }
    const temp = tempTarget(target);
    let fd: number;
    try {
      fd = fs.openSync(temp.path, "w", st ? st.mode & 0o777 : 0o644);
    } catch (e) {
      temp.abort();
      throw new OutputError(`cannot write ${what} to ${target}: ${describeErrno(e)}`);
    }
    return new Output(fd, target, temp);
  }

  write(s: string): void {
    if (this.closed) return;
    if (this.bn > 0) this.flushBytes();
    this.chunks.push(s);
    this.pending += s.length;
    if (this.pending >= 1 << 16) this.flushStrings();
  }

  /** Bytes (UTF-8), buffered like write(); the caller may reuse `b` afterwards. */
  writeBytes(b: Uint8Array): void {
    if (this.closed) return;
    if (this.chunks.length > 0) this.flushStrings();
    const room = this.bb.length - this.bn;
    if (b.length > room) {
      this.flushBytes();
      if (b.length >= this.bb.length) {
        writeAllSync(this.fd, b, `${this.label}`);
        return;
      }
    }
    this.bb.set(b, this.bn);
    this.bn += b.length;
  }

  flush(): void {
    this.flushStrings();
    this.flushBytes();
  }

  private flushStrings(): void {
    if (this.chunks.length === 0) return;
    const buf = Buffer.from(this.chunks.length === 1 ? this.chunks[0] : this.chunks.join(""), "utf8");
    this.chunks = [];
    this.pending = 0;
    writeAllSync(this.fd, buf, `${this.label}`);
  }

  private flushBytes(): void {
    if (this.bn === 0) return;
    const n = this.bn;
    this.bn = 0;
    writeAllSync(this.fd, this.bb.subarray(0, n), `${this.label}`);
  }

  /** Flush, fsync-free close, and (for regular files) rename into place. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd > 2) {
      try {
        fs.closeSync(this.fd);
      } catch (e) {
        throw new OutputError(`cannot write ${this.label}: ${describeErrno(e)}`);
      }
    }
    if (this.temp) this.temp.commit();
  }

  /** Give up: remove the temporary file, never leave a half-written one in place. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    if (this.fd > 2) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // nothing to do
      }
    }
    if (this.temp) this.temp.abort();
  }
}

/**
 * For other writers (pcap files): a temporary path to write to and a commit
 * step, with the same guarantees as Output.
 */
export interface AtomicTarget {
  /** Where to write. */
  path: string;
  /** Rename into place (regular files). */
  commit(): void;
  /** Remove the temporary file; harmless after commit. */
  abort(): void;
}

export function atomicTarget(target: string): AtomicTarget {
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(target);
  } catch {
    st = null;
  }
  if (st && !st.isFile()) return { path: target, commit() {}, abort() {} };
  return tempTarget(target);
}

/** A temporary name beside `target`, removed at exit unless committed. */
function tempTarget(target: string): AtomicTarget {
  const temp = path.join(path.dirname(path.resolve(target)), `.${path.basename(target)}.synsent-${process.pid}.tmp`);
  installExitHook();
  pendingTemps.add(temp);
  return {
    path: temp,
    commit() {
      try {
        fs.renameSync(temp, target);
      } catch (e) {
        throw new OutputError(`cannot write ${target}: ${describeErrno(e)}`);
      } finally {
        pendingTemps.delete(temp);
      }
    },
    abort() {
      try {
        fs.unlinkSync(temp);
      } catch {
        // nothing to do
      }
      pendingTemps.delete(temp);
    },
  };
}
