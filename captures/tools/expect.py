#!/usr/bin/env python3
"""Write captures/expected.json from what tshark sees in each capture.

An independent oracle for synsent's tests: every number here comes from
tshark's dissection of the file (frame fields plus tshark's own
tcp.analysis.retransmission flag), not from synsent. Each capture also has the
outcome its scenario in make.sh was BUILT to produce (SPEC below); if the
classification of what is really in the file disagrees with the intent, this
script fails instead of writing a wrong expectation.

Outcome rules (src/flows/connection.ts vocabulary):
  handshake done (SYN, SYN-ACK, then a non-SYN ACK from the client):
      any RST -> reset, else any FIN -> closed, else established
  SYN-ACK seen, no ACK from the client            -> synack-unacked
  no SYN-ACK: ICMP/ICMPv6 destination unreachable quoting the connection
                                                   -> icmp-rejected
              RST from the server                  -> refused
              RST from the client                  -> aborted-by-client
              capture ran < --syn-timeout after the last SYN -> pending
              otherwise                            -> unanswered
  no SYN seen at all                               -> midstream
A packet seen twice (same IP ID, addresses, ports, flags, seq, ack and
length within 10 ms; -i any on a router) is counted once and reported in
"duplicates".

  python3 captures/tools/expect.py --dir captures --out captures/expected.json
  python3 captures/tools/expect.py --dir captures --print drop.pcap   # one capture, to stdout
"""
import argparse
import json
import os
import struct
import subprocess
import sys

SYN_TIMEOUT = 3.0
DUP_WINDOW = 0.010

H = "10.77.0.2"  # server, direct
H6 = "fd77::2"
RS = "10.77.2.2"  # server behind the router
RS6 = "fd77:2::2"
ROUTER = "10.77.1.254"
ROUTER6 = "fd77:1::fe"

