import { describe, expect, it } from "vitest";
import { decodePacket } from "../../src/decode/decode.js";
import { isDecodedLinkType, linkTypeName } from "../../src/decode/linktypes.js";
import { Kind, PacketView } from "../../src/decode/packet.js";

describe("link types", () => {
  it("names like tcpdump", () => {
    expect(linkTypeName(0)).toBe("NULL");
    expect(linkTypeName(1)).toBe("EN10MB");
    expect(linkTypeName(101)).toBe("RAW");
    expect(linkTypeName(105)).toBe("IEEE802_11");
    expect(linkTypeName(113)).toBe("LINUX_SLL");
    expect(linkTypeName(127)).toBe("IEEE802_11_RADIO");
    expect(linkTypeName(276)).toBe("LINUX_SLL2");
    expect(linkTypeName(4242)).toBe("LINKTYPE_4242");
  });

  it("isDecodedLinkType agrees with the decoder", () => {
    const view = new PacketView();
    const junk = new Uint8Array(64);
    for (let lt = 0; lt < 400; lt++) {
      const k = decodePacket(view, junk, 0, 64, 64, lt, 0);
      expect(k === Kind.SKIP_LINKTYPE, `link type ${lt}`).toBe(!isDecodedLinkType(lt));
    }
  });
});
