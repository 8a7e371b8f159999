/**
 * Differential test: synsent's flow tracker against tshark on real captures
 * (the bundled captures/ and the TCP-bearing files of the tcpdump corpus).
 *
 * Per connection (matched on its first frame = tshark's tcp.stream), compared:
 * - which frames belong to it (tcp.stream partition),
 * - SYN and SYN-ACK counts,
 * - who sent the first RST,
 * - tcp.analysis.retransmission, frame by frame,
 * - tcp.analysis.initial_rtt vs handshakeRttMs.total (within 0.1 ms).
 *
 * One tshark run per file, cached (test/helpers/tshark.ts).
 *
 * Deliberate differences (checked, not ignored):
 * - DUPLICATE: the same packet captured twice (SPAN, -i any) is a "duplicate"
 *   for synsent and tcp.analysis.retransmission for tshark.
 * - LINGER: synsent ends a closed connection 2 s (capture time) after its last
 *   FIN/RST; a packet of the same 5-tuple after that is a new (midstream)
 *   connection, tshark keeps it in the old stream. Frames in such tails are
 *   excluded from the partition check when synsent put them in a connection
 *   it started after the linger.
 * - SYN_OOO: tshark calls a SYN/FIN resent within 3 ms "out-of-order"; synsent
 *   counts every resent SYN (retransmissions.syn = syn - 1).
 * - INVALID_TS: records whose sub-second field is out of range (the corpus's
 *   timestamp_invalid_* files): tshark and the reader normalise them
 *   differently, so the RTTs differ; there is no right answer.
 * - NEXTSEQ0: tshark treats a next sequence number of exactly 0 as "unknown";
 *   synsent does not (so a connection whose sequence space crosses 0 is still
 *   analysed). Frames right after such a crossing may differ.
 */
import { CAPTURES, CORPUS, pool, ROOT } from "../helpers/cli.js";
import { tsharkCached, tsharkVersion } from "../helpers/tshark.js";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { openCapture } from "../../src/sources/open.js";
import { decodePacket } from "../../src/decode/decode.js";
import { Kind, PacketView } from "../../src/decode/packet.js";
import { FlowTracker } from "../../src/flows/tracker.js";
import type { Connection } from "../../src/flows/connection.js";


const hasTshark = tsharkVersion() !== null;

interface OurRun {
  conns: Connection[];
  /** frame -> TCP (not ICMP) per our decoder */
  tcpFrames: Set<number>;
  records: number;
}

async function runOurs(file: string): Promise<OurRun | null> {
  let src;
  try {
    src = await openCapture([file]);
  } catch {
    return null;
  }
  const conns: Connection[] = [];
  const tracker = new FlowTracker({ ladderLimit: 1_000_000, onConnection: (c) => conns.push(c) });
  const view = new PacketView();
  const tcpFrames = new Set<number>();
  let frame = 0;
  let endTs = -Infinity;
  try {
    for (;;) {
      const b = await src.next();
      if (b === null) break;
      for (let i = 0; i < b.count; i++) {
        frame++;
        const ts = b.tsSec[i]! + b.tsNsec[i]! / 1e9;
        if (ts > endTs) endTs = ts;
        const k = decodePacket(view, b.data, b.offset[i]!, b.capLen[i]!, b.origLen[i]!, b.linkType[i]!, b.fcsLen[i]!);
        if (k === Kind.TCP || k === Kind.ICMP_UNREACH) {
          if (k === Kind.TCP) tcpFrames.add(frame);
          tracker.packet(view, frame, b.tsSec[i]!, b.tsNsec[i]!);
        }
      }
    }
  } catch {
    // damaged part-way: compare what was read
  } finally {
    await src.close();
  }
  tracker.finish(endTs);
  return { conns, tcpFrames, records: frame };
}

interface TsharkRow {
  frame: number;
  stream: number;
  src: string;
  flags: number;
  retrans: boolean;
  initialRtt: number | null;
}

