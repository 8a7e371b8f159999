/**
 * SYN flood capture for the robustness issue: N SYNs from distinct sources to
 * one server (192.0.2.10:443), none answered, some retried once 1 s later.
 * Streams a classic pcap to stdout (or -o FILE) with backpressure, so it can
 * feed `synsent analyze -` for as long as needed without holding anything:
 *
 *   node dist/bench/synflood.js --count 10000000 | synsent analyze - --format json -o /dev/null
 *
 * Sources come from 198.18.0.0/15 (RFC 2544 benchmarking range) x ports
 * 1024-65535, so up to 8.4 G distinct ip:port pairs. Nothing is sent on a
 * network; this only writes bytes.
 *
 * Ground truth (a JSON object) goes to stderr when writing to stdout, or to
 * FILE.truth.json with -o.
 */
import * as fs from "node:fs";
import { once } from "node:events";
import { pathToFileURL } from "node:url";
import {
  ChunkWriter,
  Opt,
  Prng,
  Segment,
  TCP_SYN,
  numberArg,
  parseArgs,
  truthPath,
  writePcapGlobalHeader,
  writeTcpRecord,
} from "./generate.js";

export interface SynFloodOptions {
  /** SYN packets to write, retries included. Default 10 000 000. */
  count?: number;
  /** Share of sources that retry their SYN once, 1 s later. Default 0.1. */
  retryShare?: number;
  /** New sources per second (timestamps only). Default 100 000. */
  rate?: number;
  seed?: number;
  /** Capture start, Unix seconds. Default 2024-01-01T00:00:00Z. */
  startS?: number;
  /**
   * A port scan instead: one scanner (203.0.113.5) sends each SYN to another
   * destination ip:port (198.18.0.0/15 x ports 1-65535), none answered: as
   * many destinations as connections (the diagnoser keeps 100 000 one by one).
   */
  scan?: boolean;
}

export interface SynFloodTruth {
  generator: "synsent-bench-synflood";
  version: number;
  options: Required<SynFloodOptions>;
  /** SYN packets written (= packets in the file). */
  syn: number;
  /** Distinct client ip:port sources = connections, all unanswered. */
  connections: number;
  /** Sources that sent a second SYN. */
  retried: number;
  synRetransmissions: number;
  /** The one server of a flood; null for a scan (every connection to another destination). */
  server: { ip: string; port: number } | null;
  bytes: number;
  firstTs: number;
  lastTs: number;
  generateSeconds: number;
}

const SERVER_IP = 0xc000020a; // 192.0.2.10
const SERVER_PORT = 443;
const SCANNER_IP = 0xcb007105; // 203.0.113.5
const BENCH_NET = 0xc6120000; // 198.18.0.0/15
const BENCH_HOSTS = 1 << 17;
const PORT_LO = 1024;
const PORTS = 65536 - PORT_LO;

/**
 * Writes the flood through `sink`; `sink` returns a promise when the consumer
 * wants the producer to wait (stream backpressure). Returns the truth.
 */
