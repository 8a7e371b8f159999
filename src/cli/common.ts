/**
 * What `analyze` and `capture` share: the report options, and the code that
 * runs the pipeline over a source and renders/writes the report in the chosen
 * format.
 */
import type { Argv } from "yargs";
import { OUTCOMES, PROBLEM_OUTCOMES, type Connection, type Outcome } from "../flows/connection.js";
import type { Report } from "../report/model.js";
import { analyzeSource, DEFAULT_MAX_EXAMPLES, DEFAULT_MAX_FLOWS, DEFAULT_SYN_TIMEOUT_S, type AnalyzeOptions, type PipelineState, type SourceMeta } from "../analyze.js";
import type { RecordSource } from "../sources/record.js";
import { renderText } from "../report/text.js";
import { renderMarkdown } from "../report/markdown.js";
import { renderHtml, TimelineCollector } from "../report/html.js";
import { JsonReportWriter } from "../report/json.js";
import { NdjsonReportWriter } from "../report/ndjson.js";
import { Anonymizer } from "../report/anonymize.js";
import { Output } from "./output.js";

/** Stands for a lone "-" on the command line (see main.ts). */
export const DASH_TOKEN = "\u0000-";

/** Map the token back to "-". */
export function dash<T extends string | undefined>(v: T): T {
  return (v === DASH_TOKEN ? "-" : v) as T;
}

export const FORMATS = ["text", "json", "ndjson", "markdown", "html"] as const;
export type Format = (typeof FORMATS)[number];

/** A mistake in how synsent was called: one line, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface ReportArgs {
  format: Format;
  output?: string;
  "fail-on"?: string;
  "syn-timeout": number;
  "max-flows": number;
  "max-examples": number;
  evidence?: string;
  anonymize?: string;
  color?: boolean;
}

export function reportOptions<T>(y: Argv<T>) {
  return y
    .option("format", {
      alias: "F",
      choices: FORMATS,
      default: "text" as Format,
      describe: "report format",
    })
    .option("output", {
      alias: "o",
      type: "string",
      describe: "write the report to FILE instead of standard output",
      requiresArg: true,
    })
    .option("fail-on", {
      type: "string",
      describe: `exit 1 when any connection has one of these outcomes (comma-separated: ${OUTCOMES.join(", ")}, or "problems")`,
      requiresArg: true,
    })
    .option("syn-timeout", {
      type: "number",
      default: DEFAULT_SYN_TIMEOUT_S,
      describe: "seconds without an answer after the last SYN before it counts as unanswered (else: pending)",
      requiresArg: true,
    })
    .option("max-flows", {
      type: "number",
      default: DEFAULT_MAX_FLOWS,
      describe: "flow table bound; the oldest idle flows are evicted beyond it (the report says how many)",
      requiresArg: true,
    })
    .option("max-examples", {
      type: "number",
      default: 3,
      describe: "example connections shown per kind of problem (text, markdown, html)",
      requiresArg: true,
    })
    .option("evidence", {
      type: "string",
      describe: "also write the packets of the problem connections to this pcap file",
      requiresArg: true,
    })
    .option("anonymize", {
      type: "string",
      describe: "replace IP and MAC addresses (prefix-preserving, keyed: --anonymize=KEY gives the same mapping every run)",
    })
    .option("color", {
      type: "boolean",
      describe: "colour the text report (default: on a terminal, unless NO_COLOR is set)",
    });
}

/** Validate numbers and the outcome list; throws UsageError. */
export function checkReportArgs(a: ReportArgs): Set<Outcome> | null {
  const st = a["syn-timeout"];
  if (!Number.isFinite(st) || st < 0 || st > 86_400) {
    throw new UsageError(`--syn-timeout must be a number of seconds between 0 and 86400, got ${String(st)}`);
  }
  const mf = a["max-flows"];
  if (!Number.isInteger(mf) || mf < 1 || mf > 100_000_000) {
    throw new UsageError(`--max-flows must be a whole number between 1 and 100000000, got ${String(mf)}`);
  }
  const me = a["max-examples"];
  if (!Number.isInteger(me) || me < 0 || me > 1000) {
    throw new UsageError(`--max-examples must be a whole number between 0 and 1000, got ${String(me)}`);
  }
  if (a.output !== undefined && a.output === "") throw new UsageError("--output needs a file name");
  if (a.evidence !== undefined && a.evidence === "") throw new UsageError("--evidence needs a file name");
  if (a["fail-on"] === undefined) return null;
  const set = new Set<Outcome>();
  for (const raw of a["fail-on"].split(",")) {
    const w = raw.trim();
    if (w === "") continue;
    if (w === "problems") {
      for (const o of PROBLEM_OUTCOMES) set.add(o);
      continue;
    }
    if (!(OUTCOMES as readonly string[]).includes(w)) {
      throw new UsageError(`--fail-on: unknown outcome "${w}" (expected ${OUTCOMES.join(", ")} or "problems")`);
    }
    set.add(w as Outcome);
  }
  if (set.size === 0) throw new UsageError("--fail-on needs at least one outcome");
  return set;
}

