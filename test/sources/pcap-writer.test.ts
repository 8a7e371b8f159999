import { openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openFile } from "../../src/sources/open.js";
import { PcapWriter } from "../../src/sources/pcap-writer.js";
import { FIXTURES, TmpDir, hasTool, readAll, tsharkFrames } from "./helpers.js";

const tmp = new TmpDir();
afterAll(() => tmp.cleanup());

describe("PcapWriter", () => {
  it("rewrites tcpdump's nanosecond capture byte for byte (tshark agrees)", async () => {
    const src = await openFile(FIXTURES + "lo-nsec.pcap");
    const out = join(tmp.path, "copy-ns.pcap");
    const w = PcapWriter.create(out, { linkType: 1, nano: true, bufferBytes: 1 }); // tiny buffer: many flushes
    for (let b = await src.next(); b; b = await src.next()) for (let i = 0; i < b.count; i++) w.writeRecord(b, i);
    w.close();
    w.close();
    expect(w.records).toBe(32);
    const original = await readAll(await openFile(FIXTURES + "lo-nsec.pcap"));
    const copy = await readAll(await openFile(out));
    expect(copy).toEqual(original);
    // Same header fields as tcpdump writes (2.4, snaplen 262144): byte for byte the same file.
    expect(readFileSync(out).equals(readFileSync(FIXTURES + "lo-nsec.pcap"))).toBe(true);
    if (hasTool("tshark")) expect(tsharkFrames(out)).toEqual(tsharkFrames(FIXTURES + "lo-nsec.pcap"));
  });

  it("microsecond files truncate nanoseconds, record FCS length and honour snaplen in the header", async () => {
    const out = join(tmp.path, "us.pcap");
    const fd = openSync(out, "w");
    const w = new PcapWriter(fd, { linkType: 113, fcsLen: 4, snapLen: 96 }, true);
    const data = Buffer.from("0123456789abcdef0123456789abcdef");
    w.write(data, 4, 20, 1500, 1700000000, 123456789);
    w.write(new Uint8Array(data), 0, 32, 32, 1700000001, 999);
    w.close();
    const hdr = readFileSync(out);
    expect(hdr.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(hdr.readUInt32LE(16)).toBe(96);
    const recs = await readAll(await openFile(out));
    expect(recs.map((r) => [r.ts, r.capLen, r.origLen, r.linkType, r.fcsLen])).toEqual([
      ["1700000000.123456000", 20, 1500, 113, 4],
      ["1700000001.000000000", 32, 32, 113, 4],
    ]);
    expect(recs[0]!.hex).toBe(Buffer.from("456789ab").toString("hex"));
    expect(w.bytesWritten).toBe(24 + 16 + 20 + 16 + 32);
  });

  it("refuses writes after close", () => {
    const w = PcapWriter.create(join(tmp.path, "closed.pcap"), { linkType: 1 });
    w.close();
    expect(() => w.write(Buffer.alloc(1), 0, 1, 1, 0, 0)).toThrow(/after close/);
  });
});
