import { describe, expect, it } from "vitest";
import { formatAddr, parseAddr } from "../../src/decode/addr.js";

const w = (...words: number[]): Uint32Array => Uint32Array.from(words);

describe("formatAddr", () => {
  it("IPv4 dotted quad from word 0", () => {
    expect(formatAddr(4, w(0xc0000201, 0, 0, 0))).toBe("192.0.2.1");
    expect(formatAddr(4, w(0, 0, 0, 0))).toBe("0.0.0.0");
    expect(formatAddr(4, w(0xffffffff, 0, 0, 0))).toBe("255.255.255.255");
  });

  // Expected strings are what tshark 4.0 prints for these addresses (ipv6.src / ipv6.dst).
  const cases: [number[], string][] = [
    [[0x20010db8, 0, 0, 1], "2001:db8::1"],
    [[0, 0, 0, 1], "::1"],
    [[0, 0, 0, 0], "::"],
    [[0x10000, 0, 0, 0], "1::"],
    [[0xfe800000, 0, 0x00010000, 0], "fe80::1:0:0:0"],
    [[0x20010db8, 0, 0x00010000, 1], "2001:db8::1:0:0:1"], // two equal runs: the first is compressed
    [[0x20010000, 1, 0, 1], "2001:0:0:1::1"], // the longer run wins
    [[0x20010db8, 0x00010001, 0x00010001, 0x00010001], "2001:db8:1:1:1:1:1:1"],
    [[0x20010db8, 0x00000001, 0x00010001, 0x00010001], "2001:db8:0:1:1:1:1:1"], // a single 0 stays
    [[0, 0, 0xffff, 0x01020304], "::ffff:1.2.3.4"],
    [[0, 0, 0xffff, 0], "::ffff:0.0.0.0"],
    [[0, 0, 0, 0x01020304], "::1.2.3.4"], // IPv4-compatible, as glibc/tshark print it
    [[0, 0, 0, 0x102], "::102"],
    [[0x0064ff9b, 0, 0, 0x01020304], "64:ff9b::102:304"],
    [[0xabcdef01, 0x23456789, 0xabcdef01, 0x23456789], "abcd:ef01:2345:6789:abcd:ef01:2345:6789"],
  ];
  for (const [words, text] of cases) {
    it(`IPv6 ${text}`, () => {
      expect(formatAddr(6, w(...words))).toBe(text);
      // And back.
      const p = parseAddr(text);
      expect(p?.ipVersion).toBe(6);
      expect(Array.from(p!.words)).toEqual(words.map((x) => x >>> 0));
    });
  }
});

describe("parseAddr", () => {
  it("IPv4", () => {
    expect(parseAddr("10.1.2.3")).toEqual({ ipVersion: 4, words: w(0x0a010203, 0, 0, 0) });
    expect(parseAddr(" 255.255.255.255 ")!.words[0]).toBe(0xffffffff);
  });

  it("IPv6 forms users type", () => {
    expect(Array.from(parseAddr("2001:DB8::1")!.words)).toEqual([0x20010db8, 0, 0, 1]);
    expect(Array.from(parseAddr("[2001:db8::1]")!.words)).toEqual([0x20010db8, 0, 0, 1]);
    expect(Array.from(parseAddr("fe80::1%eth0")!.words)).toEqual([0xfe800000, 0, 0, 1]);
    expect(Array.from(parseAddr("2001:0db8:0000:0000:0000:0000:0000:0001")!.words)).toEqual([0x20010db8, 0, 0, 1]);
    expect(Array.from(parseAddr("1:2:3:4:5:6:1.2.3.4")!.words)).toEqual([0x10002, 0x30004, 0x50006, 0x01020304]);
    expect(Array.from(parseAddr("::")!.words)).toEqual([0, 0, 0, 0]);
  });

  it("rejects what is not an address", () => {
    for (const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.x",
      "example.com",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8::",
      "12345::1",
      "g::1",
      "::ffff:1.2.3.256",
      "1:2:3:4:5:6:7:1.2.3.4",
    ]) {
      expect(parseAddr(bad), bad).toBeNull();
    }
  });
});