async function tsharkRows(file: string): Promise<TsharkRow[] | null> {
  const run = await tsharkCached(file, [
    "-Y",
    "tcp && !icmp && !icmpv6",
    "-T",
    "fields",
    "-E",
    "occurrence=f",
    "-e",
    "frame.number",
    "-e",
    "tcp.stream",
    "-e",
    "ip.src",
    "-e",
    "ipv6.src",
    "-e",
    "tcp.flags",
    "-e",
    "tcp.analysis.retransmission",
    "-e",
    "tcp.analysis.initial_rtt",
  ]);
  if (run.code !== 0 && !run.stdout) return null;
  return run.stdout
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => {
      const [frame, stream, ip4, ip6, flags, retrans, rtt] = l.split("\t");
      return {
        frame: Number(frame),
        stream: stream === "" || stream === undefined ? -1 : Number(stream),
        src: ip4 || ip6 || "",
        flags: Number(flags),
        retrans: retrans === "1",
        initialRtt: rtt ? Number(rtt) : null,
      };
    })
    .filter((r) => r.stream >= 0 && Number.isFinite(r.flags));
}

interface ExpectedCapture {
  totals: { connections: number; byOutcome: Record<string, number>; syn: number; synAck: number; dataRetransmissions: number; duplicates: number };
  connections?: {
    client: string;
    clientPort: number;
    server: string;
    serverPort: number;
    outcome: string;
    syn: number;
    synAck: number;
    rstFrom: string | null;
    icmp: { type: number; code: number; from: string } | null;
  }[];
}

interface Diff {
  file: string;
  what: string;
}

