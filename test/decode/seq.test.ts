import { describe, expect, it } from "vitest";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "../../src/decode/seq.js";

const MAX = 0xffffffff;

describe("sequence arithmetic mod 2^32", () => {
  it("compares across the wrap", () => {
    expect(seqLt(MAX, 0)).toBe(true);
    expect(seqLt(MAX - 10, 5)).toBe(true);
    expect(seqGt(5, MAX - 10)).toBe(true);
    expect(seqGt(0, MAX)).toBe(true);
    expect(seqLt(0, MAX)).toBe(false);
    expect(seqLe(MAX, MAX)).toBe(true);
    expect(seqGe(MAX, MAX)).toBe(true);
    expect(seqLt(MAX, MAX)).toBe(false);
    expect(seqGe(1, MAX)).toBe(true);
    expect(seqLe(1, MAX)).toBe(false);
  });

  it("compares normally away from the wrap", () => {
    expect(seqLt(100, 200)).toBe(true);
    expect(seqGt(200, 100)).toBe(true);
    expect(seqLe(100, 100)).toBe(true);
    expect(seqGe(99, 100)).toBe(false);
    // Up to 2^31 - 1 apart, the plain order holds.
    expect(seqLt(0, 0x7fffffff)).toBe(true);
    // 2^31 + 1 apart: the other way round.
    expect(seqLt(0, 0x80000001)).toBe(false);
    expect(seqGt(0, 0x80000001)).toBe(true);
  });

  it("signed difference", () => {
    expect(seqDiff(5, MAX)).toBe(6);
    expect(seqDiff(MAX, 5)).toBe(-6);
    expect(seqDiff(1000, 1000)).toBe(0);
    expect(seqDiff(0x7fffffff, 0)).toBe(0x7fffffff);
    expect(seqDiff(0x80000000, 0)).toBe(-0x80000000); // the RFC 1982 undefined case
    expect(seqDiff(0, 0x80000000)).toBe(-0x80000000);
  });

  it("adds with wrap, result unsigned", () => {
    expect(seqAdd(MAX, 1)).toBe(0);
    expect(seqAdd(MAX - 1, 10)).toBe(8);
    expect(seqAdd(0, -1)).toBe(MAX);
    expect(seqAdd(0x80000000, 0x80000000)).toBe(0);
    expect(seqAdd(123, 0)).toBe(123);
    for (const a of [0, 1, 0x7fffffff, 0x80000000, MAX - 3, MAX]) {
      for (const n of [0, 1, 1460, 65535, 0x40000000]) {
        const b = seqAdd(a, n);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThanOrEqual(MAX);
        expect(seqDiff(b, a)).toBe(n);
        if (n > 0) expect(seqLt(a, b)).toBe(true);
      }
    }
  });
});
