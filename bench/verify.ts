/**
 * The bench's accuracy check: synsent's report of a generated capture against
 * the generator's ground truth (the `.truth.json` sidecar), count by count.
 *
 * Timing runs write to /dev/null; this is one more run with `--format ndjson`
 * whose last line (the summary: per-destination outcomes and retransmissions,
 * the source's packet counts) is compared with the truth. Only that line is
 * kept: the connection lines stream past (7.5 M connections are ~5.5 GB).
 */
import { spawn } from "node:child_process";
import type { GenerateTruth } from "./generate.js";

/** The parts of synsent's ndjson summary line the checks read. */
export interface SummaryLine {
  type: "summary";
  destinations: {
    outcomes: Record<string, number>;
    retransmissions: { syn: number; synAck: number; data: number };
  }[];
  source: { packets: number; tcpPackets: number; duplicates: number; firstTs: number | null; lastTs: number | null };
  flowTable: { evicted: number };
  options: { synTimeoutS: number };
}

export interface TruthCheck {
  what: string;
  expected: number;
  got: number;
  ok: boolean;
}

/** Outcomes the generator never makes: synsent must report none of them. */
const NEVER = ["icmp-rejected", "aborted-by-client", "synack-unacked", "established", "reset", "midstream"];

/**
 * Every count the truth pins down. Unanswered connections whose last SYN is
 * within the SYN timeout of the capture's end may be `pending` instead (the
 * truth counts them per window), so the check is unanswered + pending, and
 * pending no more than the truth's count for that window.
 */
export function checkAgainstTruth(s: SummaryLine, t: GenerateTruth): TruthCheck[] {
  const outcome = new Map<string, number>();
  let synRetrans = 0;
  let synAckRetrans = 0;
  let dataRetrans = 0;
  for (const d of s.destinations) {
    for (const [k, v] of Object.entries(d.outcomes)) outcome.set(k, (outcome.get(k) ?? 0) + v);
    synRetrans += d.retransmissions.syn;
    synAckRetrans += d.retransmissions.synAck;
    dataRetrans += d.retransmissions.data;
  }
  const o = (k: string) => outcome.get(k) ?? 0;
  let connections = 0;
  for (const v of outcome.values()) connections += v;
  const window = t.unansweredEndingWithin[String(s.options.synTimeoutS)];
  const checks: TruthCheck[] = [];
  const eq = (what: string, expected: number, got: number) => checks.push({ what, expected, got, ok: expected === got });
  eq("packets", t.packets, s.source.packets);
  eq("TCP packets", t.packets, s.source.tcpPackets);
  eq("connections", t.connections, connections);
  eq("closed", t.outcomes.closed, o("closed"));
  eq("refused", t.outcomes.refused, o("refused"));
  eq("unanswered + pending", t.outcomes.unanswered, o("unanswered") + o("pending"));
  if (window !== undefined) {
    checks.push({ what: `pending (at most the unanswered ending within ${s.options.synTimeoutS} s)`, expected: window, got: o("pending"), ok: o("pending") <= window });
  } else {
    eq("pending", 0, o("pending"));
  }
  for (const k of NEVER) eq(k, 0, o(k));
  eq("SYN retransmissions", t.synRetransmissions, synRetrans);
  eq("SYN-ACK retransmissions", 0, synAckRetrans);
  eq("data retransmissions", t.dataRetransmissions, dataRetrans);
  eq("duplicate packets", 0, s.source.duplicates);
  eq("evicted connections", 0, s.flowTable.evicted);
  eq("first timestamp (µs)", Math.round(t.firstTs * 1e6), Math.round((s.source.firstTs ?? NaN) * 1e6));
  eq("last timestamp (µs)", Math.round(t.lastTs * 1e6), Math.round((s.source.lastTs ?? NaN) * 1e6));
  return checks;
}

/** One line for the bench's output: all matched, or each mismatch. */
export function renderChecks(checks: TruthCheck[], t: GenerateTruth): string {
  const bad = checks.filter((c) => !c.ok);
  const what =
    `${t.connections} connections (closed ${t.outcomes.closed}, unanswered ${t.outcomes.unanswered}, refused ${t.outcomes.refused}), ` +
    `${t.synRetransmissions} SYN and ${t.dataRetransmissions} data retransmissions`;
  if (bad.length === 0) return `ground truth: all ${checks.length} counts match: ${what}`;
  return `ground truth: ${bad.length} of ${checks.length} counts DIFFER: ${bad.map((c) => `${c.what} ${c.got}, truth ${c.expected}`).join("; ")}`;
}

const MARK = Buffer.from('{"type":"summary"');

/**
 * Runs argv (synsent ... --format ndjson, report on stdout) and returns its
 * summary line, parsed. Connection lines are skipped as they stream: only
 * bytes from the summary line's start are kept.
 */
export function ndjsonSummary(argv: string[], timeoutS: number): Promise<SummaryLine> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let kept: Buffer[] | null = null;
    let carry = Buffer.alloc(0);
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutS * 1000);
    child.stdout.on("data", (d: Buffer) => {
      if (kept !== null) {
        kept.push(d);
        return;
      }
      // The mark may straddle two chunks: look in the last bytes of the previous one too.
      const b = carry.length > 0 ? Buffer.concat([carry, d]) : d;
      const at = b.indexOf(MARK);
      if (at >= 0) kept = [b.subarray(at)];
      else carry = Buffer.from(b.subarray(Math.max(0, b.length - MARK.length)));
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      err = (err + d).slice(-2000);
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${signal ?? `exit ${code}`}: ${err.trim().split("\n").pop() ?? ""}`));
        return;
      }
      if (kept === null) {
        reject(new Error("no summary line in the ndjson report"));
        return;
      }
      const text = Buffer.concat(kept).toString("utf8");
      const end = text.indexOf("\n");
      try {
        resolve(JSON.parse(end >= 0 ? text.slice(0, end) : text) as SummaryLine);
      } catch (e) {
        reject(new Error(`summary line is not JSON: ${(e as Error).message}`));
      }
    });
  });
}
