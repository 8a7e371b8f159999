/**
 * What the compiled-vs-JavaScript tests share: generated captures made once
 * per test file, and a capture's connections as connection batches (codec.ts)
 * both as the flow tracker writes them and as ConnectionEncoder.add does.
 */
import { beforeAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { analyze, analyzeSource, type AnalyzeOptions } from "../../src/analyze.js";
import { openCapture } from "../../src/sources/open.js";
import { ConnectionEncoder, type ConnectionBatch } from "../../src/flows/codec.js";
import type { Connection } from "../../src/flows/connection.js";
import { generate } from "../../bench/generate.js";

type Spec = Omit<Parameters<typeof generate>[0], "out">;

/** Captures generated before the file's tests (into a temporary directory removed after them): name -> path. */
export function useGeneratedCaptures(prefix: string, specs: Record<string, Spec>): Record<string, string> {
  const files: Record<string, string> = {};
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    for (const [name, spec] of Object.entries(specs)) {
      files[name] = path.join(dir, `${name}.pcap`);
      generate({ out: files[name]!, truthFile: false, ...spec });
    }
    return () => fs.rmSync(dir, { recursive: true, force: true });
  });
  return files;
}

/** Connections into batches of about `every` numbers, as ConnectionEncoder.add writes them (addresses as text, SYN-ACK TTL unknown). */
export function encodeBatches(conns: readonly Connection[], every = 3000): ConnectionBatch[] {
  const enc = new ConnectionEncoder(64);
  const out: ConnectionBatch[] = [];
  for (const c of conns) {
    enc.add(c);
    if (enc.size > every) out.push(enc.take());
  }
  if (enc.connections > 0) out.push(enc.take());
  return out;
}

/**
 * A capture's connections in batches of about `every` numbers: as the
 * tracker writes them (addresses as words; ladders per `ladderFor`), and the
 * same connections (ladders for all) through ConnectionEncoder.add.
 */
export async function captureBatches(
  file: string,
  opts: { ladderFor?: AnalyzeOptions["ladderFor"]; every?: number } = {},
): Promise<{ tracker: ConnectionBatch[]; objects: ConnectionBatch[]; conns: Connection[] }> {
  const every = opts.every ?? 3000;
  const src = await openCapture([file]);
  const enc = new ConnectionEncoder(64);
  const tracker: ConnectionBatch[] = [];
  try {
    await analyzeSource(src, { files: [file] }, {
      ladderFor: opts.ladderFor,
      diagnose: false,
      collectConnections: false,
      encoder: enc,
      onEncoded: () => {
        if (enc.size > every) tracker.push(enc.take());
      },
    });
  } finally {
    await src.close();
  }
  if (enc.connections > 0) tracker.push(enc.take());
  const conns = (await analyze(file, { ladderFor: "all" })).connections;
  return { tracker, objects: encodeBatches(conns, every), conns };
}
