/**
 * `--anonymize[=KEY]`: consistent, prefix-preserving address anonymization for
 * reports and evidence files.
 *
 * ## What anonymization hides
 * - **IP addresses** (IPv4 and IPv6), everywhere synsent writes them: in every
 *   report format (connections, destinations, findings' titles and details,
 *   examples, the ICMP sender, the capture filter text) and, in `--evidence`
 *   files, in the IP headers *and* in the headers quoted inside ICMP errors.
 *   The mapping is Crypto-PAn (Xu, Fan, Ammar, Moon, 2002): two addresses that
 *   share a k-bit prefix map to addresses that share exactly a k-bit prefix, so
 *   "same subnet" stays visible while the subnet itself does not.
 * - **MAC addresses** in Ethernet and Linux cooked (SLL/SLL2) headers of
 *   evidence files: each unicast MAC becomes a keyed pseudonym with the
 *   locally-administered bit set; group (multicast/broadcast) MACs are kept,
 *   since they name a protocol group, not a host.
 * - **Payload**: evidence packets are cut right after the TCP header (options
 *   included) or, for ICMP errors, after the quoted IP header and the first
 *   20 bytes of the quoted TCP header. The captured length shrinks; the
 *   original (on-the-wire) length is kept, so Wireshark shows
 *   "[Packet size limited during capture]" and sizes stay true.
 *
 * ## Checksums in anonymized evidence
 * - IPv4 header checksums (outer and ICMP-quoted) are recomputed: they stay
 *   valid.
 * - The TCP checksum is set to the checksum of the segment *with its payload
 *   replaced by zero bytes* (same length, new addresses). Keeping the original
 *   one would leak 16 bits about the payload. Because the payload is no longer
 *   in the file, Wireshark cannot verify it and reports it as unverified, not
 *   bad; a segment without payload (SYN, RST, pure ACK) verifies as good.
 * - ICMP / ICMPv6 checksums are recomputed the same way (quoted bytes that were
 *   cut count as zeros).
 * - The checksum of the TCP header quoted inside an ICMP error is adjusted for
 *   the address change (RFC 1624 incremental update), so it still matches the
 *   original segment.
 *
 * ## What anonymization does NOT hide
 * - Ports, TCP sequence/ack numbers, windows, TCP options (MSS, window scale,
 *   SACK, **timestamp values**, which can fingerprint hosts and uptime).
 * - Timing (every timestamp), TTLs / hop limits, IP IDs, packet sizes and
 *   counts, ICMP types/codes: the diagnosis depends on them.
 * - File names, interface names and error messages about files (shown as given,
 *   so a ticket can say which capture it came from: rename files first if the
 *   name is sensitive).
 * - Addresses carried inside payloads other than ICMP quotes (e.g. in
 *   application data of a non-anonymized report, DNS answers, IPv6 addresses
 *   embedded in options or extension headers such as routing headers).
 * - Link types and VLAN tags.
 * - Anything about the key: without `=KEY` a random key is used per run (the
 *   mapping changes each run); with a KEY the mapping is the same across runs
 *   and machines, so keep the KEY as secret as the addresses themselves.
 */
import { createCipheriv, createHmac, randomBytes, scryptSync, type Cipher } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { Connection, Endpoint } from "../flows/connection.js";
import { formatAddr, parseAddr } from "../decode/addr.js";
import type { Report } from "./model.js";

/** Salt for deriving the 32-byte Crypto-PAn key from the user's KEY text. Changing it changes every mapping. */
const KDF_SALT = "synsent --anonymize v1";
/** Largest number of addresses remembered per family (beyond that the cache is dropped and refilled). */
const CACHE_MAX = 1 << 16;

/**
 * Crypto-PAn over a raw 32-byte key, exactly as the reference implementation:
 * bytes 0..15 are the AES-128 key, bytes 16..31 are encrypted once to make the
 * pad. IPv4 uses the first 32 bits of the 128-bit scheme, so the published
 * reference vectors apply unchanged.
 */
export class CryptoPan {
  private readonly cipher: Cipher;
  private readonly pad: Uint8Array;
  /** Scratch input for up to 128 AES blocks (one per address bit). */
  private readonly blocks = Buffer.alloc(16 * 128);

  constructor(key32: Uint8Array) {
    if (key32.length !== 32) throw new Error(`Crypto-PAn key must be 32 bytes, got ${key32.length}`);
    const cipher = createCipheriv("aes-128-ecb", key32.subarray(0, 16), null);
    cipher.setAutoPadding(false);
    this.cipher = cipher;
    this.pad = new Uint8Array(cipher.update(key32.subarray(16, 32)));
  }

