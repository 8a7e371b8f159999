import { describe, expect, it } from "vitest";
import { decodePacket } from "../../src/decode/decode.js";
import { Kind, PacketView } from "../../src/decode/packet.js";
import { Anonymizer } from "../../src/report/anonymize.js";
import { anonymizeRecord } from "../../src/report/evidence.js";
import { addrBytes, tcp } from "./build.js";

function ipChecksumOk(d: Uint8Array, o: number): boolean {
  const ihl = (d[o]! & 0x0f) * 4;
  let s = 0;
  for (let i = 0; i < ihl; i += 2) s += (d[o + i]! << 8) | d[o + i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay).includes(Buffer.from(needle));
}

describe("anonymizeRecord", () => {
  it("rewrites the outer header of an IP-in-IP tunnel, the inner one and the Linux cooked (SLL) MAC", () => {
    const inner = tcp({ src: "192.0.2.10", sport: 5555, dst: "198.51.100.20", dport: 443, flags: "SYN", seq: 1 });
    // Outer IPv4 header, protocol 4 (IPv4 in IPv4).
    const outer = new Uint8Array(20);
    outer[0] = 0x45;
    outer[2] = (20 + inner.length) >> 8;
    outer[3] = (20 + inner.length) & 0xff;
    outer[8] = 64;
    outer[9] = 4;
    outer.set(addrBytes("203.0.113.1"), 12);
    outer.set(addrBytes("203.0.113.2"), 16);
    const sll = new Uint8Array(16);
    sll[1] = 0; // packet type: to us
    sll[2] = 0;
    sll[3] = 1; // ARPHRD_ETHER
    sll[5] = 6; // address length
    const mac = [0x00, 0x16, 0x3e, 0x11, 0x22, 0x33];
    sll.set(mac, 6);
    sll[14] = 0x08; // protocol IPv4
    const frame = new Uint8Array(16 + 20 + inner.length);
    frame.set(sll);
    frame.set(outer, 16);
    frame.set(inner, 36);

    const v = new PacketView();
    expect(decodePacket(v, frame, 0, frame.length, frame.length, 113, 0)).toBe(Kind.TCP);
    expect(v.ipOffset).toBe(36); // the view describes the inner datagram
    const an = new Anonymizer("tunnel");
    const cap = anonymizeRecord(an, v, frame, 0, frame.length, 113);
    expect(cap).toBe(16 + 20 + 20 + 24); // everything up to the end of the TCP header (MSS option included)
    for (const ip of ["192.0.2.10", "198.51.100.20", "203.0.113.1", "203.0.113.2"]) {
      expect(contains(frame.subarray(0, cap), addrBytes(ip)), ip).toBe(false);
      expect(contains(frame.subarray(0, cap), addrBytes(an.ipText(ip))), ip).toBe(true);
    }
    expect(contains(frame, new Uint8Array(mac))).toBe(false);
    expect(ipChecksumOk(frame, 16)).toBe(true);
    expect(ipChecksumOk(frame, 36)).toBe(true);
  });
});