# Per capture: description, and per (server, port) what the scenario was built
# to produce: outcome, number of connections, optional extra checks.
SPEC = {
    "normal.pcap": {
        "description": "Three HTTP-like connections to 10.77.0.2:8080: handshake, GET, 200 response, server FIN, client FIN. Two ARP frames at the start.",
        "expect": {(H, 8080): {"outcome": "closed", "count": 3, "syn": 1, "synAck": 1}},
    },
    "refused.pcap": {
        "description": "Two connects to a closed port (10.77.0.2:8081); the server kernel answers each SYN with RST,ACK.",
        "expect": {(H, 8081): {"outcome": "refused", "count": 2, "syn": 1, "rstFrom": "server"}},
    },
    "drop.pcap": {
        "description": "Silent drop: three parallel connects to 10.77.0.2:8082, whose SYNs iptables DROPs in the server namespace. Client TCP_SYNCNT 3 and tcp_syn_linear_timeouts 0: SYNs at 0, 1, 3 and 7 s, so 12 of 12 SYNs get no answer, each connection retried 3 times. A ping ~5 s after the last SYN shows the capture kept running (ignore the ICMP echo).",
        "expect": {(H, 8082): {"outcome": "unanswered", "count": 3, "syn": 4, "synAck": 0}},
    },
    "reject-port-unreachable.pcap": {
        "description": "Two connects to 10.77.0.2:8083, REJECTed in the server namespace with icmp-port-unreachable: ICMP type 3 code 3 from the server itself.",
        "expect": {(H, 8083): {"outcome": "icmp-rejected", "count": 2, "icmp": (3, 3, H)}},
    },
    "reject-admin-prohibited.pcap": {
        "description": "Client 10.77.1.1 behind router 10.77.1.254. One normal connection to 10.77.2.2:8080 (server packets arrive with TTL 63), then two to 10.77.2.2:8085 which the router REJECTs in FORWARD with icmp-admin-prohibited: ICMP type 3 code 13 from the router 10.77.1.254, not from the server.",
        "expect": {
            (RS, 8080): {"outcome": "closed", "count": 1},
            (RS, 8085): {"outcome": "icmp-rejected", "count": 2, "icmp": (3, 13, ROUTER)},
        },
    },
    "reject-tcp-reset.pcap": {
        "description": "Client 10.77.1.1 behind router 10.77.1.254. One normal connection to 10.77.2.2:8080: the real server's packets arrive with TTL 63 (one hop). Then two to 10.77.2.2:8084 which the router REJECTs in FORWARD with tcp-reset: the RST,ACK claims to come from 10.77.2.2 but arrives with TTL 64, forged by the middlebox.",
        "expect": {
            (RS, 8080): {"outcome": "closed", "count": 1, "serverTtl": 63},
            (RS, 8084): {"outcome": "refused", "count": 2, "rstFrom": "server", "rstTtl": 64},
        },
    },
    "synack-lost.pcap": {
        "description": "Captured on the SERVER (10.77.0.2). The client's SYN to port 8088 (plus one retry, TCP_SYNCNT 1) arrives and the server answers with SYN-ACKs (tcp_synack_retries 1, plus one answering the retried SYN), but the client namespace drops incoming SYN-ACKs, so the client's ACK never comes. Two of the SYN-ACKs can be byte-identical and microseconds apart (IP ID 0, same TSval: the timer resend and the answer to the resent SYN): they are two real transmissions, not a capture duplicate. A ping later shows the capture kept running.",
        "expect": {(H, 8088): {"outcome": "synack-unacked", "count": 1, "minSynAck": 2}},
    },
    "data-retrans.pcap": {
        "description": "Data loss with retransmissions, the unambiguous case: 20 request/echo exchanges of 1000 bytes with 10.77.0.2:8089, one segment in flight at a time; every 5th data packet into the server is DROPped (iptables statistic nth). Each lost request is resent by the client's timer (~20 ms, route rto_min 20ms), so tshark flags every resend as tcp.analysis.retransmission and none as out-of-order.",
        "expect": {(H, 8089): {"outcome": "closed", "count": 1, "minDataRetrans": 3, "noOutOfOrder": True}},
    },
    "data-retrans-burst.pcap": {
        "description": "Data loss in a bulk transfer, the hard case: one 400000-byte upload to 10.77.0.2:8087, every 20th data packet into the server DROPped. SACK/RACK recovery resends within microseconds on this veth link, so tshark flags only some resends as (fast) retransmissions and the rest as tcp.analysis.out_of_order (sent within the first handshake RTT of the highest segment). Compare 'dataRetransmissions' (tshark's flag) with 'resentSegments' (payload segments below the highest sequence already seen). Snap length 128: packets are truncated (caplen < len).",
        "expect": {(H, 8087): {"outcome": "closed", "count": 1, "minResent": 5}},
    },
    "reset-after-established.pcap": {
        "description": "Handshake completes, then RST. Two connections to 10.77.0.2:8086 where the server reads the GET and closes with SO_LINGER 0 (RST,ACK from the server); one to 10.77.0.2:8080 where the client closes with SO_LINGER 0 right after the handshake (RST,ACK from the client).",
        "expect": {
            (H, 8086): {"outcome": "reset", "count": 2, "rstFrom": "server"},
            (H, 8080): {"outcome": "reset", "count": 1, "rstFrom": "client"},
        },
    },
    "nanosecond.pcap": {
        "description": "Nanosecond-resolution pcap (magic a1b23c4d, tcpdump --time-stamp-precision=nano): one normal connection to 10.77.0.2:8080 and one refused by closed port 8081.",
        "expect": {
            (H, 8080): {"outcome": "closed", "count": 1},
            (H, 8081): {"outcome": "refused", "count": 1, "rstFrom": "server"},
        },
    },
    "normal6.pcap": {
        "description": "IPv6: two HTTP-like connections fd77::1 -> [fd77::2]:8080, FIN close.",
        "expect": {(H6, 8080): {"outcome": "closed", "count": 2, "syn": 1, "synAck": 1}},
    },
    "refused6.pcap": {
        "description": "IPv6: two connects to closed port [fd77::2]:8081, answered by RST,ACK.",
        "expect": {(H6, 8081): {"outcome": "refused", "count": 2, "rstFrom": "server"}},
    },
    "drop6.pcap": {
        "description": "IPv6 silent drop: three parallel connects to [fd77::2]:8082, SYNs DROPped by ip6tables in the server namespace; 4 SYNs each (0, 1, 3, 7 s), 12 unanswered SYNs. An ICMPv6 echo ~5 s after the last SYN.",
        "expect": {(H6, 8082): {"outcome": "unanswered", "count": 3, "syn": 4, "synAck": 0}},
    },
    "reject6-port-unreachable.pcap": {
        "description": "IPv6: two connects to [fd77::2]:8083, REJECTed by ip6tables in the server with icmp6-port-unreachable: ICMPv6 type 1 code 4 from fd77::2. Linux resends each SYN once (the first ICMPv6 error arrives while connect() still holds the socket and only counts as a soft error), so 2 SYNs and 2 ICMPv6 errors per connection.",
        "expect": {(H6, 8083): {"outcome": "icmp-rejected", "count": 2, "icmp": (1, 4, H6)}},
    },
    "reject6-adm-prohibited.pcap": {
        "description": "IPv6 through the router fd77:1::fe: one normal connection to [fd77:2::2]:8080 (hop limit 63), two to port 8085 REJECTed by the router with icmp6-adm-prohibited: ICMPv6 type 1 code 1 from fd77:1::fe. Linux resends each rejected SYN once (first ICMPv6 error = soft error while connect() holds the socket), so 2 SYNs and 2 ICMPv6 errors per rejected connection.",
        "expect": {
            (RS6, 8080): {"outcome": "closed", "count": 1},
            (RS6, 8085): {"outcome": "icmp-rejected", "count": 2, "icmp": (1, 1, ROUTER6)},
        },
    },
    "mixed.pcapng": {
        "description": "pcapng from dumpcap on two interfaces (c0 direct to the server, c1 via the router; two Interface Description Blocks, Interface Statistics Blocks at the end), IPv4 and IPv6 mixed, all started at once: normal, refused, dropped (2 SYNs), ICMP port unreachable, ICMP admin prohibited (v4 and v6, from the router), forged tcp-reset from the router, reset by the server after the request. Frames are NOT in strict timestamp order across the two interfaces. A ping at the end.",
        "expect": {
            (H, 8080): {"outcome": "closed", "count": 1},
            (H6, 8080): {"outcome": "closed", "count": 1},
            (RS, 8080): {"outcome": "closed", "count": 1},
            (H, 8081): {"outcome": "refused", "count": 1},
            (H6, 8081): {"outcome": "refused", "count": 1},
            (H, 8082): {"outcome": "unanswered", "count": 1, "syn": 2},
            (H, 8083): {"outcome": "icmp-rejected", "count": 1, "icmp": (3, 3, H)},
            (RS, 8085): {"outcome": "icmp-rejected", "count": 1, "icmp": (3, 13, ROUTER)},
            (RS6, 8085): {"outcome": "icmp-rejected", "count": 1, "icmp": (1, 1, ROUTER6)},
            (RS, 8084): {"outcome": "refused", "count": 1, "rstTtl": 64},
            (H, 8086): {"outcome": "reset", "count": 1, "rstFrom": "server"},
        },
    },
    "any.pcap": {
        "description": "tcpdump -i any in the client namespace: Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276). One normal IPv4 connection, one refused (port 8081), one normal IPv6 connection.",
        "expect": {
            (H, 8080): {"outcome": "closed", "count": 1},
            (H, 8081): {"outcome": "refused", "count": 1},
            (H6, 8080): {"outcome": "closed", "count": 1},
        },
    },
    "router-any-dup.pcap": {
        "description": "tcpdump -i any on the ROUTER (SLL2): one normal connection 10.77.1.1 -> 10.77.2.2:8080, every packet captured twice (in on r1, out on r2 with TTL one lower, same IP ID). Duplicates must be counted once; tshark itself flags the second copies as retransmissions / duplicate ACKs.",
        "expect": {(RS, 8080): {"outcome": "closed", "count": 1, "syn": 1, "synAck": 1, "duplicatesAll": True}},
    },
    "busy.pcap": {
        "description": "380 connections, 40 at a time, shuffled: 310 normal (260 IPv4, 50 IPv6) to port 8080, 30 refused (closed port 8081), 20 unanswered (port 8082 SYNs DROPped; TCP_SYNCNT 1 so 2 SYNs each), 20 ICMP-rejected (port 8083, icmp/icmp6 port unreachable from the server). Snap length 128 (truncated packets). A ping at the end, ~4.5 s after the last SYN.",
        "totalsOnly": True,
        "expect": {
            (H, 8080): {"outcome": "closed", "count": 260},
            (H6, 8080): {"outcome": "closed", "count": 50},
            (H, 8081): {"outcome": "refused", "count": 25},
            (H6, 8081): {"outcome": "refused", "count": 5},
            (H, 8082): {"outcome": "unanswered", "count": 20, "syn": 2},
            (H, 8083): {"outcome": "icmp-rejected", "count": 15, "icmp": (3, 3, H)},
            (H6, 8083): {"outcome": "icmp-rejected", "count": 5, "icmp": (1, 4, H6)},
        },
    },
}

