/**
 * Ctrl-C and SIGTERM: the first one stops reading and lets the report of what
 * was seen so far be written (exit 130 / 143); a second one exits at once.
 *
 * "At once" must hold even while the report is being written into a pipe
 * nobody reads: writes are synchronous, so no JavaScript handler can run then.
 * So after the first signal synsent stops listening, and the second gets the
 * default action: the kernel ends the process (the shell shows 130 / 143).
 * And while a write has been stuck for a while (writeAllSync), the first
 * signal gets the default action too: a report nobody reads cannot be
 * delivered anyway.
 */
export interface SignalState {
  signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM, else null. */
  exitCode(): number | null;
  dispose(): void;
}

let current: { suspend(): boolean; resume(): void } | null = null;

/**
 * For a write that has been blocked for a while: give SIGINT/SIGTERM their
 * default action until the returned function is called (when the write moves
 * again). A no-op when no handlers are installed or a signal already came.
 */
export function defaultSignalsWhileBlocked(): () => void {
  const c = current;
  if (!c || !c.suspend()) return () => {};
  return () => c.resume();
}

export function installSignals(): SignalState {
  const ac = new AbortController();
  let code: number | null = null;
  let listening = false;
  let disposed = false;
  const on = () => {
    if (listening) return;
    listening = true;
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  };
  // With no listener left, Node restores the default action.
  const off = () => {
    if (!listening) return;
    listening = false;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    const c = sig === "SIGINT" ? 130 : 143;
    if (code !== null) process.exit(code);
    code = c;
    off();
    ac.abort();
  };
  on();
  const me = {
    suspend: () => {
      if (!listening) return false;
      off();
      return true;
    },
    resume: () => {
      if (code === null && !disposed) on();
    },
  };
  current = me;
  return {
    signal: ac.signal,
    exitCode: () => code,
    dispose() {
      disposed = true;
      off();
      if (current === me) current = null;
    },
  };
}
