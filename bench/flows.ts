/**
 * Micro-benchmark of the flow tracker alone: synthetic PacketView updates
 * (no decoding), short connections like the reference capture (7 packets per
 * connection, ~200 k connections per 1.4 M packets), interleaved 64 at a time.
 *
 *   npm run build && node dist/bench/flows.js [packets]
 */
import { Kind, PacketView, TcpFlag } from "../src/decode/packet.js";
import { FlowTracker } from "../src/flows/tracker.js";
import { Diagnoser } from "../src/diagnose/diagnose.js";

const total = Number(process.argv[2] ?? 1_400_000);
const view = new PacketView();
view.kind = Kind.TCP;
view.ipVersion = 4;
let emitted = 0;
const diag = new Diagnoser();
const withDiag = process.argv[3] !== "nodiag";
const tracker = new FlowTracker({ ladderLimit: Number(process.env.LADDER ?? 12), onConnection: (c) => { emitted++; if (withDiag) diag.add(c); } });

const S = TcpFlag.SYN, A = TcpFlag.ACK, F = TcpFlag.FIN, P = TcpFlag.PSH;
// packet k of a connection: [fromClient, flags, len]
const script: [boolean, number, number][] = [
  [true, S, 0], [false, S | A, 0], [true, A, 0], [true, P | A, 200], [false, P | A, 1200], [true, F | A, 0], [false, F | A, 0],
];
const PER = script.length;
const INTERLEAVE = 64;
const t0 = 1_700_000_000;

let cpuPps = 0;
function run(n: number): number {
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let frame = 0;
  const conns = Math.ceil(n / PER);
  for (let base = 0; base < conns; base += INTERLEAVE) {
    for (let k = 0; k < PER; k++) {
      for (let j = 0; j < INTERLEAVE && base + j < conns; j++) {
        const id = base + j;
        const step = script[k]!;
        const fromC = step[0], flags = step[1], len = step[2];
        const caddr = 0x0a000000 + (id % 5000);
        const cport = 1024 + (id % 60000);
        const saddr = 0x0a010000 + (id % 50);
        view.src[0] = fromC ? caddr : saddr;
        view.dst[0] = fromC ? saddr : caddr;
        view.srcPort = fromC ? cport : 443;
        view.dstPort = fromC ? 443 : cport;
        view.flags = flags;
        view.payloadLen = len;
        const cisn = (id * 2654435761) >>> 0;
        const sisn = (id * 40503 + 7) >>> 0;
        // seq/ack consistent with the script
        if (fromC) {
          view.seq = k === 0 ? cisn : k === 5 ? (cisn + 201) >>> 0 : (cisn + 1 + (k > 3 ? 200 : 0)) >>> 0;
          view.ack = k === 0 ? 0 : (sisn + 1 + (k >= 5 ? 1200 : 0)) >>> 0;
        } else {
          view.seq = k === 1 ? sisn : k === 6 ? (sisn + 1201) >>> 0 : (sisn + 1) >>> 0;
          view.ack = (cisn + 1 + (k >= 4 ? 200 : 0) + (k === 6 ? 1 : 0)) >>> 0;
        }
        view.ttl = fromC ? 64 : 61;
        view.ipId = (frame * 7) & 0xffff;
        view.window = 500;
        frame++;
        const ts = t0 + frame * 1e-6;
        const sec = Math.floor(ts);
        tracker.packet(view, frame, sec, Math.round((ts - sec) * 1e9));
      }
    }
  }
  tracker.finish();
  const ns = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpu0);
  cpuPps = frame / ((cpu.user + cpu.system) / 1e6);
  return frame / (ns / 1e9);
}

const pps = run(total);
const d = diag.finish();
console.log(
  `flow tracker${withDiag ? " + diagnoser" : ""}: ${(pps / 1e6).toFixed(2)} M packets/s wall, ${(cpuPps / 1e6).toFixed(2)} M packets/s of CPU time, over ${total} packets, ${emitted} connections, ` +
    `peak table ${tracker.stats.peak}, ${d.destinations.length} destinations, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`,
);