TSHARK_FLAGS_FIELDS = (
    "tcp.analysis.retransmission", "tcp.analysis.spurious_retransmission",
    "tcp.analysis.fast_retransmission", "tcp.analysis.out_of_order",
)
TSHARK_FLAGS = {
    "retransmission": "tcp.analysis.retransmission",
    "spuriousRetransmission": "tcp.analysis.spurious_retransmission",
    "fastRetransmission": "tcp.analysis.fast_retransmission",
    "outOfOrder": "tcp.analysis.out_of_order",
}
FIELDS = [
    "frame.number", "frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
    "ip.ttl", "ipv6.hlim", "ip.id", "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.len",
    "tcp.seq_raw", "tcp.ack_raw", "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
    "frame.interface_id", "sll.ifindex", "tcp.seq",
] + list(TSHARK_FLAGS_FIELDS)


class Fail(Exception):
    pass


def tshark(path, args):
    cmd = ["tshark", "-n", "-r", path] + args
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise Fail("%s: tshark failed: %s" % (path, p.stderr.strip()))
    return p.stdout


def file_info(path):
    with open(path, "rb") as f:
        head = f.read(64)
    magic = head[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        _, _, _, _, _, snap, lt = struct.unpack("<IHHiIII", head[:24])
        return {"format": "pcap", "timestampPrecision": "ns" if magic[0] == 0x4D else "us",
                "linkTypes": [lt], "snaplen": snap}
    if magic == b"\x0a\x0d\x0d\x0a":
        # Walk the blocks for Interface Description Blocks.
        lts, snaps = [], []
        with open(path, "rb") as f:
            data = f.read()
        off = 0
        while off + 12 <= len(data):
            btype, blen = struct.unpack_from("<II", data, off)
            if blen < 12:
                break
            if btype == 1:
                lt, _, snap = struct.unpack_from("<HHI", data, off + 8)
                lts.append(lt)
                snaps.append(snap)
            off += blen
        return {"format": "pcapng", "linkTypes": lts, "snaplen": max(snaps) if snaps else None,
                "interfaces": len(lts)}
    raise Fail("%s: not a pcap/pcapng file (magic %s)" % (path, magic.hex()))


def first(v):
    return v.split(",")[0] if v else ""


def analyse(path, syn_timeout=SYN_TIMEOUT):
    out = tshark(path, ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
                        "-E", "aggregator=,"] + sum([["-e", f] for f in FIELDS], []))
    conns = []  # in order of first packet
    current = {}  # normalised 4-tuple -> connection
    recent = {}  # dup key -> ts
    end_ts = 0.0
    frames = 0
    for line in out.splitlines():
        r = dict(zip(FIELDS, line.split("\t")))
        frames += 1
        num = int(r["frame.number"])
        ts = float(r["frame.time_epoch"])
        end_ts = max(end_ts, ts)
        v4 = bool(r["ip.src"])
        srcs = (r["ip.src"] if v4 else r["ipv6.src"]).split(",")
        dsts = (r["ip.dst"] if v4 else r["ipv6.dst"]).split(",")
        if not srcs[0]:
            continue  # ARP etc.
        icmp_type = r["icmp.type"] if v4 else r["icmpv6.type"]
        if icmp_type:
            t = int(first(icmp_type))
            c = int(first(r["icmp.code"] if v4 else r["icmpv6.code"]))
            unreach = (t == 3) if v4 else (t == 1)
            if unreach and len(srcs) > 1 and r["tcp.srcport"]:
                isrc, idst = srcs[1], dsts[1]
                isp, idp = int(first(r["tcp.srcport"])), int(first(r["tcp.dstport"]))
                key = norm(isrc, isp, idst, idp)
                conn = current.get(key)
                if conn is not None and conn["icmp"] is None:
                    conn["icmp"] = {"type": t, "code": c, "from": srcs[0]}
                    conn["frames"].append(num)
            continue
        if not r["tcp.srcport"]:
            continue
        src, dst = srcs[0], dsts[0]
        sp, dp = int(r["tcp.srcport"]), int(r["tcp.dstport"])
        flags = int(r["tcp.flags"], 16)
        syn, ack, rst, fin = flags & 2, flags & 16, flags & 4, flags & 1
        tlen = int(r["tcp.len"] or 0)
        seq = int(r["tcp.seq_raw"])
        ttl = int(r["ip.ttl"] if v4 else r["ipv6.hlim"])
        key = norm(src, sp, dst, dp)
        conn = current.get(key)
        dup = False
        iface = (r["frame.interface_id"], r["sll.ifindex"])
        if v4:
            # The same IPv4 packet seen again within 10 ms on ANOTHER interface
            # (-i any on a router/bridge, merged captures). Byte-identical
            # packets on the same interface are real resends (see synack-lost).
            dk = (r["ip.id"], src, sp, dst, dp, flags, seq, r["tcp.ack_raw"], tlen)
            prev = recent.get(dk)
            if prev is not None and ts - prev[0] <= DUP_WINDOW and prev[1] != iface:
                dup = True
            else:
                recent[dk] = (ts, iface)
        if syn and not ack and (conn is None or (conn["isn"] != seq and not dup)):
            conn = {
                "client": src, "clientPort": sp, "server": dst, "serverPort": dp,
                "ipVersion": 4 if v4 else 6, "isn": seq, "syn": 0, "synAck": 0,
                "synAckSeen": False, "handshake": False, "fin": False, "rst": None,
                "icmp": None, "dataRetransmissions": 0, "duplicates": 0, "tshark": new_tshark(),
                "resent": 0, "highest": {}, "lastSynTs": ts, "firstFrame": num, "frames": [],
                "serverTtls": set(), "midstream": False,
            }
            conns.append(conn)
            current[key] = conn
        elif conn is None:
            conn = {
                "client": src, "clientPort": sp, "server": dst, "serverPort": dp,
                "ipVersion": 4 if v4 else 6, "isn": None, "syn": 0, "synAck": 0,
                "synAckSeen": False, "handshake": False, "fin": False, "rst": None,
                "icmp": None, "dataRetransmissions": 0, "duplicates": 0, "tshark": new_tshark(),
                "resent": 0, "highest": {}, "lastSynTs": None, "firstFrame": num, "frames": [],
                "serverTtls": set(), "midstream": True,
            }
            conns.append(conn)
            current[key] = conn
        # tshark's own analysis flags on this payload-carrying, non-SYN segment
        # (never on the TCP header quoted inside an ICMP error: those frames
        # were handled above). Raw view: duplicate copies included.
        def flagged(k, r=r, tlen=tlen, syn=syn):
            return tlen > 0 and not syn and r[TSHARK_FLAGS[k]] != ""
        for k in TSHARK_FLAGS:
            if flagged(k):
                conn["tshark"][k] += 1
        if dup:
            conn["duplicates"] += 1
            continue
        from_client = (src, sp) == (conn["client"], conn["clientPort"])
        if not from_client and not rst:
            conn["serverTtls"].add(ttl)
        if syn and not ack and from_client:
            conn["syn"] += 1
            conn["lastSynTs"] = ts
            conn["frames"].append(num)
        elif syn and ack and not from_client:
            conn["synAck"] += 1
            conn["synAckSeen"] = True
            conn["frames"].append(num)
        elif from_client and ack and not syn and conn["synAckSeen"] and not conn["handshake"] and not rst:
            conn["handshake"] = True
            conn["frames"].append(num)
        if fin:
            conn["fin"] = True
        if rst and conn["rst"] is None:
            conn["rst"] = {"from": "client" if from_client else "server", "ttl": ttl}
            conn["frames"].append(num)
        if flagged("retransmission"):
            conn["dataRetransmissions"] += 1
        if tlen > 0 and not syn:
            rel = int(r["tcp.seq"])  # tshark's relative sequence number (no wrap in these captures)
            side = "c" if from_client else "s"
            hi = conn["highest"].get(side, 0)
            if rel < hi:
                conn["resent"] += 1
            conn["highest"][side] = max(hi, rel + tlen)
    for conn in conns:
        conn["outcome"] = outcome(conn, end_ts, syn_timeout)
        conn["lastSynToEnd"] = round(end_ts - conn["lastSynTs"], 3) if conn["lastSynTs"] is not None else None
    return conns, frames, end_ts