export async function synFlood(
  opts: SynFloodOptions,
  sink: (chunk: Buffer, len: number) => void,
  drain: () => Promise<void> | null,
): Promise<SynFloodTruth> {
  const started = process.hrtime.bigint();
  const o: Required<SynFloodOptions> = {
    count: opts.count ?? 10_000_000,
    retryShare: opts.retryShare ?? 0.1,
    rate: opts.rate ?? 100_000,
    seed: opts.seed ?? 1,
    startS: opts.startS ?? 1_704_067_200,
    scan: opts.scan ?? false,
  };
  if (!Number.isInteger(o.count) || o.count < 0) throw new Error(`--count must be a non-negative integer, got ${o.count}`);
  if (!(o.retryShare >= 0 && o.retryShare <= 1)) throw new Error(`--retry must be between 0 and 1, got ${o.retryShare}`);
  if (!(o.rate > 0)) throw new Error(`--rate must be > 0, got ${o.rate}`);
  if (o.count / (1 - Math.min(o.retryShare, 0.5)) > BENCH_HOSTS * PORTS) throw new Error("--count exceeds the distinct sources available");

  const rng = new Prng(o.seed);
  // Small chunks, so a slow reader holds at most a few of them.
  const w = new ChunkWriter(sink, 1 << 20);
  writePcapGlobalHeader(w, 65535);
  const seg = new Segment();
  seg.dst4 = SERVER_IP;
  seg.dport = SERVER_PORT;
  seg.flags = TCP_SYN;
  seg.opt = Opt.MSS_ONLY;
  seg.mss = 1460;
  seg.window = 64240;
  seg.srcMac = 0x0b000001;
  seg.dstMac = 0x00000001;

  // Pending retries, in time order (all exactly 1 s after their first SYN): a ring of (source, isn, due).
  let cap = 1 << 16;
  let rSrc = new Float64Array(cap);
  let rIsn = new Uint32Array(cap);
  let rDue = new Float64Array(cap);
  let rHead = 0;
  let rLen = 0;

  const t0 = o.startS * 1e6;
  const stepUs = 1e6 / o.rate;
  let sources = 0;
  let written = 0;
  let retried = 0;
  let firstTs = -1;
  let lastTs = -1;

  const writeSyn = (source: number, isn: number, ts: number): void => {
    // Scatter sources over the /15 (multiplying by an odd constant permutes each block of 2^17).
    const host = Math.imul(source % BENCH_HOSTS, 0x9e3779b1) & (BENCH_HOSTS - 1);
    if (o.scan) {
      seg.src4 = SCANNER_IP;
      seg.sport = PORT_LO + (source % PORTS);
      seg.dst4 = (BENCH_NET + host) >>> 0;
      seg.dport = 1 + (Math.floor(source / BENCH_HOSTS) % 65535);
    } else {
      seg.src4 = (BENCH_NET + host) >>> 0;
      seg.sport = PORT_LO + (Math.floor(source / BENCH_HOSTS) % PORTS);
    }
    seg.seq = isn;
    seg.ipId = rng.int(0, 0xffff);
    seg.ttl = 40 + (host & 15);
    writeTcpRecord(w, seg, ts, 65535);
    written++;
    if (firstTs < 0) firstTs = ts;
    lastTs = ts;
  };

  while (written < o.count) {
    const nextNew = Math.round(t0 + sources * stepUs);
    // New sources only while the SYNs already promised (written + pending retries) leave room.
    const canStart = written + rLen < o.count;
    if (rLen > 0 && (!canStart || rDue[rHead] <= nextNew)) {
      writeSyn(rSrc[rHead], rIsn[rHead], rDue[rHead]);
      rHead = (rHead + 1) & (cap - 1);
      rLen--;
    } else {
      const isn = rng.u32();
      const source = sources++;
      writeSyn(source, isn, nextNew);
      if (written + rLen < o.count && rng.float() < o.retryShare) {
        if (rLen === cap) {
          const nc = cap * 2;
          const s2 = new Float64Array(nc);
          const i2 = new Uint32Array(nc);
          const d2 = new Float64Array(nc);
          for (let j = 0; j < rLen; j++) {
            const k = (rHead + j) & (cap - 1);
            s2[j] = rSrc[k];
            i2[j] = rIsn[k];
            d2[j] = rDue[k];
          }
          rSrc = s2;
          rIsn = i2;
          rDue = d2;
          rHead = 0;
          cap = nc;
        }
        const k = (rHead + rLen) & (cap - 1);
        rSrc[k] = source;
        rIsn[k] = isn;
        rDue[k] = nextNew + 1e6;
        rLen++;
        retried++;
      }
    }
    if (w.pos > w.buf.length - 256) {
      w.flush();
      const p = drain();
      if (p !== null) await p;
    }
  }
  w.flush();
  return {
    generator: "synsent-bench-synflood",
    version: 1,
    options: o,
    syn: written,
    connections: sources,
    retried,
    synRetransmissions: retried,
    server: o.scan ? null : { ip: "192.0.2.10", port: SERVER_PORT },
    bytes: w.total,
    firstTs: firstTs < 0 ? 0 : firstTs / 1e6,
    lastTs: lastTs < 0 ? 0 : lastTs / 1e6,
    generateSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

const USAGE = `usage: node dist/bench/synflood.js [--count N] [--retry F] [--rate R] [--seed S] [-o FILE]
  --count N      SYN packets to write, retries included (default 10000000)
  --retry F      share of sources that retry once, 1 s later (default 0.1)
  --rate R       new sources per second, for timestamps (default 100000)
  --seed S       PRNG seed (default 1)
  --scan         a port scan instead: one scanner, each SYN to another destination ip:port
  --start S      capture start, Unix seconds (default 1704067200)
  -o FILE        write FILE (and FILE.truth.json) instead of stdout (truth then goes to stderr)`;

async function main(argv: string[]): Promise<number> {
  let args: Map<string, string>;
  try {
    args = parseArgs(argv, ["scan"]);
  } catch (e) {
    process.stderr.write(`synflood: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.has("help")) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const known = new Set(["count", "retry", "rate", "seed", "start", "out", "scan"]);
  for (const k of args.keys()) {
    if (!known.has(k)) {
      process.stderr.write(`synflood: unknown option --${k}\n${USAGE}\n`);
      return 2;
    }
  }
  const out = args.get("out");
  let opts: SynFloodOptions;
  try {
    opts = {
      count: numberArg(args, "count"),
      retryShare: numberArg(args, "retry"),
      rate: numberArg(args, "rate"),
      seed: numberArg(args, "seed"),
      startS: numberArg(args, "start"),
      scan: args.has("scan"),
    };
  } catch (e) {
    process.stderr.write(`synflood: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    if (out !== undefined && out !== "-") {
      const fd = fs.openSync(out, "w");
      const truth = await synFlood(
        opts,
        (chunk, len) => {
          let off = 0;
          while (off < len) off += fs.writeSync(fd, chunk, off, len - off);
        },
        () => null,
      );
      fs.closeSync(fd);
      fs.writeFileSync(truthPath(out), JSON.stringify(truth, null, 2) + "\n");
      process.stderr.write(`${out}: ${truth.syn} SYNs from ${truth.connections} sources (${truth.retried} retried), ${(truth.bytes / 1e6).toFixed(1)} MB in ${truth.generateSeconds.toFixed(1)} s\n`);
      return 0;
    }
    const stdout = process.stdout;
    let broken = false;
    stdout.on("error", (e: NodeJS.ErrnoException) => {
      // The reader went away (e.g. `| head`): stop quietly, like other Unix producers.
      if (e.code === "EPIPE") {
        broken = true;
        process.exit(0);
      }
      process.stderr.write(`synflood: stdout: ${e.message}\n`);
      process.exit(1);
    });
    let needDrain = false;
    const truth = await synFlood(
      opts,
      (chunk, len) => {
        // The stream keeps the buffer until written, and the writer reuses its own: copy.
        const copy = Buffer.allocUnsafe(len);
        chunk.copy(copy, 0, 0, len);
        if (!stdout.write(copy)) needDrain = true;
      },
      () => {
        if (!needDrain || broken) return null;
        needDrain = false;
        return once(stdout, "drain").then(() => undefined);
      },
    );
    await new Promise<void>((resolve) => stdout.write("", () => resolve()));
    process.stderr.write(JSON.stringify(truth) + "\n");
    return 0;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`synflood: ${err.code && out ? `${out}: ` : ""}${err.message}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
