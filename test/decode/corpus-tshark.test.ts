/**
 * Differential test against tshark over the tcpdump project's regression
 * captures (../shared/corpus/tcpdump): for every file with packets on link
 * types synsent decodes, synsent's packet count and TCP packet count must
 * equal tshark's, where a tshark frame is TCP when the outermost transport
 * protocol in frame.protocols is tcp (see tsharkIsTcp). Frame by frame, in
 * fact: the same frames must be TCP, so two errors cannot cancel out. ICMP
 * destination-unreachable frames (Kind.ICMP_UNREACH) are compared the same
 * way. Files where synsent differs on purpose are listed in KNOWN_DIFFERENCES
 * with the reason.
 *
 * tshark runs once per file, two at a time; results are cached under
 * node_modules/.cache/synsent-tshark/ by file hash + tshark version.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pool } from "../helpers/cli.js";
import { decodePacket } from "../../src/decode/decode.js";
import { isDecodedLinkType, linkTypeName } from "../../src/decode/linktypes.js";
import { Kind, KIND_LABEL, PacketView } from "../../src/decode/packet.js";
import {
  CORPUS_DIR,
  readCapture,
  tsharkFrames,
  tsharkIsIcmpUnreach,
  tsharkIsTcp,
  tsharkVersion,
  type Records,
} from "./helpers.js";

const FIRST_FRAGMENT_INCOMPLETE =
  "a first IPv4 fragment (MF set) whose bytes are not all in the frame (snap length, or IP length past the " +
  "frame): tshark cannot queue it for reassembly and decodes its TCP header instead; synsent skips every " +
  "fragment (SKIP_FRAGMENT), first or not";
/** File name -> why synsent differs from tshark there, on purpose. */
const KNOWN_DIFFERENCES: Record<string, string> = {
  "bgp-bgp_capabilities_print-oobr-1.pcap": FIRST_FRAGMENT_INCOMPLETE,
  "bgp-bgp_capabilities_print-oobr-2.pcap": FIRST_FRAGMENT_INCOMPLETE,
  "bgp_pmsi_tunnel-oobr.pcap": FIRST_FRAGMENT_INCOMPLETE,
  "rpki-rtr-oobr.pcap": FIRST_FRAGMENT_INCOMPLETE,
  "tcp_header_heapoverflow.pcap":
    "only 12 bytes of the TCP header captured: tshark shows a partial tcp layer, synsent needs the 20 fixed " +
    "bytes (SKIP_TRUNCATED)",
};

const corpusPresent = existsSync(CORPUS_DIR);
const files = corpusPresent
  ? readdirSync(CORPUS_DIR)
      .filter((f) => f.endsWith(".pcap") || f.endsWith(".pcapng"))
      .sort()
  : [];

interface FileResult {
  file: string;
  records: number;
  decodedRecords: number;
  tcp: number;
  /** Kind per record (index = frame number - 1), -1 for link types not decoded. */
  kinds: Int8Array;
  linkTypes: Set<number>;
  stopped: string | null;
  error: string | null;
}

function decodeAll(file: string, recs: Records): FileResult {
  const view = new PacketView();
  const kinds = new Int8Array(recs.total);
  const linkTypes = new Set<number>();
  let i = 0;
  let tcp = 0;
  let decodedRecords = 0;
  let error: string | null = null;
  for (const b of recs.batches) {
    for (let r = 0; r < b.count; r++, i++) {
      const lt = b.linkType[r]!;
      linkTypes.add(lt);
      try {
        const k = decodePacket(view, b.data, b.offset[r]!, b.capLen[r]!, b.origLen[r]!, lt, b.fcsLen[r]!);
        if (isDecodedLinkType(lt)) {
          decodedRecords++;
          kinds[i] = k;
          if (k === Kind.TCP) tcp++;
        } else {
          kinds[i] = -1;
          if (k !== Kind.SKIP_LINKTYPE) error ??= `frame ${i + 1}: link type ${lt} not decoded but kind ${k}`;
        }
      } catch (e) {
        error ??= `frame ${i + 1}: decodePacket threw ${(e as Error).stack}`;
      }
    }
  }
  return { file, records: recs.total, decodedRecords, tcp, kinds, linkTypes, stopped: recs.stopped, error };
}

