/**
 * Decoder micro-benchmark: decodePacket over a batch of typical packets
 * (Ethernet/IPv4 and IPv6 TCP with and without options, a VLAN-tagged one,
 * Linux SLL, an ICMP unreachable, a UDP packet), reusing one PacketView as
 * the pipeline does. Prints ns per packet.
 *
 *   npm run build && node dist/bench/decode-micro.js [packets=20000000]
 */
import { decodePacket } from "../src/decode/decode.js";
import { Kind, PacketView } from "../src/decode/packet.js";

function hex(s: string): number[] {
  const out: number[] = [];
  for (const b of s.replace(/\s+/g, "").match(/../g) ?? []) out.push(parseInt(b, 16));
  return out;
}

const ETH = "020000000001 020000000002";
const SYN_TCP = "c738 01bb fffffff0 00000000 a002 faf0 0000 0000 020405b4 0402080a deadbeef 00000000 01030307";
const ACK_TCP = "c738 01bb fffffff1 12345678 8010 01f6 0000 0000 0101080a deadbef0 abcdef01";
const IP4_SYN = "4500 003c 1234 4000 4006 0000 c0000201 c6336407";
const IP4_ACK = "4500 0034 1235 4000 4006 0000 c0000201 c6336407";
const IP6_SYN = "60000000 0028 0640 20010db8000000000000000000000001 20010db8000000000000000000000002";
const UDP = "4500 001c 1236 4000 4011 0000 c0000201 c6336407 0035 0035 0008 0000";
const ICMP = "4500 0044 1237 0000 4001 0000 c6336401 c0000201 0303 0000 00000000 " + IP4_SYN + " c738 01bb fffffff0 00000000 a002 faf0";

const packets: [number, number[]][] = [
  [1, hex(ETH + "0800" + IP4_SYN + SYN_TCP)],
  [1, hex(ETH + "0800" + IP4_ACK + ACK_TCP)],
  [1, hex(ETH + "0800" + IP4_ACK + ACK_TCP)],
  [1, hex(ETH + "86dd" + IP6_SYN + SYN_TCP)],
  [1, hex(ETH + "8100 0064 0800" + IP4_ACK + ACK_TCP)],
  [113, hex("0000 0001 0006 020000000001 0000 0800" + IP4_ACK + ACK_TCP)],
  [1, hex(ETH + "0800" + ICMP)],
  [1, hex(ETH + "0800" + UDP)],
];

// Lay the packets out in one buffer, many times over, like a RecordBatch.
const COPIES = 512;
const n = packets.length * COPIES;
let total = 0;
for (const [, p] of packets) total += p.length;
const data = new Uint8Array(total * COPIES);
const offset = new Uint32Array(n);
const capLen = new Uint32Array(n);
const linkType = new Uint32Array(n);
let pos = 0;
for (let c = 0; c < COPIES; c++) {
  for (let i = 0; i < packets.length; i++) {
    const [lt, p] = packets[i]!;
    const r = c * packets.length + i;
    data.set(p, pos);
    offset[r] = pos;
    capLen[r] = p.length;
    linkType[r] = lt;
    pos += p.length;
  }
}

const view = new PacketView();
const want = Number(process.argv[2] ?? 20_000_000);
let tcp = 0;
const run = (count: number): void => {
  for (let done = 0; done < count; ) {
    for (let r = 0; r < n; r++) {
      if (decodePacket(view, data, offset[r]!, capLen[r]!, capLen[r]!, linkType[r]!, 0) === Kind.TCP) tcp++;
    }
    done += n;
  }
};
run(2_000_000); // warm up the JIT
tcp = 0;
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
run(want);
const c1 = process.cpuUsage(c0);
const ns = Number(process.hrtime.bigint() - t0);
const cpuNs = (c1.user + c1.system) * 1000;
const rounds = Math.ceil(want / n) * n;
// CPU time is the steadier number on a shared machine (wall time includes time descheduled).
console.log(
  `decodePacket: ${(cpuNs / rounds).toFixed(1)} ns/packet CPU, ${(ns / rounds).toFixed(1)} ns/packet wall ` +
    `(${rounds} packets, ${((rounds / cpuNs) * 1e3).toFixed(1)} M packets/s per core, ${tcp} TCP)`,
);
