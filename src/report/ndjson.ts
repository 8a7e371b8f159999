/**
 * `--format ndjson`: one JSON object per line, for `jq`, log shippers and
 * `tail -f`. A line per connection as soon as its verdict is final:
 *
 *   {"type":"connection", ...the same fields as connections[] in --format json...}
 *
 * then one closing line:
 *
 *   {"type":"summary","destinations":[...],"findings":[...],"source":{...},"flowTable":{...},"options":{...},"tool":{...}}
 *
 * Nothing is kept between lines (constant memory). Each call to `write` gets
 * exactly one complete line, including its trailing "\n", so it can go straight
 * to a stream and be flushed.
 */

import type { Connection } from "../flows/connection.js";
import type { Report } from "./model.js";
import { connectionJsonText, connectionNdjsonBytes, writeSummary } from "./json.js";

export class NdjsonReportWriter {
  private readonly write: (line: string) => void;
  private count = 0;
  private ended = false;

  private readonly writeBytes: ((line: Uint8Array) => void) | null;

  /** `writeBytes`: connection lines go there as UTF-8 bytes (valid during the call) instead of strings. */
  constructor(write: (line: string) => void, opts: { writeBytes?: (line: Uint8Array) => void } = {}) {
    this.write = write;
    this.writeBytes = opts.writeBytes ?? null;
  }

  connection(c: Connection): void {
    if (this.ended) throw new Error("NdjsonReportWriter: connection() after end()");
    // Same text as JSON.stringify({ type: "connection", ...connectionJson(c) }).
    if (this.writeBytes !== null) this.writeBytes(connectionNdjsonBytes(c));
    else this.write('{"type":"connection",' + connectionJsonText(c).slice(1) + "\n");
    this.count++;
  }

  /** Connections written so far. */
  get connections(): number {
    return this.count;
  }

  /** `count` connection lines already as UTF-8 text (flows/native.ts NativeConnectionText); needs writeBytes. */
  connectionsBytes(bytes: Uint8Array, count: number): void {
    if (this.ended) throw new Error("NdjsonReportWriter: connectionsBytes() after end()");
    if (this.writeBytes === null) throw new Error("NdjsonReportWriter: connectionsBytes() needs writeBytes");
    this.writeBytes(bytes);
    this.count += count;
  }

  /** Writes report.connections first when none were streamed (library use), then the summary line. */
  end(report: Report): void {
    if (this.ended) return;
    if (this.count === 0) for (const c of report.connections) this.connection(c);
    this.ended = true;
    // = JSON.stringify({ type: "summary", ...summaryJson(report) }) + "\n", destinations streamed
    writeSummary(this.write, '{"type":"summary",', report);
  }
}

/** The whole NDJSON report as one string (library use; the CLI streams). */
export function renderNdjson(report: Report): string {
  const lines: string[] = [];
  new NdjsonReportWriter((l) => lines.push(l)).end(report);
  return lines.join("");
}
