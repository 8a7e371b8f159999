/** pcapng: crafted byte-level cases for every block kind, option and kind of damage. */
import { afterAll, describe, expect, it } from "vitest";
import { openFile } from "../../src/sources/open.js";
import { InputError } from "../../src/sources/record.js";
import { Ng, TmpDir, packet, readAll } from "./helpers.js";

const tmp = new TmpDir();
afterAll(() => tmp.cleanup());

const LE = new Ng(true);
const BE = new Ng(false);
const T0 = 1700000000n;
const usec = (sec: bigint, us: bigint) => sec * 1_000_000n + us;

async function openError(path: string): Promise<InputError> {
  const err = await openFile(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe("pcapng blocks", () => {
  it("enhanced packet blocks with the default microsecond resolution", async () => {
    const f = tmp.file(
      "basic.pcapng",
      Buffer.concat([LE.shb(), LE.idb(1), LE.epb(0, usec(T0, 123456n), packet(1)), LE.epb(0, usec(T0 + 1n, 5n), packet(2, 61), { origLen: 1514 })]),
    );
    const src = await openFile(f);
    expect(src.format).toBe("pcapng");
    const recs = await readAll(src);
    expect(recs.map((r) => [r.ts, r.capLen, r.origLen, r.linkType, r.fcsLen])).toEqual([
      ["1700000000.123456000", 60, 60, 1, 0],
      ["1700000001.000005000", 61, 1514, 1, 0],
    ]);
    expect(recs[1]!.hex).toBe(packet(2).subarray(0, 8).toString("hex"));
    expect(src.stopped).toBeNull();
  });

  it("big-endian section reads the same as little-endian", async () => {
    const mk = (ng: Ng) =>
      Buffer.concat([ng.shb(), ng.idb(1, { tsresol: 9 }), ng.epb(0, T0 * 1_000_000_000n + 987654321n, packet(3)), ng.spb(60, packet(4))]);
    const a = await readAll(await openFile(tmp.file("le.pcapng", mk(LE))));
    const b = await readAll(await openFile(tmp.file("be.pcapng", mk(BE))));
    expect(b).toEqual(a);
    expect(a[0]!.ts).toBe("1700000000.987654321");
  });

  it("several sections in different byte orders; each SHB resets the interfaces", async () => {
    const f = tmp.file(
      "sections.pcapng",
      Buffer.concat([
        LE.shb(),
        LE.idb(1),
        LE.idb(113, { tsresol: 9 }),
        LE.epb(1, T0 * 1_000_000_000n + 1n, packet(1)),
        BE.shb(),
        BE.idb(276),
        BE.epb(0, usec(T0, 2n), packet(2)),
        LE.shb(),
        LE.idb(101, { tsresol: 3 }),
        LE.epb(0, T0 * 1000n + 7n, packet(3)),
      ]),
    );
    const recs = await readAll(await openFile(f));
    expect(recs.map((r) => [r.ts, r.linkType])).toEqual([
      ["1700000000.000000001", 113],
      ["1700000000.000002000", 276],
      ["1700000000.007000000", 101],
    ]);
  });

  it("a packet for an interface of the previous section is damage", async () => {
    const shbs = LE.shb().length;
    const f = tmp.file(
      "stale-iface.pcapng",
      Buffer.concat([LE.shb(), LE.idb(1), LE.idb(1), LE.epb(1, 1n, packet(1)), LE.shb(), LE.idb(1), LE.epb(1, 2n, packet(2))]),
    );
    const src = await openFile(f);
    expect((await readAll(src)).length).toBe(1);
    const idb = LE.idb(1).length;
    const epb = LE.epb(1, 1n, packet(1)).length;
    expect(src.stopped).toEqual({
      file: f,
      record: 2,
      offset: shbs + 2 * idb + epb + shbs + idb,
      reason: "packet on interface 1 but the section has 1 interface description block",
    });
  });

  it("several interfaces with different link types in one section", async () => {
    const f = tmp.file(
      "multi-if.pcapng",
      Buffer.concat([LE.shb(), LE.idb(1), LE.idb(113), LE.idb(276, { tsresol: 9 }), LE.epb(2, 5n, packet(1)), LE.epb(0, 6n, packet(2)), LE.epb(1, 7n, packet(3))]),
    );
    const recs = await readAll(await openFile(f));
    expect(recs.map((r) => [r.linkType, r.ts])).toEqual([
      [276, "0.000000005"],
      [1, "0.000006000"],
      [113, "0.000007000"],
    ]);
  });

  it("if_tsresol as a power of 2, and if_tsoffset (as tshark applies it)", async () => {
    // 2^-20 units: half a second is 2^19 units.
    const f = tmp.file(
      "tsresol2.pcapng",
      Buffer.concat([
        LE.shb(),
        LE.idb(1, { tsresol: 0x80 | 20, tsoffset: 1000n }),
        LE.idb(1, { tsresol: 0x80 | 32 }),
        LE.idb(1, { tsresol: 0x80 | 10, tsoffset: -5n }),
        LE.epb(0, (T0 << 20n) + (1n << 19n), packet(1)),
        LE.epb(0, (T0 << 20n) + 1n, packet(2)),
        LE.epb(1, (T0 << 32n) + (1n << 30n), packet(3)),
        LE.epb(2, (T0 << 10n) + 3n, packet(4)),
      ]),
    );
    const recs = await readAll(await openFile(f));
    expect(recs.map((r) => r.ts)).toEqual([
      "1700001000.500000000",
      // floor(1e9 / 2^20) = 953 ns
      "1700001000.000000953",
      "1700000000.250000000",
      // 3/1024 s = 2929687.5 ns, floored
      "1699999995.002929687",
    ]);
  });

  it("decimal resolutions from seconds to picoseconds, and 64-bit nanosecond counts", async () => {
    const f = tmp.file(
      "tsresol10.pcapng",
      Buffer.concat([
        LE.shb(),
        LE.idb(1, { tsresol: 0 }),
        LE.idb(1, { tsresol: 9 }),
        LE.idb(1, { tsresol: 12 }),
        LE.idb(1, { tsresol: 6, tsoffset: -1700000000n }),
        LE.epb(0, T0, packet(1)),
        // 2^53 + 1 ns: beyond exact doubles, must not lose the last nanosecond
        LE.epb(1, 9007199254740993n, packet(2)),
        LE.epb(1, 18446744073709551615n, packet(3)),
        // picoseconds: 2^64 units is only ~213 days
        LE.epb(2, 12345678n * 1_000_000_000_000n + 123456789999n, packet(4)),
        LE.epb(3, usec(T0, 1n), packet(5)),
      ]),
    );
    const recs = await readAll(await openFile(f));
    expect(recs.map((r) => r.ts)).toEqual([
      "1700000000.000000000",
      "9007199.254740993",
      "18446744073.709551615",
      "12345678.123456789",
      "0.000001000",
    ]);
  });

  it("simple packet blocks take their caplen from interface 0's snaplen", async () => {
    const f = tmp.file(
      "spb.pcapng",
      Buffer.concat([LE.shb(), LE.idb(1, { snapLen: 32 }), LE.idb(113), LE.spb(60, packet(1, 32)), LE.spb(20, packet(2, 20))]),
    );
    const recs = await readAll(await openFile(f));
    expect(recs.map((r) => [r.capLen, r.origLen, r.linkType, r.ts])).toEqual([
      [32, 60, 1, "0.000000000"],
      [20, 20, 1, "0.000000000"],
    ]);
  });

  it("a simple packet block without any interface is damage", async () => {
    const f = tmp.file("spb-noif.pcapng", Buffer.concat([LE.shb(), LE.spb(60, packet(1))]));
    const src = await openFile(f);
    expect(await readAll(src)).toEqual([]);
    expect(src.stopped).toEqual({ file: f, record: 1, offset: 28, reason: "simple packet block but the section has no interface description block" });
  });

  it("obsolete packet blocks (type 2)", async () => {
    const f = tmp.file("opb.pcapng", Buffer.concat([LE.shb(), LE.idb(1), LE.idb(105), LE.opb(1, usec(T0, 42n), packet(9))]));
    const recs = await readAll(await openFile(f));
    expect(recs.map((r) => [r.ts, r.linkType, r.capLen])).toEqual([["1700000000.000042000", 105, 60]]);
  });

  it("skips name resolution, statistics, decryption secrets, custom and unknown blocks", async () => {
    const f = tmp.file(
      "other.pcapng",
      Buffer.concat([
        LE.shb(),
        LE.block(4, Buffer.from([1, 0, 4, 0, 127, 0, 0, 1, 0, 0, 0, 0])), // NRB
        LE.idb(1),
        LE.epb(0, 1n, packet(1)),
        LE.block(5, Buffer.alloc(16)), // ISB
        LE.block(0x0a, Buffer.from("secrets!")), // DSB
        LE.block(0x00000bad, Buffer.from("custom block")),
        LE.block(0x40000bad, Buffer.from("custom, do not copy")),
        LE.block(0x12345678, Buffer.alloc(0)),
        LE.epb(0, 2n, packet(2)),
      ]),
    );
    const src = await openFile(f);
    expect((await readAll(src)).map((r) => r.ts)).toEqual(["0.000001000", "0.000002000"]);
    expect(src.stopped).toBeNull();
  });

  it("FCS length from if_fcslen (bits or bytes) and epb_flags", async () => {
    const f = tmp.file(
      "fcs.pcapng",
      Buffer.concat([
        LE.shb(),
        LE.idb(1, { fcslen: 32 }),
        LE.idb(1, { fcslen: 4 }),
        LE.idb(1),
        LE.epb(0, 1n, packet(1, 64)),
        LE.epb(1, 2n, packet(2, 64)),
        LE.epb(2, 3n, packet(3, 64)),
        LE.epb(2, 4n, packet(4, 64), { flags: 4 << 5 }),
        LE.epb(0, 5n, packet(5, 63), { flags: 1 }), // flags without an FCS length keep the interface's
      ]),
    );
    const recs = await readAll(await openFile(f));
    expect(recs.map((r) => r.fcsLen)).toEqual([4, 4, 0, 4, 4]);
    expect(recs[4]!.capLen).toBe(63);
  });

  it("header only (SHB and IDB): no records, no damage", async () => {
    const src = await openFile(tmp.file("nopackets.pcapng", Buffer.concat([LE.shb(), LE.idb(1)])));
    expect(await readAll(src)).toEqual([]);
    expect(src.stopped).toBeNull();
  });
});

describe("pcapng header errors", () => {
  it("truncated section header block", async () => {
    const p = tmp.file("short-shb.pcapng", LE.shb().subarray(0, 20));
    expect((await openError(p)).message).toBe(`${p}: truncated pcapng section header block (20 of 28 bytes) at byte 0`);
    const q = tmp.file("tiny-shb.pcapng", LE.shb().subarray(0, 8));
    expect((await openError(q)).message).toBe(`${q}: truncated pcapng section header block (8 of 28 bytes) at byte 0`);
  });

  it("unknown version in the first section", async () => {
    const p = tmp.file("v2.pcapng", Buffer.concat([LE.shb({ major: 2 }), LE.idb(1)]));
    const e = await openError(p);
    expect(e.message).toBe(`${p}: unsupported pcapng version 2.0 at byte 12`);
    expect(e.offset).toBe(12);
  });

  it("bad byte-order magic", async () => {
    const shb = LE.shb();
    shb.writeUInt32LE(0x11223344, 8);
    const p = tmp.file("bom.pcapng", shb);
    expect((await openError(p)).message).toBe(`${p}: unreadable pcapng section header: bad section header byte-order magic 0x11223344 at byte 0`);
  });
});

describe("pcapng damage", () => {
  const head = Buffer.concat([LE.shb(), LE.idb(1), LE.epb(0, 1n, packet(1))]);
  const at = head.length;

  async function damaged(name: string, tail: Buffer): Promise<{ n: number; stopped: unknown; file: string }> {
    const file = tmp.file(name, Buffer.concat([head, tail]));
    const src = await openFile(file);
    const n = (await readAll(src)).length;
    return { n, stopped: src.stopped, file };
  }

  it("block length not a multiple of 4", async () => {
    const { n, stopped, file } = await damaged("len-mod4.pcapng", LE.epb(0, 2n, packet(2), { len: 94 }));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "bad block length 94 (not a multiple of 4)" });
  });

  it("trailing length does not match", async () => {
    const { n, stopped, file } = await damaged("trailer.pcapng", LE.epb(0, 2n, packet(2), { trailer: 96 }));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "trailing block length 96 does not match leading length 92" });
  });

  it("zero block length", async () => {
    const { n, stopped, file } = await damaged("zero.pcapng", LE.epb(0, 2n, packet(2), { len: 0 }));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "bad block length 0 (less than the minimum 12)" });
  });

  it("huge block length: damage, not an allocation", async () => {
    const { n, stopped, file } = await damaged("huge.pcapng", LE.epb(0, 2n, packet(2), { len: 0xfffffff0 }));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "bad block length 4294967280 (bigger than the maximum 268435456)" });
  });

  it("block length within the maximum but past the end of the file", async () => {
    const { n, stopped, file } = await damaged("past-eof.pcapng", LE.epb(0, 2n, packet(2), { len: 0x01000000 }));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "truncated block: 92 of 16777216 bytes" });
  });

  it("a big block length past the end of a file is found without buffering the rest of the file", async () => {
    const file = tmp.file("past-eof-big.pcapng", Buffer.concat([head, LE.epb(0, 2n, packet(2), { len: 0x01000000 }), Buffer.alloc(100_000)]));
    const src = await openFile(file, { chunkBytes: 4096 });
    expect((await readAll(src)).length).toBe(1);
    expect(src.stopped).toEqual({ file, record: 2, offset: at, reason: "truncated block: 100092 of 16777216 bytes" });
  });

  it("file cut in the middle of the last block (capture killed)", async () => {
    const { n, stopped, file } = await damaged("cut.pcapng", LE.epb(0, 2n, packet(2)).subarray(0, 50));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "truncated block: 50 of 92 bytes" });
  });

  it("file cut inside a block header", async () => {
    const { n, stopped, file } = await damaged("cut-header.pcapng", LE.epb(0, 2n, packet(2)).subarray(0, 5));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "truncated block header (5 of 12 bytes)" });
  });

  it("caplen bigger than its block", async () => {
    const { n, stopped, file } = await damaged("caplen-block.pcapng", LE.epb(0, 2n, packet(2), { capLen: 61 }));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "packet block of 92 bytes cannot hold caplen 61" });
  });

  it("enhanced packet block referencing a missing interface", async () => {
    const { n, stopped, file } = await damaged("noif.pcapng", LE.epb(3, 2n, packet(2)));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "packet on interface 3 but the section has 1 interface description block" });
  });

  it("enhanced packet block too short to have a header", async () => {
    const { n, stopped, file } = await damaged("short-epb.pcapng", LE.block(6, Buffer.alloc(8)));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "enhanced packet block too short (20 bytes)" });
  });

  it("a later section with an unknown version", async () => {
    const { n, stopped, file } = await damaged("v9.pcapng", Buffer.concat([LE.shb({ major: 9, minor: 1 }), LE.idb(1), LE.epb(0, 3n, packet(3))]));
    expect(n).toBe(1);
    expect(stopped).toEqual({ file, record: 2, offset: at, reason: "unsupported pcapng version 9.1" });
  });

  it("damage after many records spread over chunks and batches", async () => {
    const parts = [LE.shb(), LE.idb(1)];
    let offset = parts[0]!.length + parts[1]!.length;
    for (let i = 0; i < 40; i++) {
      const b = LE.epb(0, BigInt(i), packet(i, 100 + i));
      parts.push(b);
      offset += b.length;
    }
    parts.push(LE.epb(0, 99n, packet(99), { trailer: 4 }));
    const file = tmp.file("late-damage.pcapng", Buffer.concat(parts));
    const src = await openFile(file, { chunkBytes: 512, batchRecords: 6 });
    const recs = await readAll(src, 6);
    expect(recs.length).toBe(40);
    expect(recs.map((r) => r.capLen)).toEqual(Array.from({ length: 40 }, (_, i) => 100 + i));
    expect(src.stopped).toEqual({ file, record: 41, offset, reason: "trailing block length 4 does not match leading length 92" });
  });
});

describe("pcapng chunking", () => {
  it("blocks straddling chunk boundaries and blocks bigger than a chunk read the same at any chunk size", async () => {
    const parts = [LE.shb(), LE.idb(1), LE.idb(113, { tsresol: 9 }), LE.block(4, Buffer.alloc(3000))];
    const sizes = [60, 1514, 7, 0, 9000, 333, 65535, 54, 1, 2048];
    for (let i = 0; i < 150; i++) {
      const data = packet(i, sizes[i % sizes.length]!);
      parts.push(i % 3 === 0 ? LE.spb(data.length, data) : LE.epb(i % 2, BigInt(i * 1000), data));
      if (i % 17 === 0) parts.push(LE.block(5, Buffer.alloc(40)));
    }
    const f = tmp.file("chunks.pcapng", Buffer.concat(parts));
    const whole = await readAll(await openFile(f));
    expect(whole.length).toBe(150);
    for (const chunkBytes of [256, 1000, 4096, 70000]) {
      const src = await openFile(f, { chunkBytes, batchRecords: 5 });
      expect(await readAll(src, 5)).toEqual(whole);
      expect(src.stopped).toBeNull();
    }
  });
});
