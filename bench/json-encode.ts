/**
 * The writer thread's work alone: the connections of a capture, encoded once
 * by the flow tracker, decoded and written as JSON (bytes to nowhere), N times.
 *
 *   node dist/bench/json-encode.js FILE [--repeat N]
 */
import { openCapture } from "../src/sources/open.js";
import { analyzeSource } from "../src/analyze.js";
import { ConnectionDecoder, ConnectionEncoder, type ConnectionBatch } from "../src/flows/codec.js";
import { JsonReportWriter } from "../src/report/json.js";
import { Diagnoser } from "../src/diagnose/diagnose.js";

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error("usage: node dist/bench/json-encode.js FILE [--repeat N] [--diagnose]");
  const ri = process.argv.indexOf("--repeat");
  const repeat = ri > 0 ? Math.max(1, Number(process.argv[ri + 1]) || 1) : 3;
  const withDiag = process.argv.includes("--diagnose");
  const enc = new ConnectionEncoder(1 << 18);
  const batches: ConnectionBatch[] = [];
  const src = await openCapture([file]);
  await analyzeSource(src, { files: [file] }, {
    diagnose: false,
    collectConnections: false,
    encoder: enc,
    onEncoded: () => {
      if (enc.size >= 1 << 18) batches.push(enc.take());
    },
  });
  await src.close();
  if (enc.connections > 0) batches.push(enc.take());
  let conns = 0;
  for (const b of batches) conns += b.count;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    let bytes = 0;
    const w = new JsonReportWriter(() => undefined, { batch: true, writeBytes: (b) => (bytes += b.length) });
    const dec = new ConnectionDecoder();
    const diag = withDiag ? new Diagnoser() : null;
    for (const b of batches) {
      dec.decode(b, (c, t) => {
        if (diag) diag.add(c, t);
        w.connection(c);
      });
    }
    w.flushPending();
    const ms = performance.now() - t0;
    process.stdout.write(`${conns} connections, ${(bytes / 1e6).toFixed(1)} MB JSON in ${ms.toFixed(0)} ms: ${((conns / ms) * 1000 / 1e6).toFixed(2)} M conn/s, ${(bytes / 1e3 / ms).toFixed(0)} MB/s\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
