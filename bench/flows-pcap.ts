/**
 * End-to-end check and timing of sources -> decode -> flows -> diagnose on a
 * generated capture with a truth file (bench/generate.ts):
 *
 *   npm run build && node dist/bench/flows-pcap.js bench/out/bench-200k-seed1.pcap
 *
 * Environment: DECODE_ONLY=1 (sources + decode only), NO_DIAG=1 (no
 * diagnoser), LADDER_FOR=problems (FlowTracker ladderFor option).
 */
import * as fs from "node:fs";
import { openCapture } from "../src/sources/open.js";
import { decodePacket } from "../src/decode/decode.js";
import { Kind, PacketView } from "../src/decode/packet.js";
import { FlowTracker } from "../src/flows/tracker.js";
import { Diagnoser } from "../src/diagnose/diagnose.js";
import type { Outcome } from "../src/flows/connection.js";

const file = process.argv[2] ?? "bench/out/bench-200k-seed1.pcap";
const truth = JSON.parse(fs.readFileSync(file + ".truth.json", "utf8"));
const noDiag = process.env.NO_DIAG === "1";
const outcomes: Partial<Record<Outcome, number>> = {};
const zeek: Record<string, number> = {};
let syn = 0, synAck = 0, dataRetrans = 0, synRetrans = 0, conns = 0, withRetrans = 0;
const diag = new Diagnoser();
const tracker = new FlowTracker({
  ladderFor: process.env.LADDER_FOR === "problems" ? "problems" : "all",
  onConnection: (c) => {
    conns++;
    outcomes[c.outcome] = (outcomes[c.outcome] ?? 0) + 1;
    zeek[c.zeekState] = (zeek[c.zeekState] ?? 0) + 1;
    syn += c.syn;
    synAck += c.synAck;
    dataRetrans += c.retransmissions.data;
    synRetrans += c.retransmissions.syn;
    if (c.retransmissions.data > 0) withRetrans++;
    if (!noDiag) diag.add(c);
  },
});
const decodeOnlyMode = process.env.DECODE_ONLY === "1";
const view = new PacketView();
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const src = await openCapture([file]);
let frame = 0;
let decodeOnly = 0;
for (;;) {
  const b = await src.next();
  if (b === null) break;
  for (let i = 0; i < b.count; i++) {
    frame++;
    const k = decodePacket(view, b.data, b.offset[i]!, b.capLen[i]!, b.origLen[i]!, b.linkType[i]!, b.fcsLen[i]!);
    if ((k === Kind.TCP || k === Kind.ICMP_UNREACH) && !decodeOnlyMode) tracker.packet(view, frame, b.tsSec[i]!, b.tsNsec[i]!);
    else decodeOnly++;
  }
}
tracker.finish();
const d = diag.finish();
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
console.log(`${frame} packets in ${wall.toFixed(2)} s wall (${(frame / wall / 1e6).toFixed(2)} M packets/s), ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (${(frame / ((cpu.user + cpu.system) / 1e6) / 1e6).toFixed(2)} M packets/s of CPU)`);
console.log(`connections ${conns} (truth ${truth.connections}), peak table ${tracker.stats.peak}, evicted ${tracker.stats.evicted}, duplicates ${tracker.stats.duplicates}`);
console.log("outcomes", outcomes, "truth", truth.outcomes);
console.log("zeek", zeek, "truth", truth.zeek);
console.log(`syn ${syn} (truth ${truth.syn}), synAck ${synAck} (${truth.synAck}), data retrans ${dataRetrans} (${truth.dataRetransmissions}), syn retrans ${synRetrans} (${truth.synRetransmissions}), conns with retrans ${withRetrans} (${truth.connectionsWithRetransmission})`);
console.log(`findings: ${d.findings.length}, destinations: ${d.destinations.length}, examples: ${d.examples.length}`);
for (const f of d.findings.slice(0, 5)) console.log(` - [${f.severity}] ${f.title}`);
console.log(` heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