  /**
   * Anonymize the first `bits` bits of `addr` (16 bytes, big-endian; IPv4 in
   * bytes 0..3) into `out`. Bits past `bits` are copied unchanged.
   */
  anonymizeBits(addr: Uint8Array, bits: 32 | 128, out: Uint8Array): void {
    const blocks = this.blocks;
    const pad = this.pad;
    // Block `pos` = first `pos` bits of the address, then the pad's bits.
    for (let pos = 0; pos < bits; pos++) {
      const base = pos * 16;
      const full = pos >> 3;
      for (let i = 0; i < 16; i++) {
        let b: number;
        if (i < full) b = addr[i]!;
        else if (i > full || (pos & 7) === 0) b = pad[i]!;
        else {
          const mask = (0xff << (8 - (pos & 7))) & 0xff;
          b = (addr[i]! & mask) | (pad[i]! & ~mask & 0xff);
        }
        blocks[base + i] = b;
      }
    }
    // ECB encrypts blocks independently: one call does all of them.
    const enc = this.cipher.update(blocks.subarray(0, bits * 16));
    for (let i = 0; i < 16; i++) out[i] = addr[i]!;
    for (let pos = 0; pos < bits; pos++) {
      const bit = enc[pos * 16]! >> 7;
      out[pos >> 3] = out[pos >> 3]! ^ (bit << (7 - (pos & 7)));
    }
  }
}

/** Derive the 32-byte Crypto-PAn key from the user's KEY text (scrypt, fixed salt: same KEY, same mapping). */
export function deriveKey(key: string): Uint8Array {
  return new Uint8Array(scryptSync(key, KDF_SALT, 32));
}

/** Parse dotted-quad IPv4 text to a 32-bit unsigned number, or -1. */
export function parseIpv4(text: string): number {
  if (!isIPv4(text)) return -1;
  const a = parseAddr(text);
  return a !== null && a.ipVersion === 4 ? a.words[0]! : -1;
}

const v4Words = new Uint32Array(4);

export function formatIpv4(word: number): string {
  v4Words[0] = word;
  return formatAddr(4, v4Words);
}

/** Parse IPv6 text (any valid form, incl. embedded IPv4) into 4 big-endian words. False if not IPv6. */
export function parseIpv6(text: string, out: Uint32Array): boolean {
  if (!isIPv6(text)) return false;
  const a = parseAddr(text);
  if (a === null || a.ipVersion !== 6) return false;
  out.set(a.words);
  return true;
}

/** The same text as every other address in a report (RFC 5952, as tshark prints it). */
export function formatIpv6(words: ArrayLike<number>): string {
  return formatAddr(6, words instanceof Uint32Array ? words : Uint32Array.from(words));
}

// Candidates in free text; each is validated before it is replaced.
const IPV4_IN_TEXT = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)/g;
const IPV6_IN_TEXT = /(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})(?![0-9A-Za-z]|\.\d)/g;

export class Anonymizer {
  /** True when no KEY was given and a random key was made for this run (mappings differ between runs). */
  readonly keyWasGenerated: boolean;
  private readonly pan: CryptoPan;
  private readonly macKey: Uint8Array;
  private readonly v4Cache = new Map<number, number>();
  private readonly v6Cache = new Map<string, string>();
  private readonly macCache = new Map<string, Uint8Array>();
  private readonly inBuf = new Uint8Array(16);
  private readonly outBuf = new Uint8Array(16);
  private readonly words = new Uint32Array(4);

  /**
   * @param key the user's KEY text (derived with scrypt) or null for a random
   *   per-run key. `rawKey` (tests, interop with other Crypto-PAn tools) takes a
   *   raw 32-byte key instead and wins over `key`.
   */
  constructor(key: string | null, rawKey?: Uint8Array) {
    let k: Uint8Array;
    if (rawKey) {
      k = rawKey;
      this.keyWasGenerated = false;
    } else if (key === null) {
      k = new Uint8Array(randomBytes(32));
      this.keyWasGenerated = true;
    } else {
      k = deriveKey(key);
      this.keyWasGenerated = false;
    }
    this.pan = new CryptoPan(k);
    // A separate key for MACs, so MAC pseudonyms say nothing about the IP mapping.
    this.macKey = new Uint8Array(createHmac("sha256", Buffer.from(k)).update("synsent mac").digest());
  }

  /** One sentence for reports and stderr: what was anonymized, with which kind of key, and what was not. */
  describe(): string {
    return this.keyWasGenerated
      ? "IP addresses are anonymized (Crypto-PAn, prefix-preserving) with a random key made for this run: the same address maps differently in another run. Ports, timing and file names are not anonymized."
      : "IP addresses are anonymized (Crypto-PAn, prefix-preserving) with the given key: the same key gives the same mapping in every run. Ports, timing and file names are not anonymized.";
  }

  /** Anonymize one IPv4 address given as an unsigned 32-bit number. */
  ipv4Words(word: number): number {
    const w = word >>> 0;
    const hit = this.v4Cache.get(w);
    if (hit !== undefined) return hit;
    const a = this.inBuf;
    a.fill(0);
    a[0] = w >>> 24;
    a[1] = (w >>> 16) & 0xff;
    a[2] = (w >>> 8) & 0xff;
    a[3] = w & 0xff;
    this.pan.anonymizeBits(a, 32, this.outBuf);
    const o = this.outBuf;
    const r = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
    if (this.v4Cache.size >= CACHE_MAX) this.v4Cache.clear();
    this.v4Cache.set(w, r);
    return r;
  }

