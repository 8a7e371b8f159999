/**
 * Reading and decoding alone (no flow tracking): how fast the sources and
 * decode stages turn a capture file into decoded packets.
 *
 *   node dist/bench/read-decode.js FILE [--repeat N] [--decode-only] [--read-only]
 *
 * Prints records/s and MB/s per run (file size over wall time), and the
 * packet kinds, so the figure can be checked against tshark's counts; after
 * several runs, the median.
 *
 * --read-only: the source alone (no decodePacket).
 * --decode-only: the records (first 2 M at most) are read into memory once,
 *   then only decodePacket is timed over them: steadier than the whole path
 *   on a shared machine, since no file reads wait on the thread pool.
 */
import * as fs from "node:fs";
import { openCapture } from "../src/sources/open.js";
import { decodePacket } from "../src/decode/decode.js";
import { Kind, PacketView } from "../src/decode/packet.js";
import type { RecordBatch } from "../src/sources/record.js";

async function once(file: string, decode: boolean): Promise<{ records: number; tcp: number; ms: number }> {
  const t0 = performance.now();
  const src = await openCapture([file]);
  const view = new PacketView();
  let records = 0;
  let tcp = 0;
  for (;;) {
    const b = await src.next();
    if (!b) break;
    if (decode) {
      for (let i = 0; i < b.count; i++) {
        if (decodePacket(view, b.data, b.offset[i]!, b.capLen[i]!, b.origLen[i]!, b.linkType[i]!, b.fcsLen[i]!) === Kind.TCP) tcp++;
      }
    }
    records += b.count;
  }
  await src.close();
  return { records, tcp, ms: performance.now() - t0 };
}

/** Records held in memory: the RecordBatch fields decodePacket reads, n of them. */
type Loaded = Pick<RecordBatch, "data" | "offset" | "capLen" | "origLen" | "linkType" | "fcsLen"> & { n: number };

async function load(file: string, max: number): Promise<Loaded> {
  const src = await openCapture([file]);
  const chunks: Uint8Array[] = [];
  const offset = new Uint32Array(max);
  const capLen = new Uint32Array(max);
  const origLen = new Uint32Array(max);
  const linkType = new Uint32Array(max);
  const fcsLen = new Uint8Array(max);
  let n = 0;
  let bytes = 0;
  for (;;) {
    const b = await src.next();
    if (!b || n === max) break;
    for (let i = 0; i < b.count && n < max; i++, n++) {
      const o = b.offset[i]!;
      chunks.push(Uint8Array.prototype.slice.call(b.data, o, o + b.capLen[i]!)); // a copy (Buffer#slice is a view)
      offset[n] = bytes;
      capLen[n] = b.capLen[i]!;
      origLen[n] = b.origLen[i]!;
      linkType[n] = b.linkType[i]!;
      fcsLen[n] = b.fcsLen[i]!;
      bytes += b.capLen[i]! + 16; // keep the record-header gap of a real batch
    }
  }
  await src.close();
  const data = new Uint8Array(bytes);
  for (let i = 0; i < n; i++) data.set(chunks[i]!, offset[i]!);
  return { n, data, offset, capLen, origLen, linkType, fcsLen };
}

function decodeAll(L: Loaded, view: PacketView): number {
  let tcp = 0;
  const { n, data, offset, capLen, origLen, linkType, fcsLen } = L;
  for (let i = 0; i < n; i++) {
    if (decodePacket(view, data, offset[i]!, capLen[i]!, origLen[i]!, linkType[i]!, fcsLen[i]!) === Kind.TCP) tcp++;
  }
  return tcp;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node dist/bench/read-decode.js FILE [--repeat N] [--decode-only] [--read-only]\n");
    process.exit(2);
  }
  const ri = process.argv.indexOf("--repeat");
  const repeat = ri > 0 ? Math.max(1, Number(process.argv[ri + 1]) || 1) : 1;
  const bytes = fs.statSync(file).size;
  const rates: number[] = [];
  if (process.argv.includes("--decode-only")) {
    const L = await load(file, 2_000_000);
    const view = new PacketView();
    decodeAll(L, view); // warm up
    for (let r = 0; r < repeat; r++) {
      const t0 = performance.now();
      const tcp = decodeAll(L, view);
      const ms = performance.now() - t0;
      rates.push(L.n / ms / 1e3);
      process.stdout.write(`decode only: ${L.n} records (${tcp} TCP) in ${ms.toFixed(1)} ms = ${((ms * 1e6) / L.n).toFixed(1)} ns/record, ${(L.n / ms / 1e3).toFixed(2)} M records/s\n`);
    }
  } else {
    const decode = !process.argv.includes("--read-only");
    const what = decode ? "read+decode" : "read";
    for (let r = 0; r < repeat; r++) {
      const { records, tcp, ms } = await once(file, decode);
      const s = ms / 1000;
      rates.push(records / s / 1e6);
      process.stdout.write(
        `${what} ${file}: ${records} records (${tcp} TCP), ${(bytes / 1e6).toFixed(1)} MB in ${s.toFixed(3)} s = ${(records / s / 1e6).toFixed(2)} M records/s, ${(bytes / 1e6 / s).toFixed(0)} MB/s\n`,
      );
    }
  }
  if (repeat > 1) {
    process.stdout.write(`median of ${repeat}: ${median(rates).toFixed(2)} M records/s (best ${Math.max(...rates).toFixed(2)})\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`read-decode: ${(e as Error).message}\n`);
  process.exit(1);
});