/** Compare one file; returns unexplained differences and counts of explained ones. */
function compare(file: string, ours: OurRun, rows: TsharkRow[], explained: Map<string, number>): Diff[] {
  const diffs: Diff[] = [];
  const explain = (k: string): void => {
    explained.set(k, (explained.get(k) ?? 0) + 1);
  };
  // Only frames both tools see as a TCP segment in the outermost transport.
  const rowByFrame = new Map<number, TsharkRow>();
  for (const r of rows) if (ours.tcpFrames.has(r.frame) && r.frame <= ours.records) rowByFrame.set(r.frame, r);
  // Our frame -> connection
  const connOf = new Map<number, Connection>();
  const noteOf = new Map<number, string | null>();
  for (const c of ours.conns) {
    for (const s of c.ladder) {
      if (s.from === "icmp") continue;
      connOf.set(s.frame, c);
      noteOf.set(s.frame, s.note);
    }
  }
  // Partition: each tshark stream maps to one of our connections and back.
  const streamToConn = new Map<number, Connection>();
  const connToStream = new Map<number, number>();
  for (const [frame, r] of rowByFrame) {
    const c = connOf.get(frame);
    if (c === undefined) {
      diffs.push({ file, what: `frame ${frame}: tshark stream ${r.stream}, in no synsent connection` });
      continue;
    }
    const prevC = streamToConn.get(r.stream);
    const prevS = connToStream.get(c.id);
    if (prevC === undefined && prevS === undefined) {
      streamToConn.set(r.stream, c);
      connToStream.set(c.id, r.stream);
    } else if ((prevC !== undefined && prevC.id !== c.id) || (prevS !== undefined && prevS !== r.stream)) {
      if (c.outcome === "midstream" && prevC !== undefined && prevC.lastTs + 2 < c.firstTs + 1e-9) {
        explain("LINGER");
        continue;
      }
      diffs.push({ file, what: `frame ${frame}: tshark stream ${r.stream}, synsent connection ${c.id} (stream already matched to ${prevC?.id ?? "-"} / ${prevS ?? "-"})` });
    }
  }
  // Per-frame retransmission flags.
  for (const [frame, r] of rowByFrame) {
    const note = noteOf.get(frame);
    const ourRetrans = note === "retransmission";
    if (ourRetrans === r.retrans) continue;
    if (note === "duplicate" && r.retrans) {
      explain("DUPLICATE");
      continue;
    }
    if ((r.flags & 0x03) !== 0 && ourRetrans && !r.retrans) {
      explain("SYN_OOO");
      continue;
    }
    diffs.push({ file, what: `frame ${frame}: tshark retransmission=${r.retrans}, synsent note=${note}` });
  }
  // Per connection: SYN / SYN-ACK counts, first RST origin, initial RTT.
  const byStream = new Map<number, TsharkRow[]>();
  for (const r of rowByFrame.values()) {
    let l = byStream.get(r.stream);
    if (!l) byStream.set(r.stream, (l = []));
    l.push(r);
  }
  for (const [stream, list] of byStream) {
    const c = streamToConn.get(stream);
    if (!c) continue;
    const mine = list.filter((r) => connOf.get(r.frame)?.id === c.id);
    const dupFrames = new Set(c.ladder.filter((s) => s.note === "duplicate").map((s) => s.frame));
    const syns = mine.filter((r) => (r.flags & 0x12) === 0x02 && !dupFrames.has(r.frame) && r.src === c.client.ip).length;
    const synAcks = mine.filter((r) => (r.flags & 0x12) === 0x12 && !dupFrames.has(r.frame) && r.src === c.server.ip).length;
    if (c.client.ip !== c.server.ip) {
      if (syns !== c.syn) diffs.push({ file, what: `connection ${c.id}: tshark ${syns} SYNs, synsent ${c.syn}` });
      if (synAcks !== c.synAck) diffs.push({ file, what: `connection ${c.id}: tshark ${synAcks} SYN-ACKs, synsent ${c.synAck}` });
      const firstRst = mine.find((r) => (r.flags & 0x04) !== 0 && !dupFrames.has(r.frame));
      if (firstRst) {
        const from = firstRst.src === c.client.ip ? "client" : "server";
        if (!c.rst) diffs.push({ file, what: `connection ${c.id}: tshark RST in frame ${firstRst.frame}, synsent none` });
        else if (c.rst.from !== from || c.rst.frame !== firstRst.frame)
          diffs.push({ file, what: `connection ${c.id}: first RST tshark frame ${firstRst.frame} from ${from}, synsent frame ${c.rst.frame} from ${c.rst.from}` });
      }
    }
    const rtt = mine.find((r) => r.initialRtt !== null)?.initialRtt ?? null;
    if (rtt !== null && c.handshakeRttMs && Math.abs(rtt * 1000 - c.handshakeRttMs.total) > 0.1) {
      if (/timestamp_invalid/.test(file)) {
        explain("INVALID_TS");
        continue;
      }
      diffs.push({ file, what: `connection ${c.id}: tshark initial_rtt ${rtt * 1000} ms, synsent ${c.handshakeRttMs.total} ms` });
    }
  }
  return diffs;
}

