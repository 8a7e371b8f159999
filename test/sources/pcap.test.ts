/** Classic pcap: crafted byte-level cases, including every kind of damage. */
import { afterAll, describe, expect, it } from "vitest";
import { openFile } from "../../src/sources/open.js";
import { InputError } from "../../src/sources/record.js";
import { TmpDir, packet, pcapHeader, pcapRecord, readAll } from "./helpers.js";

const tmp = new TmpDir();
afterAll(() => tmp.cleanup());

/** Record i (0-based) of a file whose records are all `size` bytes of data. */
const recOffset = (i: number, size = 60) => 24 + i * (16 + size);

async function expectInputError(path: string, message: string): Promise<void> {
  const err = await openFile(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).message).toBe(message);
}

describe("pcap headers", () => {
  it("reads little-endian microsecond records", async () => {
    const f = tmp.file(
      "le-usec.pcap",
      Buffer.concat([pcapHeader(), pcapRecord(1700000000, 123456, packet(1)), pcapRecord(1700000001, 999999, packet(2, 100))]),
    );
    const src = await openFile(f);
    expect(src.format).toBe("pcap");
    const recs = await readAll(src);
    expect(recs).toEqual([
      { ts: "1700000000.123456000", capLen: 60, origLen: 60, linkType: 1, fcsLen: 0, hex: packet(1).subarray(0, 8).toString("hex") },
      { ts: "1700000001.999999000", capLen: 100, origLen: 100, linkType: 1, fcsLen: 0, hex: packet(2).subarray(0, 8).toString("hex") },
    ]);
    expect(src.stopped).toBeNull();
    expect(src.bytesRead).toBe(24 + 76 + 116);
    expect(src.totalBytes).toBe(24 + 76 + 116);
    await src.close();
    await src.close(); // twice is safe
  });

  it("reads big-endian microsecond and nanosecond files the same as little-endian ones", async () => {
    for (const nano of [false, true]) {
      const frac = nano ? 123456789 : 123456;
      const le = tmp.file(`le-${nano}.pcap`, Buffer.concat([pcapHeader({ nano }), pcapRecord(1700000000, frac, packet(7), { origLen: 1500 })]));
      const be = tmp.file(
        `be-${nano}.pcap`,
        Buffer.concat([pcapHeader({ nano, le: false }), pcapRecord(1700000000, frac, packet(7), { le: false, origLen: 1500 })]),
      );
      const a = await readAll(await openFile(le));
      const b = await readAll(await openFile(be));
      expect(b).toEqual(a);
      expect(a[0]!.ts).toBe(nano ? "1700000000.123456789" : "1700000000.123456000");
      expect(a[0]!.origLen).toBe(1500);
    }
  });

  it("takes the FCS length out of the link-type field (libpcap LT_FCS_* bits)", async () => {
    // LT_FCS_DATALINK_EXT(2): two 16-bit words of FCS, present flag, LINKTYPE_ETHERNET.
    const f = tmp.file("fcs.pcap", Buffer.concat([pcapHeader({ linkType: 0x24000001 }), pcapRecord(1, 0, packet(1, 64))]));
    const src = await openFile(f);
    const recs = await readAll(src);
    expect(recs[0]!.linkType).toBe(1);
    expect(recs[0]!.fcsLen).toBe(4);
    // Reserved bits without the present flag are not an FCS length.
    const g = tmp.file("reserved.pcap", Buffer.concat([pcapHeader({ linkType: 0x00010071 }), pcapRecord(1, 0, packet(1))]));
    const r2 = await readAll(await openFile(g));
    expect(r2[0]!.linkType).toBe(113);
    expect(r2[0]!.fcsLen).toBe(0);
  });

  it("empty file is not a capture", async () => {
    await expectInputError(tmp.file("empty.pcap", Buffer.alloc(0)), `${tmp.path}/empty.pcap: empty file, not a pcap or pcapng file at byte 0`);
  });

  it("text file is not a capture, and the message shows its first bytes", async () => {
    await expectInputError(
      tmp.file("trace.txt", Buffer.from("HTTP/1.1 200 OK\r\n")),
      `${tmp.path}/trace.txt: not a pcap or pcapng file (first bytes 48 54 54 50) at byte 0`,
    );
  });

  it("truncated file header", async () => {
    await expectInputError(
      tmp.file("short-header.pcap", pcapHeader().subarray(0, 10)),
      `${tmp.path}/short-header.pcap: truncated pcap file header (10 of 24 bytes) at byte 0`,
    );
    await expectInputError(tmp.file("magic-only.pcap", pcapHeader().subarray(0, 2)), `${tmp.path}/magic-only.pcap: truncated file header (2 bytes) at byte 0`);
  });

  it("unsupported version", async () => {
    await expectInputError(tmp.file("v1.pcap", pcapHeader({ major: 1 })), `${tmp.path}/v1.pcap: unsupported pcap version 1.4 at byte 4`);
  });

  it("missing file and directory", async () => {
    await expectInputError(`${tmp.path}/nope.pcap`, `${tmp.path}/nope.pcap: no such file`);
    await expectInputError(tmp.path, `${tmp.path}: is a directory, not a capture file`);
  });

  it("header only: no records, no damage", async () => {
    const src = await openFile(tmp.file("header-only.pcap", pcapHeader()));
    expect(await readAll(src)).toEqual([]);
    expect(src.stopped).toBeNull();
  });
});

