/**
 * The JavaScript flow tracker writes finished flows straight into a batch
 * (encodeFlow, the `--threads 2` path) or builds Connection objects (build).
 * (The compiled tracker only writes batches: test/flows/native.test.ts.) Both must say
 * exactly the same thing: every bundled capture and the TCP files of the
 * tcpdump corpus are analysed both ways, with and without the compact tier,
 * with every ladder and with problem ladders only.
 */
import { describe, expect, test } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { analyze, analyzeSource } from "../../src/analyze.js";
import { openCapture } from "../../src/sources/open.js";
import { ConnectionDecoder, ConnectionEncoder, cloneConnection } from "../../src/flows/codec.js";
import type { Connection } from "../../src/flows/connection.js";
import { connectionJsonText } from "../../src/report/json.js";
import { CORPUS } from "../helpers/cli.js";

const captures = fs
  .readdirSync("captures")
  .filter((f) => /\.(pcap|pcapng)$/.test(f))
  .map((f) => `captures/${f}`);

async function viaEncoder(file: string, opts: { compactAbove: number; ladderFor: "all" | "problems" }): Promise<{ conns: Connection[]; ttls: number[]; outcomes: string[] }> {
  const src = await openCapture([file]);
  const enc = new ConnectionEncoder(64);
  const dec = new ConnectionDecoder(false);
  const conns: Connection[] = [];
  const ttls: number[] = [];
  const outcomes: string[] = [];
  const drain = () => {
    // through a structured clone, as postMessage sends it
    dec.decode(structuredClone(enc.take()), (c, t) => {
      conns.push(c);
      ttls.push(t);
    });
  };
  try {
    await analyzeSource(src, { files: [file] }, {
      ...opts,
      tracker: "js",
      diagnose: false,
      collectConnections: false,
      encoder: enc,
      onEncoded: (o) => {
        outcomes.push(o);
        if (enc.size > 2000) drain();
      },
    });
  } finally {
    await src.close();
  }
  drain();
  return { conns, ttls, outcomes };
}

async function viaObjects(file: string, opts: { compactAbove: number; ladderFor: "all" | "problems" }): Promise<{ conns: Connection[]; ttls: number[] }> {
  const ttls: number[] = [];
  const r = await analyze(file, { ...opts, tracker: "js", onConnection: (_c, t) => ttls.push(t) });
  return { conns: r.connections, ttls };
}

async function same(file: string): Promise<number> {
  let n = 0;
  for (const compactAbove of [1e9, 0]) {
    for (const ladderFor of ["all", "problems"] as const) {
      const a = await viaObjects(file, { compactAbove, ladderFor });
      const b = await viaEncoder(file, { compactAbove, ladderFor });
      expect(b.conns.length).toBe(a.conns.length);
      expect(b.conns.map(connectionJsonText)).toEqual(a.conns.map(connectionJsonText));
      expect(b.conns).toEqual(a.conns);
      expect(b.ttls).toEqual(a.ttls);
      expect(b.outcomes).toEqual(a.conns.map((c) => c.outcome));
      n += a.conns.length;
    }
  }
  return n;
}

describe("tracker: direct encoding = Connection objects", () => {
  test.each(captures)("%s", async (file) => {
    expect(await same(file)).toBeGreaterThan(0);
  });

  test("every file of the tcpdump corpus", async () => {
    const files = fs.existsSync(CORPUS) ? fs.readdirSync(CORPUS).filter((f) => fs.statSync(path.join(CORPUS, f)).isFile()) : [];
    let conns = 0;
    let checked = 0;
    for (const f of files) {
      const file = path.join(CORPUS, f);
      let n: number;
      try {
        n = await same(file);
      } catch (e) {
        // damaged files end in an InputError both ways; anything else is a failure
        if ((e as Error).name === "InputError") continue;
        throw e;
      }
      conns += n;
      checked++;
    }
    if (files.length > 0) {
      expect(checked).toBeGreaterThan(400);
      // 4 runs per file (compact tier on/off, all/problem ladders)
      expect(conns / 4).toBeGreaterThan(150);
    }
  }, 300_000);

  test("cloneConnection is a deep copy", async () => {
    const r = await analyze("captures/busy.pcap", { ladderFor: "all" });
    const c = r.connections.find((x) => x.ladder.length > 0 && x.rst !== null) ?? r.connections[0]!;
    const k = cloneConnection(c);
    expect(k).toEqual(c);
    expect(k.ladder).not.toBe(c.ladder);
    expect(k.client).not.toBe(c.client);
    expect(k.frames).not.toBe(c.frames);
  });
});
