/**
 * FileBytes reads synchronously while the file comes from memory and ahead
 * in the background once it comes from a device: either way, whatever sizes
 * the reader asks for, it must hand over exactly the file's bytes in order,
 * see data appended after it reached the end (a file tcpdump is still
 * writing), and close cleanly with a read in flight.
 */
import { describe, expect, test } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { open } from "node:fs/promises";
import { FileBytes } from "../../src/sources/input.js";

function tmpFile(bytes: Uint8Array): { file: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-input-"));
  const file = path.join(dir, "f.bin");
  fs.writeFileSync(file, bytes);
  return { file, dir };
}

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe.each(["auto", "always"] as const)("FileBytes (read-ahead %s)", (readAhead) => {
  test("varying read sizes give exactly the file's bytes, in order", async () => {
    const data = pattern(1_000_003);
    const { file, dir } = tmpFile(data);
    try {
      const fb = new FileBytes(await open(file, "r"), { readAhead });
      const head = await fb.sniff(24);
      expect([...head]).toEqual([...data.subarray(0, 24)]);
      const out = new Uint8Array(data.length + 100);
      let at = 0;
      const sizes = [7, 65536, 1, 4096, 300_000, 13, 250_000, 65536, 1 << 20];
      for (let k = 0; ; k++) {
        const got = await fb.read(out, at, Math.min(sizes[k % sizes.length]!, out.length - at));
        if (got === 0) break;
        expect(fb.rawBytesRead).toBe(at + got);
        at += got;
      }
      expect(at).toBe(data.length);
      expect(Buffer.from(out.subarray(0, at)).equals(Buffer.from(data))).toBe(true);
      expect(fb.error).toBeNull();
      await fb.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("data appended after the end is read (a capture still being written)", async () => {
    const first = pattern(10_000);
    const { file, dir } = tmpFile(first);
    try {
      const fb = new FileBytes(await open(file, "r"), { readAhead });
      const out = new Uint8Array(30_000);
      let at = 0;
      for (;;) {
        const got = await fb.read(out, at, 4096);
        if (got === 0) break;
        at += got;
      }
      expect(at).toBe(10_000);
      const more = pattern(5_000).map((x) => x ^ 0x5a);
      fs.appendFileSync(file, more);
      for (;;) {
        const got = await fb.read(out, at, 4096);
        if (got === 0) break;
        at += got;
      }
      expect(at).toBe(15_000);
      expect(Buffer.from(out.subarray(10_000, 15_000)).equals(Buffer.from(more))).toBe(true);
      await fb.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("close() with a read-ahead in flight, and reads after close return 0", async () => {
    const { file, dir } = tmpFile(pattern(3 << 20));
    try {
      const fb = new FileBytes(await open(file, "r"), { readAhead });
      const out = new Uint8Array(1 << 20);
      expect(await fb.read(out, 0, out.length)).toBe(out.length);
      await fb.close(); // the next megabyte is being read ahead
      expect(await fb.read(out, 0, out.length)).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
