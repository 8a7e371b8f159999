/**
 * What an ICMP destination-unreachable code means for a TCP connection
 * attempt, in plain words, and who can act on it. ICMPv4: RFC 792, RFC 1812
 * §5.2.7.1; ICMPv6: RFC 4443 §3.1.
 */

export interface IcmpMeaning {
  /** Short name, e.g. "port unreachable". */
  name: string;
  /** What it usually means. */
  cause: string;
  /** Who can fix it; `from` is the address that sent the ICMP error, `server` the destination. */
  who: (from: string, server: string) => string;
}

const firewallAt = (from: string): string => `whoever runs the firewall or router ACL at ${from}`;

export function icmpMeaning(ipVersion: number, type: number, code: number): IcmpMeaning {
  if (ipVersion === 6 || type === 1) {
    switch (code) {
      case 0:
        return {
          name: "no route to destination",
          cause: "a router has no route to the destination network (missing or withdrawn route)",
          who: (from) => `whoever runs routing at ${from}`,
        };
      case 1:
        return {
          name: "communication administratively prohibited",
          cause: "a firewall or ACL rejects the connection and says so",
          who: firewallAt,
        };
      case 2:
        return {
          name: "beyond scope of source address",
          cause: "the source address (e.g. link-local) cannot reach a destination outside its scope",
          who: () => "the client's owner (source address selection)",
        };
      case 3:
        return {
          name: "address unreachable",
          cause: "the last router could not resolve the destination's link-layer address (neighbour discovery failed): the host is down or not on that subnet",
          who: (_f, server) => `the owner of ${server} or the network team for its subnet`,
        };
      case 4:
        return {
          name: "port unreachable",
          cause: "the destination (or a firewall in its name) says nothing is listening on that port",
          who: (from, server) => (from === server ? `the owner of ${server} (start the service, or fix its firewall)` : firewallAt(from)),
        };
      case 5:
        return {
          name: "source address failed ingress/egress policy",
          cause: "a router's policy does not accept packets from this source address",
          who: firewallAt,
        };
      case 6:
        return {
          name: "reject route to destination",
          cause: "a router has a reject (blackhole-with-notice) route for the destination",
          who: (from) => `whoever runs routing at ${from}`,
        };
      default:
        return { name: `code ${code}`, cause: "the destination is unreachable", who: (from) => `whoever runs ${from}` };
    }
  }
  switch (code) {
    case 0:
      return {
        name: "net unreachable",
        cause: "a router has no route to the destination network",
        who: (from) => `whoever runs routing at ${from}`,
      };
    case 1:
      return {
        name: "host unreachable",
        cause: "the last router could not deliver to the host, usually because ARP got no answer: the host is down or not on that subnet",
        who: (_f, server) => `the owner of ${server} or the network team for its subnet`,
      };
    case 2:
      return {
        name: "protocol unreachable",
        cause: "the destination does not speak TCP at all (unusual; often a firewall rule)",
        who: firewallAt,
      };
    case 3:
      return {
        name: "port unreachable",
        cause:
          "this is what iptables/nftables REJECT sends by default (icmp-port-unreachable), so a firewall rule rejects the connection; a TCP host itself would answer with RST",
        who: (from, server) => (from === server ? `the owner of ${server} (its host firewall rejects the port)` : firewallAt(from)),
      };
    case 4:
      return {
        name: "fragmentation needed",
        cause: "the SYN was too big for a link and had DF set (path MTU problem)",
        who: (from) => `whoever runs the link MTU at ${from}`,
      };
    case 5:
      return { name: "source route failed", cause: "source routing failed", who: (from) => `whoever runs routing at ${from}` };
    case 6:
      return {
        name: "destination network unknown",
        cause: "a router does not know the destination network",
        who: (from) => `whoever runs routing at ${from}`,
      };
    case 7:
      return {
        name: "destination host unknown",
        cause: "the destination host is not known to the last router",
        who: (_f, server) => `the owner of ${server} or the network team for its subnet`,
      };
    case 9:
    case 10:
      return {
        name: code === 9 ? "network administratively prohibited" : "host administratively prohibited",
        cause: "a firewall or router ACL forbids traffic to this destination and says so",
        who: firewallAt,
      };
    case 13:
      return {
        name: "communication administratively prohibited",
        cause: "a firewall or router ACL rejects the connection (e.g. REJECT --reject-with icmp-admin-prohibited, a cloud ACL)",
        who: firewallAt,
      };
    default:
      return { name: `code ${code}`, cause: "the destination is unreachable", who: (from) => `whoever runs ${from}` };
  }
}
