/**
 * Files made by real tools (test/fixtures/sources/make.sh: tcpdump, dumpcap,
 * editcap, mergecap, gzip, all on loopback), compared record by record with
 * tshark when it is installed. Also stdin, gzip damage and merging.
 */
import { readFileSync } from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { openCapture, openFile } from "../../src/sources/open.js";
import { InputError } from "../../src/sources/record.js";
import { FIXTURES, Ng, TmpDir, hasTool, readAll, tsharkFrames, type Rec } from "./helpers.js";

const tmp = new TmpDir();
afterAll(() => tmp.cleanup());
const TSHARK = hasTool("tshark");

const fx = (name: string) => FIXTURES + name;

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;

// file, format, records, link types present
const FILES: [string, string, number, number[]][] = [
  ["lo-usec.pcap", "pcap", 32, [LINKTYPE_ETHERNET]], // tcpdump -w
  ["lo-nsec.pcap", "pcap", 32, [LINKTYPE_ETHERNET]], // tcpdump --time-stamp-precision=nano
  ["lo-snap60.pcap", "pcap", 32, [LINKTYPE_ETHERNET]], // tcpdump -s 60
  ["any-sll.pcap", "pcap", 32, [LINKTYPE_LINUX_SLL]], // tcpdump -i any
  ["any-sll2.pcap", "pcap", 32, [LINKTYPE_LINUX_SLL2]], // tcpdump -i any -y LINUX_SLL2
  ["lo.pcapng", "pcapng", 32, [LINKTYPE_ETHERNET]], // dumpcap
  ["lo-any.pcapng", "pcapng", 64, [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL]], // dumpcap -i lo -i any
  ["from-pcap.pcapng", "pcapng", 32, [LINKTYPE_ETHERNET]], // editcap -F pcapng
  ["from-pcapng.pcap", "pcap", 32, [LINKTYPE_ETHERNET]], // editcap -F pcap
  ["editcap-nsec.pcap", "pcap", 32, [LINKTYPE_ETHERNET]], // editcap -F nsecpcap
  ["modified.pcap", "pcap", 32, [LINKTYPE_ETHERNET]], // editcap -F modpcap
  ["merged-linktypes.pcapng", "pcapng", 64, [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL]], // mergecap -F pcapng
  ["lo-usec.pcap.gz", "pcap", 32, [LINKTYPE_ETHERNET]], // gzip
  ["lo.pcapng.gz", "pcapng", 32, [LINKTYPE_ETHERNET]], // gzip
];

const line = (r: Rec) => `${r.ts} ${r.capLen} ${r.origLen}`;

describe("files made by real tools", () => {
  for (const [name, format, count, linkTypes] of FILES) {
    it(`${name}: ${count} records${TSHARK ? ", same timestamps and lengths as tshark" : ""}`, async () => {
      const src = await openFile(fx(name));
      expect(src.format).toBe(format);
      const recs = await readAll(src);
      expect(src.stopped).toBeNull();
      expect(recs.length).toBe(count);
      expect([...new Set(recs.map((r) => r.linkType))].sort((a, b) => a - b)).toEqual(linkTypes);
      if (TSHARK) expect(recs.map(line)).toEqual(tsharkFrames(fx(name)));
      if (name.endsWith(".gz")) {
        expect(src.bytesRead).toBe(readFileSync(fx(name)).length);
        expect(src.totalBytes).toBe(readFileSync(fx(name)).length);
      }
    });
  }

  it("nanosecond tcpdump and microsecond tcpdump saw the same packets", async () => {
    const us = await readAll(await openFile(fx("lo-usec.pcap")));
    const ns = await readAll(await openFile(fx("lo-nsec.pcap")));
    expect(ns.length).toBe(us.length);
    expect(ns.some((r) => !r.ts.endsWith("000"))).toBe(true);
    // Same packets, each nanosecond stamp within a microsecond or so of the other capture's.
    for (let i = 0; i < us.length; i++) {
      expect(ns[i]!.capLen).toBe(us[i]!.capLen);
      expect(Math.abs(Number(ns[i]!.ts) - Number(us[i]!.ts))).toBeLessThan(0.01);
    }
  });

  it("snaplen 60 gives caplen < origLen", async () => {
    const recs = await readAll(await openFile(fx("lo-snap60.pcap")));
    expect(recs.every((r) => r.capLen <= 60)).toBe(true);
    expect(recs.some((r) => r.capLen < r.origLen)).toBe(true);
  });

  it("a real capture cut mid-record (tcpdump killed): every whole record, then damage of the last", async () => {
    const bytes = readFileSync(fx("lo-usec.pcap"));
    const whole = await readAll(await openFile(fx("lo-usec.pcap")));
    const f = tmp.file("killed.pcap", bytes.subarray(0, bytes.length - 10));
    const src = await openFile(f);
    const recs = await readAll(src);
    expect(recs).toEqual(whole.slice(0, 31));
    const last = whole[31]!;
    expect(src.stopped).toEqual({
      file: f,
      record: 32,
      offset: bytes.length - 16 - last.capLen,
      reason: `truncated record: caplen ${last.capLen} but only ${last.capLen - 10} bytes of packet data`,
    });
  });

  it("a real pcapng cut mid-block", async () => {
    const bytes = readFileSync(fx("lo.pcapng"));
    const whole = await readAll(await openFile(fx("lo.pcapng")));
    const f = tmp.file("killed.pcapng", bytes.subarray(0, bytes.length - 1));
    const src = await openFile(f);
    const recs = await readAll(src);
    // dumpcap ends with a statistics block: losing its last byte loses no packet.
    expect(recs).toEqual(whole);
    expect(src.stopped?.record).toBe(33);
    expect(src.stopped?.reason).toMatch(/^truncated block: \d+ of \d+ bytes$/);
  });
});

