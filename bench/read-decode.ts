/**
 * Reading and decoding alone (no flow tracking): how fast the sources and
 * decode stages turn a capture file into decoded packets.
 *
 *   node dist/bench/read-decode.js FILE [--repeat N]
 *
 * Prints records/s and MB/s per run (file size over wall time), and the
 * packet kinds, so the figure can be checked against tshark's counts.
 */
import * as fs from "node:fs";
import { openCapture } from "../src/sources/open.js";
import { decodePacket } from "../src/decode/decode.js";
import { Kind, PacketView } from "../src/decode/packet.js";

async function once(file: string): Promise<{ records: number; tcp: number; ms: number }> {
  const t0 = performance.now();
  const src = await openCapture([file]);
  const view = new PacketView();
  let records = 0;
  let tcp = 0;
  for (;;) {
    const b = await src.next();
    if (!b) break;
    for (let i = 0; i < b.count; i++) {
      if (decodePacket(view, b.data, b.offset[i], b.capLen[i], b.origLen[i], b.linkType[i], b.fcsLen[i]) === Kind.TCP) tcp++;
    }
    records += b.count;
  }
  await src.close();
  return { records, tcp, ms: performance.now() - t0 };
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node dist/bench/read-decode.js FILE [--repeat N]\n");
    process.exit(2);
  }
  const ri = process.argv.indexOf("--repeat");
  const repeat = ri > 0 ? Math.max(1, Number(process.argv[ri + 1]) || 1) : 1;
  const bytes = fs.statSync(file).size;
  for (let r = 0; r < repeat; r++) {
    const { records, tcp, ms } = await once(file);
    const s = ms / 1000;
    process.stdout.write(
      `read+decode ${file}: ${records} records (${tcp} TCP), ${(bytes / 1e6).toFixed(1)} MB in ${s.toFixed(3)} s = ${(records / s / 1e6).toFixed(2)} M records/s, ${(bytes / 1e6 / s).toFixed(0)} MB/s\n`,
    );
  }
}

main().catch((e) => {
  process.stderr.write(`read-decode: ${(e as Error).message}\n`);
  process.exit(1);
});