describe("pcap damage", () => {
  const two = Buffer.concat([pcapHeader(), pcapRecord(10, 1, packet(1)), pcapRecord(11, 2, packet(2))]);

  it("truncated record header: the records before it are yielded", async () => {
    const f = tmp.file("trunc-rechdr.pcap", Buffer.concat([two, Buffer.alloc(7)]));
    const src = await openFile(f);
    const recs = await readAll(src);
    expect(recs.map((r) => r.ts)).toEqual(["10.000001000", "11.000002000"]);
    expect(src.stopped).toEqual({ file: f, record: 3, offset: recOffset(2), reason: "truncated record header (7 of 16 bytes)" });
  });

  it("truncated record body (tcpdump killed mid-write)", async () => {
    const f = tmp.file("trunc-body.pcap", Buffer.concat([two, pcapRecord(12, 3, packet(3)).subarray(0, 16 + 20)]));
    const src = await openFile(f);
    expect((await readAll(src)).length).toBe(2);
    expect(src.stopped).toEqual({ file: f, record: 3, offset: recOffset(2), reason: "truncated record: caplen 60 but only 20 bytes of packet data" });
  });

  it("hostile caplen: damage, not an allocation", async () => {
    const f = tmp.file("huge-caplen.pcap", Buffer.concat([two, pcapRecord(12, 3, packet(3), { capLen: 0xfffffff0 })]));
    const src = await openFile(f);
    expect((await readAll(src)).length).toBe(2);
    expect(src.stopped).toEqual({
      file: f,
      record: 3,
      offset: recOffset(2),
      reason: "invalid caplen 4294967280, bigger than the maximum 262144 for link type 1",
    });
  });

  it("caplen just above the maximum, past the end of the file", async () => {
    const f = tmp.file("caplen-max.pcap", Buffer.concat([pcapHeader(), pcapRecord(1, 0, packet(1), { capLen: 262145 })]));
    const src = await openFile(f);
    expect(await readAll(src)).toEqual([]);
    expect(src.stopped?.record).toBe(1);
    expect(src.stopped?.offset).toBe(24);
  });

  it("caplen within the maximum but past the end of the file is a truncated record", async () => {
    const f = tmp.file("caplen-eof.pcap", Buffer.concat([two, pcapRecord(12, 3, packet(3), { capLen: 200000 })]));
    const src = await openFile(f, { chunkBytes: 4096 });
    expect((await readAll(src)).length).toBe(2);
    expect(src.stopped).toEqual({ file: f, record: 3, offset: recOffset(2), reason: "truncated record: caplen 200000 but only 60 bytes of packet data" });
  });

  it("caplen > origLen and caplen > snaplen are kept as the file says (as libpcap and Wireshark read them)", async () => {
    const f = tmp.file(
      "lying.pcap",
      Buffer.concat([pcapHeader({ snapLen: 64 }), pcapRecord(1, 0, packet(1, 60), { origLen: 40 }), pcapRecord(2, 0, packet(2, 100))]),
    );
    const src = await openFile(f);
    const recs = await readAll(src);
    expect(recs.map((r) => [r.capLen, r.origLen])).toEqual([
      [60, 40],
      [100, 100],
    ]);
    expect(src.stopped).toBeNull();
  });

  it("a microsecond field of a second or more carries into the seconds", async () => {
    const f = tmp.file("usec-overflow.pcap", Buffer.concat([pcapHeader(), pcapRecord(5, 2_500_000, packet(1))]));
    expect((await readAll(await openFile(f)))[0]!.ts).toBe("7.500000000");
  });

  it("damage in a later batch: earlier batches are complete, stop counts every record", async () => {
    const parts = [pcapHeader()];
    for (let i = 0; i < 25; i++) parts.push(pcapRecord(100 + i, 0, packet(i)));
    parts.push(Buffer.alloc(3));
    const f = tmp.file("many.pcap", Buffer.concat(parts));
    const src = await openFile(f, { batchRecords: 4, chunkBytes: 300 });
    const recs = await readAll(src, 4);
    expect(recs.length).toBe(25);
    expect(recs[24]!.ts).toBe("124.000000000");
    expect(src.stopped).toEqual({ file: f, record: 26, offset: recOffset(25), reason: "truncated record header (3 of 16 bytes)" });
  });
});