describe("stdin", () => {
  /** A stream delivering `bytes` in awkward pieces. */
  function pieces(bytes: Buffer, size: number): Readable {
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
    return Readable.from(parts);
  }

  for (const name of ["lo-usec.pcap", "lo.pcapng", "lo-usec.pcap.gz", "lo.pcapng.gz"]) {
    it(`"-" reads ${name} from stdin, detected by content`, async () => {
      const expected = await readAll(await openFile(fx(name)));
      const src = await openFile("-", { stdin: pieces(readFileSync(fx(name)), 7) });
      expect(src.name).toBe("-");
      expect(src.totalBytes).toBeNull();
      expect(await readAll(src)).toEqual(expected);
      expect(src.stopped).toBeNull();
      expect(src.bytesRead).toBe(readFileSync(fx(name)).length);
    });
  }

  it("openCapture(['-']) is stdin too, and a text stream is an InputError", async () => {
    const src = await openCapture(["-"], { stdin: pieces(readFileSync(fx("lo.pcapng")), 1000) });
    expect((await readAll(src)).length).toBe(32);
    const err = await openCapture(["-"], { stdin: Readable.from([Buffer.from("GET / HTTP/1.1\r\n")]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe("-: not a pcap or pcapng file (first bytes 47 45 54 20) at byte 0");
  });

  it("a hostile block length on a stream costs only the bytes that really arrive", async () => {
    const ng = new Ng();
    const head = Buffer.concat([ng.shb(), ng.idb(1), ng.epb(0, 1n, Buffer.alloc(60))]);
    const bad = ng.epb(0, 2n, Buffer.alloc(60), { len: 0x0ffffff0 });
    const src = await openFile("-", { stdin: pieces(Buffer.concat([head, bad]), 50), chunkBytes: 4096 });
    expect((await readAll(src)).length).toBe(1);
    expect(src.stopped).toEqual({ file: "-", record: 2, offset: head.length, reason: "truncated block: 92 of 268435440 bytes" });
  });

  it("a named pipe (as in <(tcpdump -w -)) is read as a stream", async () => {
    const fifo = `${tmp.path}/pipe`;
    execFileSync("mkfifo", [fifo]);
    const writer = spawn("sh", ["-c", `cat "$1" > "$2"`, "sh", fx("lo.pcapng.gz"), fifo], { stdio: "ignore" });
    try {
      const src = await openFile(fifo);
      expect(src.totalBytes).toBeNull();
      expect(await readAll(src)).toEqual(await readAll(await openFile(fx("lo.pcapng"))));
    } finally {
      writer.kill();
    }
  });

  it("empty stdin", async () => {
    const err = await openFile("-", { stdin: Readable.from([]) }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("-: empty file, not a pcap or pcapng file at byte 0");
  });
});

describe("gzip", () => {
  it("gzip truncated mid-stream: the records decompressed so far, then damage", async () => {
    const gz = readFileSync(fx("lo-usec.pcap.gz"));
    const whole = await readAll(await openFile(fx("lo-usec.pcap")));
    const f = tmp.file("cut.pcap.gz", gz.subarray(0, Math.floor(gz.length / 2)));
    const src = await openFile(f);
    const recs = await readAll(src);
    expect(recs.length).toBeGreaterThan(0);
    expect(recs.length).toBeLessThan(32);
    expect(recs).toEqual(whole.slice(0, recs.length));
    const offset = 24 + recs.reduce((sum, r) => sum + 16 + r.capLen, 0);
    expect(src.stopped).toEqual({
      file: f,
      record: recs.length + 1,
      offset,
      reason: "gzip data damaged: unexpected end of compressed data",
    });
  });

  it("gzip cut inside the capture's file header is an InputError", async () => {
    const gz = gzipSync(readFileSync(fx("lo-usec.pcap")).subarray(0, 12));
    const err = await openFile(tmp.file("hdr.pcap.gz", gz)).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${tmp.path}/hdr.pcap.gz: truncated pcap file header (12 of 24 bytes) at byte 0`);
  });

  it("gzip of something else names the decompressed first bytes", async () => {
    const err = await openFile(tmp.file("text.gz", gzipSync(Buffer.from("hello world")))).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${tmp.path}/text.gz: gzip-compressed data is not a pcap or pcapng file (first bytes 68 65 6c 6c) at byte 0`);
  });

  it("corrupt gzip data (bad CRC): damage after what could be decompressed", async () => {
    // Node's gunzip drops the output of the inflate step that fails (at most
    // one 64 KiB output chunk), so use a capture bigger than that.
    const bytes = readFileSync(fx("lo-usec.pcap"));
    const body = bytes.subarray(24);
    const big = Buffer.concat([bytes.subarray(0, 24), ...Array.from({ length: 100 }, () => body)]);
    const gz = gzipSync(big);
    gz[gz.length - 8]! ^= 0xff; // CRC32 of the member
    const f = tmp.file("crc.pcap.gz", gz);
    const src = await openFile(f);
    const recs = await readAll(src);
    expect(recs.length).toBeGreaterThan(1000);
    expect(recs.length).toBeLessThan(3200);
    expect(src.stopped?.record).toBe(recs.length + 1);
    expect(src.stopped?.reason).toBe("gzip data damaged: incorrect data check");

    // A small file's whole output is in that one step: nothing readable at all.
    const small = Buffer.from(readFileSync(fx("lo-usec.pcap.gz")));
    small[small.length - 8]! ^= 0xff;
    const g = tmp.file("crc-small.pcap.gz", small);
    const err = await openFile(g).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${g}: gzip data damaged: incorrect data check at byte 0 of the decompressed data`);
  });

  it("gzip read in small chunks gives the same records", async () => {
    const a = await readAll(await openFile(fx("lo.pcapng.gz"), { chunkBytes: 256 }));
    expect(a).toEqual(await readAll(await openFile(fx("lo.pcapng"))));
  });
});

describe("merging files", () => {
  it("rotated pieces in any order read as the original capture", async () => {
    const whole = await readAll(await openFile(fx("lo-usec.pcap")));
    const src = await openCapture([fx("rot-2.pcap"), fx("rot-0.pcap"), fx("rot-3.pcap"), fx("rot-1.pcap")], { batchRecords: 5 });
    expect(src.format).toBe("merged");
    expect(await readAll(src, 5)).toEqual(whole);
    expect(src.stopped).toBeNull();
    expect(src.stops).toEqual([]);
    const sizes = [0, 1, 2, 3].map((i) => readFileSync(fx(`rot-${i}.pcap`)).length).reduce((a, b) => a + b);
    expect(src.totalBytes).toBe(sizes);
    expect(src.bytesRead).toBe(sizes);
  });

  it("pcap + pcap with different link types merge like mergecap (ties keep file order)", async () => {
    const merged = await readAll(await openCapture([fx("lo-usec.pcap"), fx("any-sll.pcap")]));
    const byMergecap = await readAll(await openFile(fx("merged-linktypes.pcapng")));
    expect(merged.length).toBe(64);
    // Same records in the same time order; mergecap (Wireshark 4.0 merge.c is_earlier)
    // gives equal timestamps to the later file, we keep the order the files were given.
    const key = (r: Rec) => `${r.ts} ${r.linkType} ${r.capLen} ${r.hex}`;
    expect(merged.map(key).sort()).toEqual(byMergecap.map(key).sort());
    for (let i = 1; i < merged.length; i++) {
      expect(Number(merged[i]!.ts) >= Number(merged[i - 1]!.ts)).toBe(true);
      if (merged[i]!.ts === merged[i - 1]!.ts) expect(merged[i - 1]!.linkType).toBe(LINKTYPE_ETHERNET);
    }
  });

  it("mixed formats and compression merge, stdin included", async () => {
    const whole = await readAll(await openFile(fx("lo-usec.pcap")));
    const src = await openCapture([fx("rot-1.pcap"), "-", fx("rot-3.pcap")], {
      stdin: Readable.from([gzipSync(readFileSync(fx("rot-0.pcap")))]),
    });
    const recs = await readAll(src);
    expect(recs).toEqual([...whole.slice(0, 16), ...whole.slice(24)]);
  });

  it("a damaged file stops alone: the others are read to the end and every stop is kept", async () => {
    const bytes = readFileSync(fx("rot-1.pcap"));
    const cut = tmp.file("rot-1-cut.pcap", bytes.subarray(0, bytes.length - 5));
    const whole = await readAll(await openFile(fx("lo-usec.pcap")));
    const src = await openCapture([fx("rot-0.pcap"), cut, fx("rot-2.pcap"), fx("rot-3.pcap")]);
    const recs = await readAll(src);
    expect(recs).toEqual([...whole.slice(0, 15), ...whole.slice(16)]);
    expect(src.stops?.length).toBe(1);
    expect(src.stops?.[0]).toMatchObject({ file: cut, record: 8 });
    expect(src.stopped).toBe(src.stops?.[0]);
  });

  it("one unreadable file fails the whole open with its name", async () => {
    const err = await openCapture([fx("rot-0.pcap"), `${tmp.path}/missing.pcap`]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`${tmp.path}/missing.pcap: no such file`);
  });
});
