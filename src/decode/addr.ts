/**
 * IP address text, as tshark and tcpdump print it: dotted quad for IPv4, RFC
 * 5952 for IPv6 (lowercase, no leading zeros, the longest run of two or more
 * zero groups -- the first one on a tie -- compressed to "::", IPv4-mapped
 * addresses as ::ffff:a.b.c.d, exactly like tshark, checked against tshark
 * 4.0 in test/decode/addr.test.ts). Addresses are the PacketView layout: four
 * big-endian 32-bit words, IPv4 in word 0. Not on the per-packet hot path
 * (called once per connection/finding), so plain strings are fine here.
 */

function formatIPv4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
}

export function formatAddr(ipVersion: number, words: Uint32Array): string {
  if (ipVersion === 4) return formatIPv4(words[0]! >>> 0);
  const w0 = words[0]! >>> 0;
  const w1 = words[1]! >>> 0;
  const w2 = words[2]! >>> 0;
  const w3 = words[3]! >>> 0;
  if (w0 === 0 && w1 === 0 && w2 === 0x0000ffff) return `::ffff:${formatIPv4(w3)}`;
  // Deprecated IPv4-compatible form (RFC 4291 2.5.5.1): tshark (glibc inet_ntop)
  // prints ::1.2.3.4, but ::1 and ::102 stay hex (the zero run is then 7 groups).
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 >>> 16 !== 0) return `::${formatIPv4(w3)}`;
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // Longest run of zero groups, length >= 2 (RFC 5952 section 4.2.2: a single 0 is not compressed).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(":");
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(":");
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(":");
  return `${head}::${tail}`;
}

/** Dotted quad to a 32-bit word, or -1. Four decimal parts 0..255, no leading zeros (no octal ambiguity). */
function parseIPv4Word(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4) return -1;
  let w = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return -1;
    const n = Number(part);
    if (n > 255) return -1;
    w = w * 256 + n;
  }
  return w;
}

/**
 * Parse an address as a user would type it (for filters): "192.0.2.1",
 * "2001:db8::1", "::ffff:192.0.2.1", "[2001:db8::1]", "fe80::1%eth0" (the
 * zone is ignored). Returns null when the text is not an address.
 */
export function parseAddr(text: string): { ipVersion: 4 | 6; words: Uint32Array } | null {
  let s = text.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length === 0) return null;

  if (!s.includes(":")) {
    const w = parseIPv4Word(s);
    if (w < 0) return null;
    const words = new Uint32Array(4);
    words[0] = w;
    return { ipVersion: 4, words };
  }

  // IPv6: up to 8 groups of 1-4 hex digits, at most one "::", optional trailing dotted quad.
  const groups: number[] = [];
  let tailV4 = -1;
  const lastColon = s.lastIndexOf(":");
  const last = s.slice(lastColon + 1);
  if (last.includes(".")) {
    tailV4 = parseIPv4Word(last);
    if (tailV4 < 0) return null;
    s = s.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::", "64:ff9b::1.2.3.4" leaves "64:ff9b::", "::ffff:1.2.3.4" leaves "::ffff:".
    if (s.endsWith(":") && !s.endsWith("::")) s = s.slice(0, -1);
  }
  const maxGroups = tailV4 >= 0 ? 6 : 8;
  const dbl = s.indexOf("::");
  if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (head === null || tail === null) return null;
    // "::" stands for at least one zero group (RFC 4291 section 2.2).
    if (head.length + tail.length > maxGroups - 1) return null;
    groups.push(...head);
    for (let i = head.length + tail.length; i < maxGroups; i++) groups.push(0);
    groups.push(...tail);
  } else {
    const all = parseGroups(s);
    if (all === null || all.length !== maxGroups) return null;
    groups.push(...all);
  }
  if (tailV4 >= 0) groups.push(tailV4 >>> 16, tailV4 & 0xffff);
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return { ipVersion: 6, words };
}
