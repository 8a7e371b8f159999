/**
 * Network namespaces for the robustness tests: prefix ssr-, addresses
 * 10.81.x.x, IPv4 only (IPv6 disabled so an idle link is really silent).
 * Process and skip helpers come from test/live/helpers.ts.
 */
import { sh, shQuiet } from "../live/helpers.js";

export interface SsrTopology {
  client: string;
  server: string;
  cIf: string;
  sIf: string;
  c4: string;
  s4: string;
  /** `ip netns exec <client>` as an argv prefix. */
  inClient: string[];
  cleanup(): void;
}

export function makeSsrTopology(tag: string, octet: number): SsrTopology {
  const t: SsrTopology = {
    client: `ssr-c${tag}`,
    server: `ssr-s${tag}`,
    cIf: `ssr-v${tag}0`,
    sIf: `ssr-v${tag}1`,
    c4: `10.81.${octet}.1`,
    s4: `10.81.${octet}.2`,
    inClient: ["ip", "netns", "exec", `ssr-c${tag}`],
    cleanup() {
      shQuiet(`ip netns del ${t.client}`);
      shQuiet(`ip netns del ${t.server}`);
      shQuiet(`ip link del ${t.cIf}`);
    },
  };
  t.cleanup();
  try {
    const c = `ip netns exec ${t.client}`;
    const s = `ip netns exec ${t.server}`;
    sh(`ip netns add ${t.client} && ip netns add ${t.server}`);
    sh(`ip link add ${t.cIf} type veth peer name ${t.sIf}`);
    sh(`ip link set ${t.cIf} netns ${t.client} && ip link set ${t.sIf} netns ${t.server}`);
    for (const [ns, dev] of [
      [c, t.cIf],
      [s, t.sIf],
    ]) {
      sh(`${ns} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.${dev}.disable_ipv6=1`);
      sh(`${ns} ip link set lo up`);
    }
    sh(`${c} ip addr add ${t.c4}/24 dev ${t.cIf} && ${s} ip addr add ${t.s4}/24 dev ${t.sIf}`);
    sh(`${c} ip link set ${t.cIf} up && ${s} ip link set ${t.sIf} up`);
    const cMac = sh(`${c} cat /sys/class/net/${t.cIf}/address`).trim();
    const sMac = sh(`${s} cat /sys/class/net/${t.sIf}/address`).trim();
    sh(`${c} ip neigh replace ${t.s4} lladdr ${sMac} dev ${t.cIf} nud permanent`);
    sh(`${s} ip neigh replace ${t.c4} lladdr ${cMac} dev ${t.sIf} nud permanent`);
  } catch (e) {
    t.cleanup();
    throw e;
  }
  return t;
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