function listCaptures(dir: string, recursive: boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && recursive) out.push(...listCaptures(p, true));
    else if (e.isFile() && /\.(pcap|pcapng|cap)(\.gz)?$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

async function diffFiles(files: string[]): Promise<{ diffs: Diff[]; explained: Map<string, number>; compared: number; connections: number }> {
  const explained = new Map<string, number>();
  const diffs: Diff[] = [];
  let compared = 0;
  let connections = 0;
  const ourRuns: { file: string; ours: OurRun }[] = [];
  for (const f of files) {
    const ours = await runOurs(f);
    if (ours && ours.tcpFrames.size > 0) ourRuns.push({ file: f, ours });
  }
  const rows = await pool(ourRuns, 2, (r) => tsharkRows(r.file));
  ourRuns.forEach((r, i) => {
    const t = rows[i];
    if (!t) return;
    compared++;
    connections += r.ours.conns.length;
    diffs.push(...compare(path.relative(ROOT, r.file), r.ours, t, explained));
  });
  return { diffs, explained, compared, connections };
}

describe.skipIf(!hasTshark)("flow tracker vs tshark", () => {
  it("agrees on the bundled captures/", { timeout: 600_000 }, async () => {
    const files = listCaptures(CAPTURES, true);
    if (files.length === 0) {
      console.warn("captures/ has no capture files yet: nothing to compare");
      return;
    }
    const r = await diffFiles(files);
    console.info(`captures/: ${r.compared} files, ${r.connections} connections; explained differences: ${JSON.stringify(Object.fromEntries(r.explained))}`);
    expect(r.diffs.slice(0, 30)).toEqual([]);
  });

  it("matches captures/expected.json (outcomes and counts each capture was built to produce)", { timeout: 300_000 }, async () => {
    const file = process.env.SSF_EXPECTED ?? path.join(CAPTURES, "expected.json");
    if (!fs.existsSync(file)) {
      console.warn(`${path.relative(ROOT, file)} not there yet: nothing to compare`);
      return;
    }
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as { captures: Record<string, ExpectedCapture> };
    const problems: string[] = [];
    for (const [name, exp] of Object.entries(doc.captures)) {
      const p = path.join(CAPTURES, name);
      if (!fs.existsSync(p)) continue;
      const ours = await runOurs(p);
      if (!ours) {
        problems.push(`${name}: could not be read`);
        continue;
      }
      const byOutcome: Record<string, number> = {};
      for (const c of ours.conns) byOutcome[c.outcome] = (byOutcome[c.outcome] ?? 0) + 1;
      const sum = (f: (c: Connection) => number): number => ours.conns.reduce((n, c) => n + f(c), 0);
      const got = {
        connections: ours.conns.length,
        byOutcome: Object.fromEntries(Object.entries(byOutcome).sort()),
        syn: sum((c) => c.syn),
        synAck: sum((c) => c.synAck),
        dataRetransmissions: sum((c) => c.retransmissions.data),
        duplicates: sum((c) => c.duplicates),
      };
      const want = {
        connections: exp.totals.connections,
        byOutcome: Object.fromEntries(Object.entries(exp.totals.byOutcome).sort()),
        syn: exp.totals.syn,
        synAck: exp.totals.synAck,
        dataRetransmissions: exp.totals.dataRetransmissions,
        duplicates: exp.totals.duplicates,
      };
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${name}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      for (const e of exp.connections ?? []) {
        const c = ours.conns.find((x) => x.client.port === e.clientPort && x.server.port === e.serverPort && x.client.ip === e.client);
        if (!c) {
          problems.push(`${name}: no connection ${e.client}:${e.clientPort} -> ${e.server}:${e.serverPort}`);
          continue;
        }
        const g = { outcome: c.outcome, syn: c.syn, synAck: c.synAck, rstFrom: c.rst?.from ?? null, icmp: c.icmp ? { type: c.icmp.type, code: c.icmp.code, from: c.icmp.from } : null };
        const w = { outcome: e.outcome, syn: e.syn, synAck: e.synAck, rstFrom: e.rstFrom, icmp: e.icmp };
        if (JSON.stringify(g) !== JSON.stringify(w)) problems.push(`${name} ${e.clientPort}->${e.serverPort}: got ${JSON.stringify(g)}, expected ${JSON.stringify(w)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.skipIf(!fs.existsSync(CORPUS))("agrees on the TCP files of the tcpdump corpus", { timeout: 900_000 }, async () => {
    const files = listCaptures(CORPUS, false);
    const r = await diffFiles(files);
    console.info(`corpus: ${r.compared} files with TCP, ${r.connections} connections; explained differences: ${JSON.stringify(Object.fromEntries(r.explained))}`);
    expect(r.compared).toBeGreaterThan(10);
    expect(r.diffs.slice(0, 40)).toEqual([]);
  });
});
