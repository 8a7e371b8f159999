/**
 * Network namespaces for the robustness tests: prefix ssr-, addresses
 * 10.81.x.x, IPv4 only (IPv6 disabled so an idle link is really silent).
 * Process and skip helpers come from test/live/helpers.ts.
 */
import { makeTopology, sh, type Topology } from "../live/helpers.js";

export interface SsrTopology extends Topology {
  /** `ip netns exec <client>` as an argv prefix. */
  inClient: string[];
}

export function makeSsrTopology(tag: string, octet: number): SsrTopology {
  const t = makeTopology(tag, octet, { prefix: "ssr", v4Net: "10.81", ipv6: false });
  return Object.assign(t, { inClient: ["ip", "netns", "exec", t.client] });
}

/**
 * `n` refused TCP connections (nothing listens on port 9 in the server
 * namespace), `gapS` apart, from the client namespace; runs in the
 * background and ends by itself.
 */
export function refusedConnections(t: SsrTopology, n: number, gapS: number, port = 9): void {
  sh(
    `ip netns exec ${t.client} bash -c 'for i in $(seq ${n}); do (exec 3<>/dev/tcp/${t.s4}/${port}) 2>/dev/null; sleep ${gapS}; done' >/dev/null 2>&1 &`,
  );
}
