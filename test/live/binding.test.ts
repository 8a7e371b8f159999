/**
 * The libpcap binding and LiveSource on loopback: batches in the file-reader
 * layout, filters, stats and kernel drops, interface errors, stop/count.
 * Traffic is UDP to 127.0.0.1 on a port chosen per run, filtered by port.
 */
import * as dgram from "node:dgram";
import { describe, expect, it } from "vitest";
import { checkFilter, defaultInterface, listInterfaces, LiveSource } from "../../src/sources/live.js";
import { InputError, type RecordBatch } from "../../src/sources/record.js";
import { liveSkipReason } from "./helpers.js";

const skip = liveSkipReason();
if (skip) console.warn(`test/live/binding: skipped: ${skip}`);

const PORT = 40000 + (process.pid % 20000);

async function sendUdp(n: number, port: number, size = 100, gapMs = 0): Promise<void> {
  const s = dgram.createSocket("udp4");
  const payload = Buffer.alloc(size, 0x61);
  for (let i = 0; i < n; i++) {
    payload.writeUInt32BE(i, 0);
    await new Promise<void>((res, rej) => s.send(payload, port, "127.0.0.1", (e) => (e ? rej(e) : res())));
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  await new Promise<void>((r) => s.close(() => r()));
}

/** UDP payload sequence numbers of the records in a batch (Ethernet + IPv4 20 + UDP 8). */
function seqs(b: RecordBatch): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.count; i++) {
    const o = b.offset[i] + 14 + 20 + 8;
    out.push(new DataView(b.data.buffer, b.data.byteOffset).getUint32(o));
  }
  return out;
}

describe.skipIf(skip !== null)("libpcap binding on loopback", () => {
  it("lists interfaces with flags and addresses, and picks a default like tcpdump", () => {
    const list = listInterfaces();
    const lo = list.find((i) => i.name === "lo");
    expect(lo).toBeDefined();
    expect(lo!.loopback).toBe(true);
    expect(lo!.up).toBe(true);
    expect(lo!.addresses.some((a) => a.addr === "127.0.0.1" && a.prefixLen === 8)).toBe(true);
    const def = defaultInterface(list);
    const picked = list.find((i) => i.name === def)!;
    expect(picked.loopback).toBe(false);
    expect(picked.up).toBe(true);
    expect(def).not.toBe("any");
  });

  it("delivers packets in batches with the record layout, nanosecond stamps and lengths", async () => {
    const src = LiveSource.open({ interface: "lo", filter: `udp and dst port ${PORT}`, snaplen: 200, idleTickMs: 0 });
    try {
      expect(src.linkType).toBe(1); // lo is Ethernet-framed on Linux
      expect(src.nanosecond).toBe(true);
      const before = Date.now() / 1000;
      await sendUdp(50, PORT, 300);
      const got: number[] = [];
      let batches = 0;
      while (got.length < 50) {
        const b = await src.next();
        expect(b).not.toBeNull();
        batches++;
        for (let i = 0; i < b!.count; i++) {
          expect(b!.origLen[i]).toBe(14 + 20 + 8 + 300);
          expect(b!.capLen[i]).toBe(200); // cut at the snap length
          expect(b!.linkType[i]).toBe(1);
          expect(b!.fcsLen[i]).toBe(0);
          expect(b!.tsNsec[i]).toBeLessThan(1e9);
          const ts = b!.tsSec[i] + b!.tsNsec[i] / 1e9;
          expect(ts).toBeGreaterThan(before - 1);
          expect(ts).toBeLessThan(Date.now() / 1000 + 1);
          if (i > 0) expect(b!.offset[i]).toBe(b!.offset[i - 1] + b!.capLen[i - 1]);
        }
        got.push(...seqs(b!));
      }
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
      // Everything was queued before we read: far fewer calls than packets.
      expect(batches).toBeLessThan(50);
      expect(src.bytesRead).toBe(50 * 200);
      const st = src.stats()!;
      expect(st.received).toBeGreaterThanOrEqual(50);
      expect(st.dropped).toBe(0);
    } finally {
      await src.close();
    }
  });

  it("returns empty batches on a quiet link so timers can run, and stop() ends next()", async () => {
    const src = LiveSource.open({ interface: "lo", filter: `udp and dst port ${PORT + 1}`, idleTickMs: 50 });
    try {
      const b = await src.next();
      expect(b).not.toBeNull();
      expect(b!.count).toBe(0);
      setTimeout(() => src.stop(), 30);
      // A wait in progress is woken; the source ends.
      let last: RecordBatch | null = null;
      for (let i = 0; i < 20; i++) {
        last = await src.next();
        if (last === null) break;
      }
      expect(last).toBeNull();
      expect(src.stats()).not.toBeNull();
    } finally {
      await src.close();
    }
  });

  it("stops after --count packets and on abort", async () => {
    const src = LiveSource.open({ interface: "lo", filter: `udp and dst port ${PORT + 2}`, count: 7, idleTickMs: 0 });
    try {
      await sendUdp(20, PORT + 2);
      let n = 0;
      for (let i = 0; i < 100; i++) {
        const b = await src.next();
        if (b === null) break;
        n += b.count;
      }
      expect(n).toBe(7);
      expect(src.packets).toBe(7);
    } finally {
      await src.close();
    }
    const ac = new AbortController();
    const src2 = LiveSource.open({ interface: "lo", filter: `udp and dst port ${PORT + 3}`, idleTickMs: 0, signal: ac.signal });
    try {
      setTimeout(() => ac.abort(), 20);
      let b: RecordBatch | null;
      let calls = 0;
      do {
        b = await src2.next();
        calls++;
      } while (b !== null && calls < 10);
      expect(b).toBeNull();
      expect(calls).toBeLessThanOrEqual(2); // at most the final empty batch, then the end
    } finally {
      await src2.close();
    }
  });

  it("reports kernel drops when the buffer is tiny and nobody reads", async () => {
    const src = LiveSource.open({ interface: "lo", filter: `udp and dst port ${PORT + 4}`, bufferSize: 1, idleTickMs: 0 });
    try {
      // Slow consumer: send the whole burst before reading anything.
      await sendUdp(3000, PORT + 4, 1000);
      let n = 0;
      for (;;) {
        const b = await Promise.race([src.next(), new Promise<null>((r) => setTimeout(() => r(null), 300))]);
        if (b === null || b.count === 0) break;
        n += b.count;
      }
      const st = src.stats()!;
      expect(st.dropped).toBeGreaterThan(0);
      expect(n).toBeLessThan(3000);
      expect(n + st.dropped).toBeGreaterThanOrEqual(2900);
    } finally {
      src.stop();
      await src.close();
    }
  });

  it("says what is wrong, in one line, for a bad filter and a missing interface", () => {
    expect(() => LiveSource.open({ interface: "lo", filter: "tcp port" })).toThrow(/^bad filter "tcp port": syntax error$/);
    expect(checkFilter("tcp port")).toBe('bad filter "tcp port": syntax error');
    expect(checkFilter("tcp port 80")).toBeNull();
    let err: unknown;
    try {
      LiveSource.open({ interface: "ssl-nope0" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^no such interface "ssl-nope0" \(interfaces here: .*\blo\b.*\)$/);
    expect((err as Error).message).not.toContain("\n");
    expect(() => LiveSource.open({ interface: "lo", snaplen: 0 })).toThrow(/snap length/);
  });
});
