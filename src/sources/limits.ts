/**
 * Limits that hostile length fields could otherwise abuse. A length beyond
 * these is damage, never an allocation.
 */

/** Default bytes per read from a file or stream (and initial buffer size). */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/** Default records per batch. */
export const DEFAULT_BATCH_RECORDS = 4096;

/** Largest pcapng block (or classic record) we are willing to buffer. */
export const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

/** libpcap's MAXIMUM_SNAPLEN: the largest sane caplen for most link types. */
export const MAXIMUM_SNAPLEN = 262144;

const LINKTYPE_DBUS = 231;
const LINKTYPE_EBHSCR = 279;
const LINKTYPE_USBPCAP = 249;

/**
 * The largest caplen a record may claim for a link type: libpcap's
 * max_snaplen_for_dlt() (pcap-common.c), which is what makes tcpdump reject
 * a record with "invalid packet capture length N, bigger than maximum of M".
 * Wireshark uses the same per-encapsulation maxima.
 */
export function maxCapLenForLinkType(linkType: number): number {
  switch (linkType) {
    case LINKTYPE_DBUS:
      return 128 * 1024 * 1024;
    case LINKTYPE_EBHSCR:
      return 8 * 1024 * 1024;
    case LINKTYPE_USBPCAP:
      return 1024 * 1024;
    default:
      return MAXIMUM_SNAPLEN;
  }
}

/** "48 54 54 50" for messages about the first bytes of a file. */
export function hexBytes(bytes: Uint8Array, n = 4): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(n, bytes.length); i++) parts.push(bytes[i]!.toString(16).padStart(2, "0"));
  return parts.join(" ");
}
