/**
 * synsent as a library: `import { analyze } from "synsent"`.
 * Every CLI format is rendered from the same `Report` model returned here.
 */
export { analyze, analyzeSource, DEFAULT_MAX_FLOWS, DEFAULT_SYN_TIMEOUT_S } from "./analyze.js";
export type { AnalyzeOptions, Progress, SourceMeta } from "./analyze.js";
export type { Report, SourceSummary, FlowTableStats } from "./report/model.js";
export type {
  Connection,
  Outcome,
  Endpoint,
  RstInfo,
  IcmpInfo,
  HandshakeRtt,
  SynOptions,
  LadderStep,
} from "./flows/connection.js";
export { OUTCOMES, PROBLEM_OUTCOMES } from "./flows/connection.js";
export type { Destination, Finding, DiagnosisKind, Severity, Percentiles } from "./diagnose/types.js";
export { openCapture } from "./sources/open.js";
export type { RecordBatch, RecordSource, ReadStop } from "./sources/record.js";
export { InputError } from "./sources/record.js";
export { renderText } from "./report/text.js";
export { renderMarkdown } from "./report/markdown.js";
export { renderHtml } from "./report/html.js";
export { renderJson, JsonReportWriter } from "./report/json.js";
export { renderNdjson, NdjsonReportWriter } from "./report/ndjson.js";
