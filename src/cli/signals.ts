/**
 * Ctrl-C and SIGTERM: the first one stops reading and lets the report of what
 * was seen so far be written (exit 130 / 143); a second one exits at once.
 */
export interface SignalState {
  signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM, else null. */
  exitCode(): number | null;
  dispose(): void;
}

export function installSignals(): SignalState {
  const ac = new AbortController();
  let code: number | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    const c = sig === "SIGINT" ? 130 : 143;
    if (code !== null) {
      process.exit(c);
    }
    code = c;
    ac.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: ac.signal,
    exitCode: () => code,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
