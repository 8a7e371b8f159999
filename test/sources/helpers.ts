/** Byte builders for crafted captures, and a reader that collects every record. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import type { RecordSource } from "../../src/sources/record.js";

export const FIXTURES = new URL("../fixtures/sources/", import.meta.url).pathname;

export interface Rec {
  ts: string; // "sec.nnnnnnnnn", as tshark prints frame.time_epoch
  capLen: number;
  origLen: number;
  linkType: number;
  fcsLen: number;
  hex: string; // first bytes of packet data
}

export function tsString(sec: number, nsec: number): string {
  return `${sec}.${String(nsec).padStart(9, "0")}`;
}

/** Read a source to the end; also checks batch invariants that every consumer relies on. */
export async function readAll(src: RecordSource, maxBatch?: number): Promise<Rec[]> {
  const out: Rec[] = [];
  for (let b = await src.next(); b; b = await src.next()) {
    if (maxBatch !== undefined && b.count > maxBatch) throw new Error(`batch of ${b.count} > ${maxBatch}`);
    for (let i = 0; i < b.count; i++) {
      const o = b.offset[i]!;
      if (o + b.capLen[i]! > b.data.length) throw new Error("record runs past batch data");
      if (b.tsNsec[i]! >= 1e9) throw new Error("tsNsec out of range");
      out.push({
        ts: tsString(b.tsSec[i]!, b.tsNsec[i]!),
        capLen: b.capLen[i]!,
        origLen: b.origLen[i]!,
        linkType: b.linkType[i]!,
        fcsLen: b.fcsLen[i]!,
        hex: Buffer.from(b.data.subarray(o, o + Math.min(8, b.capLen[i]!))).toString("hex"),
      });
    }
  }
  // After the end (or damage), next() keeps returning null.
  if ((await src.next()) !== null) throw new Error("next() after end returned a batch");
  return out;
}

export class TmpDir {
  readonly path = mkdtempSync(join(tmpdir(), "sss-test-"));
  file(name: string, bytes: Uint8Array | Buffer): string {
    const p = join(this.path, name);
    writeFileSync(p, bytes);
    return p;
  }
  cleanup(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export function hasTool(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
}

/** tshark's view of a file: one line per frame, "epoch caplen len". */
export function tsharkFrames(path: string): string[] {
  const r = spawnSync("tshark", ["-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.cap_len", "-e", "frame.len"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`tshark failed on ${path}: ${r.stderr}`);
  return r.stdout
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => l.replace(/\t/g, " "));
}

// ---------------------------------------------------------------- pcap

export interface PcapHeaderOpts {
  le?: boolean;
  nano?: boolean;
  snapLen?: number;
  linkType?: number; // whole 32-bit field, FCS bits included
  major?: number;
}

export function pcapHeader(o: PcapHeaderOpts = {}): Buffer {
  const le = o.le ?? true;
  const b = Buffer.alloc(24);
  const u32 = (v: number, at: number) => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  const u16 = (v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  u32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(o.major ?? 2, 4);
  u16(4, 6);
  u32(0, 8);
  u32(0, 12);
  u32(o.snapLen ?? 262144, 16);
  u32(o.linkType ?? 1, 20);
  return b;
}

export function pcapRecord(
  sec: number,
  frac: number,
  data: Uint8Array,
  o: { le?: boolean; capLen?: number; origLen?: number } = {},
): Buffer {
  const le = o.le ?? true;
  const h = Buffer.alloc(16);
  const u32 = (v: number, at: number) => (le ? h.writeUInt32LE(v >>> 0, at) : h.writeUInt32BE(v >>> 0, at));
  u32(sec, 0);
  u32(frac, 4);
  u32(o.capLen ?? data.length, 8);
  u32(o.origLen ?? data.length, 12);
  return Buffer.concat([h, Buffer.from(data)]);
}

/** Packet bytes whose first byte is `tag`, so tests can tell records apart. */
export function packet(tag: number, len = 60): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (tag + i) & 0xff;
  return b;
}

// ---------------------------------------------------------------- pcapng

export class Ng {
  constructor(readonly le = true) {}

  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  }
  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }

  /** A block with a correct length (or overrides for damage tests). */
  block(type: number, body: Buffer, o: { len?: number; trailer?: number } = {}): Buffer {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    return Buffer.concat([this.u32(type), this.u32(o.len ?? len), body, pad, this.u32(o.trailer ?? o.len ?? len)]);
  }

  option(code: number, value: Buffer): Buffer {
    const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
    return Buffer.concat([this.u16(code), this.u16(value.length), value, pad]);
  }
  endOfOptions(): Buffer {
    return Buffer.alloc(4);
  }

  shb(o: { major?: number; minor?: number } = {}): Buffer {
    const bom = this.u32(0x1a2b3c4d);
    const sectionLen = Buffer.alloc(8, 0xff);
    return this.block(0x0a0d0d0a, Buffer.concat([bom, this.u16(o.major ?? 1), this.u16(o.minor ?? 0), sectionLen]));
  }

  idb(linkType: number, o: { snapLen?: number; tsresol?: number; tsoffset?: bigint; fcslen?: number } = {}): Buffer {
    const opts: Buffer[] = [];
    if (o.tsresol !== undefined) opts.push(this.option(9, Buffer.from([o.tsresol])));
    if (o.tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (this.le) v.writeBigInt64LE(o.tsoffset);
      else v.writeBigInt64BE(o.tsoffset);
      opts.push(this.option(14, v));
    }
    if (o.fcslen !== undefined) opts.push(this.option(13, Buffer.from([o.fcslen])));
    if (opts.length) opts.push(this.endOfOptions());
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(o.snapLen ?? 0), ...opts]));
  }

  /** Enhanced packet block; `units` is the 64-bit timestamp in the interface's units. */
  epb(iface: number, units: bigint, data: Buffer, o: { capLen?: number; origLen?: number; flags?: number; len?: number; trailer?: number } = {}): Buffer {
    const pad = Buffer.alloc((4 - (data.length % 4)) % 4);
    const opts = o.flags !== undefined ? Buffer.concat([this.option(2, this.u32(o.flags)), this.endOfOptions()]) : Buffer.alloc(0);
    const body = Buffer.concat([
      this.u32(iface),
      this.u32(Number(units >> 32n)),
      this.u32(Number(units & 0xffffffffn)),
      this.u32(o.capLen ?? data.length),
      this.u32(o.origLen ?? data.length),
      data,
      pad,
      opts,
    ]);
    return this.block(6, body, { len: o.len, trailer: o.trailer });
  }

  opb(iface: number, units: bigint, data: Buffer): Buffer {
    return this.block(
      2,
      Buffer.concat([
        this.u16(iface),
        this.u16(0),
        this.u32(Number(units >> 32n)),
        this.u32(Number(units & 0xffffffffn)),
        this.u32(data.length),
        this.u32(data.length),
        data,
      ]),
    );
  }

  spb(origLen: number, data: Buffer): Buffer {
    return this.block(3, Buffer.concat([this.u32(origLen), data]));
  }
}