export function useColor(a: ReportArgs, out: Output): boolean {
  if (a.color !== undefined) return a.color;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  return out.isStdout && process.stdout.isTTY === true;
}

export interface RunResult {
  report: Report;
  /** Connections whose outcome is in --fail-on. */
  failMatches: number;
  /** Problem connections, for --evidence (bounded). */
  problemConnections: Connection[];
  problemConnectionsDropped: number;
  /** The anonymizer the report used; evidence must use the same mapping. */
  anonymizer: Anonymizer | null;
}

/** Evidence selection keeps at most this many problem connections. */
export const MAX_EVIDENCE_CONNECTIONS = 100_000;

/**
 * Run the pipeline over `source` and write the report in the chosen format.
 * json and ndjson are streamed connection by connection; the other formats are
 * rendered from the final model.
 */
export async function runAndReport(
  source: RecordSource,
  meta: SourceMeta,
  a: ReportArgs,
  extra: {
    signal?: AbortSignal;
    onBatch?: (s: PipelineState) => void;
    onProgress?: AnalyzeOptions["onProgress"];
    kernelStats?: () => { received: number; dropped: number; ifDropped: number } | null;
    /** Extra per-connection hook (live view). */
    onConnection?: (c: Connection) => void;
  } = {},
): Promise<RunResult> {
  const failOn = checkReportArgs(a);
  const anonymizer = a.anonymize !== undefined ? new Anonymizer(a.anonymize === "" ? null : a.anonymize) : null;
  if (anonymizer && anonymizer.keyWasGenerated) process.stderr.write(`synsent: ${anonymizer.describe()}\n`);
  // The HTML timeline shows every connection attempt, binned; connections are
  // not kept, so collect the few numbers it needs as they stream past.
  const timeline = a.format === "html" ? new TimelineCollector() : null;
  const out = Output.open(dash(a.output), "report");
  let failMatches = 0;
  const problemConnections: Connection[] = [];
  let problemConnectionsDropped = 0;
  const wantEvidence = a.evidence !== undefined;
  const problem = new Set<Outcome>(PROBLEM_OUTCOMES);
  try {
    let streamWriter: JsonReportWriter | NdjsonReportWriter | null = null;
    const write = (s: string) => out.write(s);
    if (a.format === "json") streamWriter = new JsonReportWriter(write);
    else if (a.format === "ndjson") {
      streamWriter = new NdjsonReportWriter((line) => {
        out.write(line);
        // One line per verdict as it happens: flush so `| jq` sees it now.
        out.flush();
      });
    }
    const onConnection = (c: Connection) => {
      if (failOn && failOn.has(c.outcome)) failMatches++;
      if (wantEvidence && problem.has(c.outcome)) {
        if (problemConnections.length < MAX_EVIDENCE_CONNECTIONS) problemConnections.push(c);
        else problemConnectionsDropped++;
      }
      if (streamWriter) streamWriter.connection(anonymizer ? anonymizer.anonymizeConnection(c) : c);
      if (timeline) timeline.add(c);
      if (extra.onConnection) extra.onConnection(c);
    };
    let report = await analyzeSource(
      source,
      meta,
      {
        synTimeoutS: a["syn-timeout"],
        maxFlows: a["max-flows"],
        maxExamples: Math.max(a["max-examples"], DEFAULT_MAX_EXAMPLES),
        collectConnections: false,
        onConnection,
        signal: extra.signal,
        onBatch: extra.onBatch,
        onProgress: extra.onProgress,
      },
      { kernelStats: extra.kernelStats },
    );
    if (anonymizer) report = anonymizer.anonymizeReport(report);
    const color = a.format === "text" ? useColor(a, out) : false;
    switch (a.format) {
      case "json":
      case "ndjson":
        streamWriter!.end(report);
        break;
      case "text":
        out.write(renderText(report, { color, maxExamples: a["max-examples"], width: textWidth(out) }));
        break;
      case "markdown":
        out.write(renderMarkdown(report, { maxExamples: a["max-examples"] }));
        break;
      case "html":
        out.write(
          renderHtml(report, { maxExamples: a["max-examples"], timeline: timeline ?? undefined, anonymized: anonymizer ? anonymizer.describe() : null }),
        );
        break;
    }
    out.close();
    return { report, failMatches, problemConnections, problemConnectionsDropped, anonymizer };
  } catch (e) {
    out.abort();
    throw e;
  }
}

function textWidth(out: Output): number {
  if (out.isStdout && process.stdout.isTTY && process.stdout.columns) return Math.max(60, Math.min(160, process.stdout.columns));
  return 100;
}