describe.skipIf(!corpusPresent)(`tcpdump corpus (${CORPUS_DIR})`, () => {
  // Read and decode every file once; both tests use the results (either can run alone).
  let loading: Promise<Map<string, FileResult>> | null = null;
  const loadAll = (): Promise<Map<string, FileResult>> =>
    (loading ??= (async () => {
      const out = new Map<string, FileResult>();
      for (const f of files) {
        let recs: Records;
        try {
          recs = await readCapture(join(CORPUS_DIR, f));
        } catch {
          // Unreadable files are the readers' business (one-line InputError), not the decoder's.
          continue;
        }
        out.set(f, decodeAll(f, recs));
      }
      return out;
    })());

  it("decodePacket never throws on any packet (files read with openCapture)", async () => {
    const results = await loadAll();
    const errors = [...results.values()].filter((r) => r.error !== null).map((r) => `${r.file}: ${r.error}`);
    expect(errors).toEqual([]);
    // The corpus has ~800 readable files; make sure we really decoded something.
    expect(results.size).toBeGreaterThan(700);
    const totalTcp = [...results.values()].reduce((s, r) => s + r.tcp, 0);
    expect(totalTcp).toBeGreaterThan(1000);
  }, 300_000);

  if (tsharkVersion() === null) it.skip("tshark comparison: tshark is not installed", () => {});
  it.skipIf(tsharkVersion() === null)(
    "packet, TCP and ICMP-unreachable counts equal tshark's (outermost transport), frame by frame",
    async () => {
      const results = await loadAll();
      const candidates = files.filter((f) => {
        const r = results.get(f);
        return r !== undefined && r.decodedRecords > 0;
      });
      const mismatches: string[] = [];
      const unexpectedlyEqual: string[] = [];
      let tsTcpTotal = 0;
      let tsUnreachTotal = 0;
      await pool(candidates, 2, async (f) => {
        const r = results.get(f)!;
        const ts = await tsharkFrames(join(CORPUS_DIR, f));
        const lines: string[] = [];
        if (ts.protocols.length !== r.records) {
          lines.push(`packets: synsent ${r.records}, tshark ${ts.protocols.length}` +
            (r.stopped ? ` (synsent stopped: ${r.stopped})` : "") + (ts.stderr ? ` (tshark: ${ts.stderr.split("\n")[0]})` : ""));
        }
        let tsTcp = 0;
        let differing = 0;
        const frames: string[] = [];
        const n = Math.min(ts.protocols.length, r.records);
        for (let i = 0; i < n; i++) {
          const k = r.kinds[i]!;
          if (k === -1) continue; // link type synsent does not decode
          const tsIsTcp = tsharkIsTcp(ts.protocols[i]!);
          if (tsIsTcp) tsTcp++;
          const tsIsUnreach = tsharkIsIcmpUnreach(ts, i);
          if (tsIsUnreach) tsUnreachTotal++;
          if (tsIsTcp !== (k === Kind.TCP) || tsIsUnreach !== (k === Kind.ICMP_UNREACH)) {
            differing++;
            if (frames.length < 5) frames.push(`#${i + 1} synsent=${KIND_LABEL[k] ?? k} tshark=${ts.protocols[i]}`);
          }
        }
        tsTcpTotal += tsTcp;
        let synTcp = 0;
        for (let i = 0; i < n; i++) if (r.kinds[i] === Kind.TCP) synTcp++;
        // Stricter than equal totals: the same frames must be TCP (no errors cancelling out).
        if (differing > 0) lines.push(`tcp: synsent ${synTcp}, tshark ${tsTcp}; ${differing} frames differ: ${frames.join("; ")}`);
        const lts = [...r.linkTypes].map(linkTypeName).join(",");
        if (lines.length > 0 && !(f in KNOWN_DIFFERENCES)) mismatches.push(`${f} [${lts}]: ${lines.join(" | ")}`);
        if (lines.length === 0 && f in KNOWN_DIFFERENCES) unexpectedlyEqual.push(f);
      });
      expect(mismatches.sort()).toEqual([]);
      // Guard against a vacuous pass (e.g. tshark output not parsed).
      expect(candidates.length).toBeGreaterThan(500);
      expect(tsTcpTotal).toBeGreaterThan(1000);
      expect(tsUnreachTotal).toBeGreaterThan(20);
      // Keep the list honest: an entry that no longer differs must go.
      expect(unexpectedlyEqual.sort()).toEqual([]);
    },
    1_200_000,
  );
});

if (!corpusPresent) {
  describe("tcpdump corpus", () => {
    it.skip(`absent: ${CORPUS_DIR} not found (CI puts shared/ beside the checkout)`, () => {});
  });
}

describe("tshark frame classification used above", () => {
  it("counts a frame as TCP only when tcp is the outermost transport", () => {
    expect(tsharkIsTcp("eth:ethertype:ip:tcp")).toBe(true);
    expect(tsharkIsTcp("sll:ethertype:ipv6:ipv6.hopopts:tcp:http")).toBe(true);
    expect(tsharkIsTcp("eth:ethertype:vlan:ethertype:ieee8021ad:ethertype:ip:tcp")).toBe(true);
    expect(tsharkIsTcp("ppp:mpls:ip:tcp")).toBe(true);
    expect(tsharkIsTcp("eth:ethertype:ip:ipv6:tcp")).toBe(true); // 6in4: no outer transport
    expect(tsharkIsTcp("eth:ethertype:ip:icmp:ip:tcp")).toBe(false); // quoted in an ICMP error
    expect(tsharkIsTcp("eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp")).toBe(false);
    expect(tsharkIsTcp("eth:ethertype:ip:gre:ip:tcp")).toBe(false);
    expect(tsharkIsTcp("eth:ethertype:ip")).toBe(false);
    expect(tsharkIsTcp("")).toBe(false);
  });

  it("ICMP unreachable: outermost icmp type 3 / icmpv6 type 1", () => {
    const ts = {
      protocols: ["eth:ethertype:ip:icmp:ip:tcp", "eth:ethertype:ip:icmp:ip:udp", "eth:ethertype:ipv6:icmpv6", "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp"],
      icmpType: [3, 11, -1, 3],
      icmpv6Type: [-1, -1, 1, -1],
      exitCode: 0,
      stderr: "",
    };
    expect([0, 1, 2, 3].map((i) => tsharkIsIcmpUnreach(ts, i))).toEqual([true, false, true, false]);
  });
});