def new_tshark():
    return {k: 0 for k in TSHARK_FLAGS}


def norm(a, ap, b, bp):
    x, y = (a, ap), (b, bp)
    return (x, y) if x <= y else (y, x)


def outcome(c, end_ts, syn_timeout):
    if c["midstream"]:
        return "midstream"
    if c["handshake"]:
        if c["rst"]:
            return "reset"
        return "closed" if c["fin"] else "established"
    if c["synAckSeen"]:
        return "synack-unacked"
    if c["icmp"]:
        return "icmp-rejected"
    if c["rst"]:
        return "refused" if c["rst"]["from"] == "server" else "aborted-by-client"
    if end_ts - c["lastSynTs"] < syn_timeout:
        return "pending"
    return "unanswered"


def check(name, spec, conns):
    errors = []
    seen = {}
    for c in conns:
        k = (c["server"], c["serverPort"])
        seen[k] = seen.get(k, 0) + 1
        e = spec["expect"].get(k)
        where = "%s: connection %s:%d -> [%s]:%d (frame %d)" % (
            name, c["client"], c["clientPort"], c["server"], c["serverPort"], c["firstFrame"])
        if e is None:
            errors.append("%s: not part of the scenario" % where)
            continue
        if c["outcome"] != e["outcome"]:
            errors.append("%s: outcome %s, scenario built for %s" % (where, c["outcome"], e["outcome"]))
        for f in ("syn", "synAck"):
            if f in e and c[f] != e[f]:
                errors.append("%s: %s %d, expected %d" % (where, f, c[f], e[f]))
        if "minSynAck" in e and c["synAck"] < e["minSynAck"]:
            errors.append("%s: synAck %d < %d" % (where, c["synAck"], e["minSynAck"]))
        if "rstFrom" in e and (c["rst"] or {}).get("from") != e["rstFrom"]:
            errors.append("%s: rst from %s, expected %s" % (where, c["rst"], e["rstFrom"]))
        if "rstTtl" in e and (c["rst"] or {}).get("ttl") != e["rstTtl"]:
            errors.append("%s: rst %s, expected TTL %d" % (where, c["rst"], e["rstTtl"]))
        if "serverTtl" in e and c["serverTtls"] != {e["serverTtl"]}:
            errors.append("%s: server TTLs %s, expected %d" % (where, sorted(c["serverTtls"]), e["serverTtl"]))
        if "icmp" in e:
            t, code, frm = e["icmp"]
            if c["icmp"] != {"type": t, "code": code, "from": frm}:
                errors.append("%s: icmp %s, expected %d/%d from %s" % (where, c["icmp"], t, code, frm))
        elif c["icmp"]:
            errors.append("%s: unexpected icmp %s" % (where, c["icmp"]))
        if "minDataRetrans" in e and c["dataRetransmissions"] < e["minDataRetrans"]:
            errors.append("%s: only %d data retransmissions" % (where, c["dataRetransmissions"]))
        if "minResent" in e and c["resent"] < e["minResent"]:
            errors.append("%s: only %d resent segments" % (where, c["resent"]))
        if e.get("noOutOfOrder") and (c["tshark"]["outOfOrder"] or c["resent"] != c["dataRetransmissions"]):
            errors.append("%s: tshark out-of-order %d, resent %d, retransmissions %d: not unambiguous" % (
                where, c["tshark"]["outOfOrder"], c["resent"], c["dataRetransmissions"]))
        if e.get("duplicatesAll"):
            if c["duplicates"] == 0:
                errors.append("%s: no duplicates seen" % where)
        elif c["duplicates"]:
            errors.append("%s: %d unexpected duplicates" % (where, c["duplicates"]))
        if "minDataRetrans" not in e and "minResent" not in e and c["resent"]:
            errors.append("%s: unexpected resent data segments %d" % (where, c["resent"]))
    for k, e in spec["expect"].items():
        if seen.get(k, 0) != e["count"]:
            errors.append("%s: %d connections to [%s]:%d, scenario made %d" % (name, seen.get(k, 0), k[0], k[1], e["count"]))
    return errors