  /** Anonymize one IPv6 address (4 big-endian words) into `out` (may be the same array). */
  ipv6Words(words: Uint32Array, out: Uint32Array): void {
    const key = `${words[0]},${words[1]},${words[2]},${words[3]}`;
    let hit = this.v6Cache.get(key);
    if (hit === undefined) {
      const a = this.inBuf;
      for (let i = 0; i < 4; i++) {
        const w = words[i]!;
        a[4 * i] = w >>> 24;
        a[4 * i + 1] = (w >>> 16) & 0xff;
        a[4 * i + 2] = (w >>> 8) & 0xff;
        a[4 * i + 3] = w & 0xff;
      }
      this.pan.anonymizeBits(a, 128, this.outBuf);
      const o = this.outBuf;
      const r: number[] = [];
      for (let i = 0; i < 4; i++) r.push(((o[4 * i]! << 24) | (o[4 * i + 1]! << 16) | (o[4 * i + 2]! << 8) | o[4 * i + 3]!) >>> 0);
      hit = r.join(",");
      if (this.v6Cache.size >= CACHE_MAX) this.v6Cache.clear();
      this.v6Cache.set(key, hit);
    }
    const p = hit.split(",");
    for (let i = 0; i < 4; i++) out[i] = +p[i]!;
  }

  /** Anonymize an address given as text (IPv4 or IPv6); any other text is returned unchanged. */
  ipText(text: string): string {
    const v4 = parseIpv4(text);
    if (v4 >= 0) return formatIpv4(this.ipv4Words(v4));
    if (parseIpv6(text, this.words)) {
      this.ipv6Words(this.words, this.words);
      return formatIpv6(this.words);
    }
    return text;
  }

  /** Replace every IPv4/IPv6 address found inside free text (titles, details, filters). */
  textAddresses(text: string): string {
    if (!text) return text;
    let s = text.replace(IPV4_IN_TEXT, (m) => (parseIpv4(m) >= 0 ? this.ipText(m) : m));
    s = s.replace(IPV6_IN_TEXT, (m) => {
      // Trailing ':' (e.g. "to 2001:db8::1: refused") is punctuation, not address.
      let cand = m;
      let tail = "";
      while (cand.length > 2 && !isIPv6(cand) && cand.endsWith(":")) {
        tail = ":" + tail;
        cand = cand.slice(0, -1);
      }
      return isIPv6(cand) ? this.ipText(cand) + tail : m;
    });
    return s;
  }

  /**
   * Keyed pseudonym for a 6-byte MAC, written into `out` at `outOff`. Group
   * addresses (I/G bit set: multicast and broadcast) are kept as they are;
   * unicast ones get the locally-administered bit so they cannot be mistaken
   * for a vendor's OUI.
   */
  mac(src: Uint8Array, off: number, out: Uint8Array, outOff: number): void {
    if ((src[off]! & 0x01) !== 0) {
      if (out !== src || outOff !== off) for (let i = 0; i < 6; i++) out[outOff + i] = src[off + i]!;
      return;
    }
    let key = "";
    for (let i = 0; i < 6; i++) key += String.fromCharCode(src[off + i]!);
    let m = this.macCache.get(key);
    if (!m) {
      const d = createHmac("sha256", this.macKey).update(src.subarray(off, off + 6)).digest();
      m = new Uint8Array(6);
      for (let i = 0; i < 6; i++) m[i] = d[i]!;
      m[0] = (m[0]! & 0xfe) | 0x02;
      if (this.macCache.size >= CACHE_MAX) this.macCache.clear();
      this.macCache.set(key, m);
    }
    for (let i = 0; i < 6; i++) out[outOff + i] = m[i]!;
  }

  private endpoint(e: Endpoint): Endpoint {
    return { ip: this.ipText(e.ip), port: e.port };
  }

  /** A copy of `c` with every address replaced. */
  anonymizeConnection(c: Connection): Connection {
    const r: Connection = structuredClone(c);
    r.client = this.endpoint(c.client);
    r.server = this.endpoint(c.server);
    if (r.icmp) r.icmp.from = this.ipText(r.icmp.from);
    if (r.rst && r.rst.forgedReason) r.rst.forgedReason = this.textAddresses(r.rst.forgedReason);
    return r;
  }

  /**
   * A deep copy of the report with every address replaced: connections,
   * examples, destinations (and their summaries), findings' servers, titles,
   * details and who-can-fix text, the capture filter. File and interface names
   * are NOT changed (they say which capture this was; see the module doc).
   */
  anonymizeReport(report: Report): Report {
    const r: Report = structuredClone(report);
    r.connections = report.connections.map((c) => this.anonymizeConnection(c));
    r.examples = report.examples.map((c) => this.anonymizeConnection(c));
    for (const d of r.destinations) {
      d.server = this.endpoint(d.server);
      d.summary = this.textAddresses(d.summary);
    }
    for (const f of r.findings) {
      if (f.server) f.server = this.endpoint(f.server);
      f.title = this.textAddresses(f.title);
      f.detail = this.textAddresses(f.detail);
      f.whoCanFix = this.textAddresses(f.whoCanFix);
    }
    if (r.source.filter) r.source.filter = this.textAddresses(r.source.filter);
    return r;
  }
}