describe("pcap chunking", () => {
  it("records straddling chunk boundaries and records bigger than a chunk read the same at any chunk size", async () => {
    const parts = [pcapHeader()];
    const sizes = [60, 1514, 7, 0, 9000, 333, 65535, 54, 1, 2048];
    for (let i = 0; i < 200; i++) parts.push(pcapRecord(1000 + i, i * 1000, packet(i, sizes[i % sizes.length]!)));
    const f = tmp.file("chunks.pcap", Buffer.concat(parts));
    const whole = await readAll(await openFile(f));
    expect(whole.length).toBe(200);
    for (const chunkBytes of [256, 1000, 4096, 70000]) {
      const src = await openFile(f, { chunkBytes, batchRecords: 7 });
      expect(await readAll(src, 7)).toEqual(whole);
      expect(src.stopped).toBeNull();
    }
  });

  it("both byte orders give every record of every batch its fields, FCS length and link type included", async () => {
    // The link type and FCS length are written into the reused batch once per
    // file, and each byte order has its own record loop: check all records of
    // several batches, and chunk boundaries in the middle of records.
    const sizes = [60, 1514, 7, 0, 333, 54];
    const read = async (le: boolean, nano: boolean) => {
      const parts = [pcapHeader({ le, nano, linkType: 0x24000001 })];
      for (let i = 0; i < 50; i++) parts.push(pcapRecord(1000 + i, nano ? i * 7_000_001 : i * 7001, packet(i, sizes[i % sizes.length]!), { le, origLen: 2000 + i }));
      const f = tmp.file(`orders-${le}-${nano}.pcap`, Buffer.concat(parts));
      const src = await openFile(f, { chunkBytes: 700, batchRecords: 6 });
      const recs = await readAll(src, 6);
      expect(src.stopped).toBeNull();
      return recs;
    };
    for (const nano of [false, true]) {
      const le = await read(true, nano);
      expect(le.length).toBe(50);
      expect(await read(false, nano)).toEqual(le);
      le.forEach((r, i) => {
        expect(r).toEqual({
          ts: `${1000 + i}.${String(nano ? i * 7_000_001 : i * 7_001_000).padStart(9, "0")}`,
          capLen: sizes[i % sizes.length],
          origLen: 2000 + i,
          linkType: 1,
          fcsLen: 4,
          hex: packet(i, sizes[i % sizes.length]!).subarray(0, 8).toString("hex"),
        });
      });
    }
  });

  it("reuses the batch arrays between next() calls", async () => {
    const parts = [pcapHeader()];
    for (let i = 0; i < 20; i++) parts.push(pcapRecord(i, 0, packet(i)));
    const src = await openFile(tmp.file("reuse.pcap", Buffer.concat(parts)), { batchRecords: 8 });
    const a = await src.next();
    const offsetArray = a!.offset;
    const tsArray = a!.tsSec;
    const b = await src.next();
    expect(b).toBe(a);
    expect(b!.offset).toBe(offsetArray);
    expect(b!.tsSec).toBe(tsArray);
    expect(b!.count).toBe(8);
    expect(b!.tsSec[0]).toBe(8);
  });
});