def build(dirpath, name, spec):
    path = os.path.join(dirpath, name)
    conns, frames, end_ts = analyse(path)
    errors = check(name, spec, conns)
    by = {}
    for c in conns:
        by[c["outcome"]] = by.get(c["outcome"], 0) + 1
    entry = {"description": spec["description"]}
    entry.update(file_info(path))
    entry["frames"] = frames
    if not spec.get("totalsOnly"):
        entry["connections"] = [
            {
                "client": c["client"], "clientPort": c["clientPort"],
                "server": c["server"], "serverPort": c["serverPort"],
                "ipVersion": c["ipVersion"], "outcome": c["outcome"],
                "syn": c["syn"], "synAck": c["synAck"],
                "rstFrom": c["rst"]["from"] if c["rst"] else None,
                "rstTtl": c["rst"]["ttl"] if c["rst"] else None,
                "icmp": c["icmp"],
                "dataRetransmissions": c["dataRetransmissions"],
                "resentSegments": c["resent"],
                "tsharkFlags": c["tshark"],
                "duplicates": c["duplicates"],
                "lastSynToEndSeconds": c["lastSynToEnd"],
                "firstFrame": c["firstFrame"],
                "frames": c["frames"],
            }
            for c in conns
        ]
    entry["totals"] = {
        "connections": len(conns),
        "byOutcome": dict(sorted(by.items())),
        "syn": sum(c["syn"] for c in conns),
        "synAck": sum(c["synAck"] for c in conns),
        "dataRetransmissions": sum(c["dataRetransmissions"] for c in conns),
        "resentSegments": sum(c["resent"] for c in conns),
        "duplicates": sum(c["duplicates"] for c in conns),
        # How long the capture ran past the last SYN of any SYN-only connection
        # (unanswered/pending): must be >= --syn-timeout for "unanswered".
        "minLastSynToEndSeconds": min(
            [c["lastSynToEnd"] for c in conns if c["outcome"] in ("unanswered", "pending")], default=None),
    }
    return entry, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out")
    ap.add_argument("--print", dest="only", help="analyse one capture and print its entry")
    args = ap.parse_args()
    names = [args.only] if args.only else [n for n in SPEC if os.path.exists(os.path.join(args.dir, n))]
    missing = [n for n in SPEC if n not in names]
    result, errors = {}, []
    for n in names:
        if n not in SPEC:
            print("expect.py: no scenario for %s" % n, file=sys.stderr)
            return 2
        try:
            entry, errs = build(args.dir, n, SPEC[n])
        except Fail as e:
            errors.append(str(e))
            continue
        result[n] = entry
        errors += errs
    doc = {
        "generator": "captures/tools/expect.py (tshark %s)" % tshark_version(),
        "synTimeoutSeconds": SYN_TIMEOUT,
        "captures": result,
    }
    text = json.dumps(doc, indent=2) + "\n"
    if args.out and not args.only:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if missing and not args.only:
        print("expect.py: not present, left out: %s" % " ".join(missing), file=sys.stderr)
    for e in errors:
        print("expect.py: MISMATCH " + e, file=sys.stderr)
    return 1 if errors else 0


def tshark_version():
    p = subprocess.run(["tshark", "--version"], capture_output=True, text=True)
    return p.stdout.split("\n")[0].split()[2] if p.returncode == 0 else "?"


if __name__ == "__main__":
    sys.exit(main())
