#!/usr/bin/env bash
# Produce the real captures in this folder with the kernel's own TCP stack.
#
# Creates three private network namespaces (sscC client, sscR router, sscS
# server) joined by veth pairs, runs small python servers/clients from
# tools/tcptool.py in them, captures with tcpdump/dumpcap, then writes
# expected.json from what tshark sees in each file (tools/expect.py), checking
# it against the outcome each scenario was built to produce.
#
# Packets only ever go between addresses assigned here, inside these
# namespaces. Needs root, iproute2, iptables/ip6tables, tcpdump, dumpcap,
# tshark, python3. Takes about 1.5 minutes (nearer 3 on a loaded machine).
# Rerunnable: leftovers of an earlier run are removed first, and everything is
# torn down on exit, even on failure.
#
#   sudo captures/make.sh            # writes captures/*.pcap*, captures/expected.json
#   OUT=/tmp/x captures/make.sh      # write somewhere else
#   ONLY="drop.pcap busy.pcap" captures/make.sh   # redo some captures; expected.json is
#                                                   # rewritten for all captures then in OUT
# Captures are written to a scratch folder first and only moved into OUT once
# expect.py accepts them: a failed or interrupted run leaves OUT untouched.
#
# Topology (MACs fixed so the files are easy to compare run to run):
#
#   sscC c0 10.77.0.1/24 fd77::1/64   <-------------------->  s0 10.77.0.2/24 fd77::2/64  sscS
#   sscC c1 10.77.1.1/24 fd77:1::1/64 <-> r1 10.77.1.254/24 fd77:1::fe/64   (sscR, forwarding)
#                                         r2 10.77.2.254/24 fd77:2::fe/64 <-> s2 10.77.2.2/24 fd77:2::2/64  sscS
#
# Server ports (sscS, IPv4 and IPv6):
#   8080 http (answer, FIN close)      8081 closed (kernel RST)
#   8082 SYNs DROPped (server INPUT)   8083 REJECT icmp(6)-port-unreachable (server INPUT)
#   8084 REJECT tcp-reset on the router (FORWARD), a forged RST
#   8085 REJECT icmp-admin-prohibited / icmp6-adm-prohibited on the router (FORWARD)
#   8086 server reads the request, then closes with SO_LINGER 0 (RST)
#   8087 sink; every 20th data packet (IPv4 length >= 100) into it is DROPped (server INPUT)
#   8088 http, but the client drops SYN-ACKs from this port (client INPUT)
#   8089 echo (IPv4 only); every 5th data packet into it is DROPped (server INPUT)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$HERE}"
ONLY="${ONLY:-}"
TOOL="$HERE/tools/tcptool.py"
EXPECT="$HERE/tools/expect.py"
PY="${PYTHON:-python3}"
C=sscC
S=sscS
R=sscR
NAMESPACES=("$C" "$R" "$S")
FILTER='tcp or icmp or arp or (icmp6 and ip6[40] < 130)'  # errors and echo; no ND/MLD/RS noise
WORK="$(mktemp -d /tmp/ssc-captures.XXXXXX)"
STAGE="$WORK/out" # captures land here; moved to $OUT only once expect.py accepts them
MADE=()
PIDS=()
CAP_PID=""

log() { printf '[make.sh %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Kill processes still running inside one of OUR namespaces (all started by this script).
kill_ns_procs() {
  local ns=$1 p
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
}

teardown() {
  local ns p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  PIDS=()
  for ns in "${NAMESPACES[@]}"; do
    if [ -e "/run/netns/$ns" ]; then kill_ns_procs "$ns"; fi
  done
  sleep 0.2
  for ns in "${NAMESPACES[@]}"; do
    if [ -e "/run/netns/$ns" ]; then ip netns del "$ns" 2>/dev/null || true; fi
  done
}

on_exit() {
  local rc=$?
  set +e
  teardown
  rm -rf "$WORK"
  if [ "$rc" -ne 0 ]; then log "failed (exit $rc); namespaces removed, nothing in $OUT was changed"; fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# wait_for SECONDS CMD... : poll CMD every 0.1 s, fail after SECONDS.
wait_for() {
  local secs=$1; shift
  local i
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------- set-up

setup() {
  local ns
  for ns in "${NAMESPACES[@]}"; do
    ip netns add "$ns"
    # No RA/RS/DAD in fresh namespaces: nothing but our traffic, and no 1 s DAD wait.
    nsx "$ns" sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0 \
      net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
      net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0
    # ICMP errors must not be rate limited, or busy.pcap loses rejections.
    nsx "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
      net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
    # Classic 1, 2, 4, 8 s SYN / SYN-ACK back-off instead of the linear first retries.
    nsx "$ns" sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
    nsx "$ns" ip link set lo up
  done
  nsx "$S" sysctl -qw net.ipv4.tcp_synack_retries=1
  nsx "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

  nsx "$C" ip link add c0 address 02:77:00:00:00:01 type veth peer name s0 address 02:77:00:00:00:02 netns "$S"
  nsx "$C" ip link add c1 address 02:77:00:00:01:01 type veth peer name r1 address 02:77:00:00:01:fe netns "$R"
  nsx "$R" ip link add r2 address 02:77:00:00:02:fe type veth peer name s2 address 02:77:00:00:02:02 netns "$S"

  # addr: ns dev v4 v6
  addr() {
    nsx "$1" ip addr add "$3" dev "$2"
    nsx "$1" ip -6 addr add "$4" dev "$2" nodad
    # One MSS-sized segment per packet (no TSO/GSO super-packets), as on a real wire.
    nsx "$1" ip link set dev "$2" gso_max_segs 1
    nsx "$1" ip link set dev "$2" up
  }
  addr "$C" c0 10.77.0.1/24 fd77::1/64
  addr "$C" c1 10.77.1.1/24 fd77:1::1/64
  addr "$S" s0 10.77.0.2/24 fd77::2/64
  addr "$S" s2 10.77.2.2/24 fd77:2::2/64
  addr "$R" r1 10.77.1.254/24 fd77:1::fe/64
  addr "$R" r2 10.77.2.254/24 fd77:2::fe/64

  nsx "$C" ip route add 10.77.2.0/24 via 10.77.1.254
  nsx "$C" ip -6 route add fd77:2::/64 via fd77:1::fe
  nsx "$S" ip route add 10.77.1.0/24 via 10.77.2.254
  nsx "$S" ip -6 route add fd77:1::/64 via fd77:2::fe

  # Static IPv6 neighbours: no neighbour discovery delay before the first SYN.
  nsx "$C" ip -6 neigh replace fd77::2 lladdr 02:77:00:00:00:02 dev c0 nud permanent
  nsx "$S" ip -6 neigh replace fd77::1 lladdr 02:77:00:00:00:01 dev s0 nud permanent
  nsx "$C" ip -6 neigh replace fd77:1::fe lladdr 02:77:00:00:01:fe dev c1 nud permanent
  nsx "$R" ip -6 neigh replace fd77:1::1 lladdr 02:77:00:00:01:01 dev r1 nud permanent
  nsx "$R" ip -6 neigh replace fd77:2::2 lladdr 02:77:00:00:02:02 dev r2 nud permanent
  nsx "$S" ip -6 neigh replace fd77:2::fe lladdr 02:77:00:00:02:fe dev s2 nud permanent

  local ipt
  for ipt in iptables ip6tables; do
    local unreach=icmp-port-unreachable adm=icmp-admin-prohibited
    if [ "$ipt" = ip6tables ]; then unreach=icmp6-port-unreachable adm=icmp6-adm-prohibited; fi
    nsx "$S" "$ipt" -A INPUT -p tcp --dport 8082 --syn -j DROP
    nsx "$S" "$ipt" -A INPUT -p tcp --dport 8083 -j REJECT --reject-with "$unreach"
    nsx "$R" "$ipt" -A FORWARD -p tcp --dport 8084 -j REJECT --reject-with tcp-reset
    nsx "$R" "$ipt" -A FORWARD -p tcp --dport 8085 -j REJECT --reject-with "$adm"
    nsx "$C" "$ipt" -A INPUT -p tcp --sport 8088 --tcp-flags SYN,ACK SYN,ACK -j DROP
  done
  nsx "$S" iptables -A INPUT -p tcp --dport 8087 -m length --length 100:65535 \
    -m statistic --mode nth --every 20 --packet 0 -j DROP
  nsx "$S" iptables -A INPUT -p tcp --dport 8089 -m length --length 100:65535 \
    -m statistic --mode nth --every 5 --packet 2 -j DROP

  local listen=() port
  for port in 8080 8084 8085 8088; do listen+=(--listen "http,0.0.0.0,$port" --listen "http,::,$port"); done
  listen+=(--listen rst,0.0.0.0,8086 --listen rst,::,8086 --listen sink,0.0.0.0,8087 --listen echo,0.0.0.0,8089)
  ip netns exec "$S" "$PY" "$TOOL" serve --lifetime 600 "${listen[@]}" 2>"$WORK/server.log" &
  PIDS+=($!)
  wait_for 10 sh -c "ip netns exec $S ss -ltnH | grep -q ':8088 '" || die "server did not start: $(cat "$WORK/server.log")"
  log "namespaces ${NAMESPACES[*]} ready"
}

# ---------------------------------------------------------------- capture helpers

# cap_start FILE NS IFACE [tcpdump options...]: tcpdump -U -w OUT/FILE, returns once it listens.
cap_start() {
  local name=$1 ns=$2 ifc=$3
  shift 3
  # Started directly (not through a shell function) so that $! is tcpdump itself.
  # --immediate-mode: packets reach tcpdump at once instead of when a ring block
  # times out, so nothing still in the ring is lost when tcpdump is stopped;
  # -B 32 MiB so the (then per-packet) ring cannot overflow on a loaded machine.
  ip netns exec "$ns" tcpdump -i "$ifc" -Z root -U --immediate-mode -B 32768 -n "$@" -w "$STAGE/$name" "$FILTER" 2>"$WORK/$name.log" &
  CAP_PID=$!
  PIDS+=("$CAP_PID")
  CAP_NAME=$name
  wait_for 10 grep -q 'listening on' "$WORK/$name.log" || die "tcpdump for $name did not start: $(cat "$WORK/$name.log")"
  sleep 0.3
}

# cap_start_dumpcap FILE NS IFACE... : dumpcap (pcapng) on one or more interfaces.
cap_start_dumpcap() {
  local name=$1 ns=$2
  shift 2
  local args=() ifc
  for ifc in "$@"; do args+=(-i "$ifc" -f "$FILTER"); done
  ip netns exec "$ns" dumpcap -q "${args[@]}" -w "$STAGE/$name" 2>"$WORK/$name.log" &
  CAP_PID=$!
  PIDS+=("$CAP_PID")
  CAP_NAME=$name
  wait_for 10 grep -q 'Capturing on' "$WORK/$name.log" || die "dumpcap for $name did not start: $(cat "$WORK/$name.log")"
  sleep 0.5
}

# cap_stop: let the last packets reach the capture, SIGINT it, wait (bounded)
# so the file is complete.
cap_stop() {
  local pid=$CAP_PID i
  sleep "${CAP_SETTLE:-1.2}"
  kill -INT "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; log "WARNING: capture of $CAP_NAME had to be killed"; fi
  wait "$pid" 2>/dev/null || true
  [ -s "$STAGE/$CAP_NAME" ] || die "$CAP_NAME is empty: $(cat "$WORK/$CAP_NAME.log")"
  chmod 644 "$STAGE/$CAP_NAME"
  MADE+=("$CAP_NAME")
  log "$CAP_NAME: $(grep -E 'packets? captured|Packets|dropped' "$WORK/$CAP_NAME.log" | tr '\n' ' ')"
  if grep -qE '^[1-9][0-9]* packets? dropped by kernel' "$WORK/$CAP_NAME.log"; then die "$CAP_NAME: the kernel dropped packets"; fi
}

# client JOB... : run tcptool connect in the client namespace (options and --job specs).
client() { nsx "$C" "$PY" "$TOOL" connect "$@" 2>>"$WORK/client.log"; tail -n 1 "$WORK/client.log" >&2; }
ping_from() { nsx "$1" "$PY" "$TOOL" ping "$2" 2>>"$WORK/client.log" || true; }

# ---------------------------------------------------------------- scenarios

run_captures() {
  if want normal.pcap; then
    cap_start normal.pcap "$C" c0
    client --spacing 0.2 --job 10.77.0.2,8080,http,3
    cap_stop
  fi

  if want refused.pcap; then
    cap_start refused.pcap "$C" c0
    client --job 10.77.0.2,8081,http,2
    cap_stop
  fi

  if want drop.pcap; then
    # 3 parallel connects, 3 SYN retries each (SYNs at 0, 1, 3, 7 s). The
    # clients give up at 12 s (closing a SYN-SENT socket sends nothing); a ping
    # at ~12 s shows the capture ran ~5 s past the last SYN.
    cap_start drop.pcap "$C" c0
    client --parallel 3 --job 10.77.0.2,8082,http,3,3,12
    ping_from "$C" 10.77.0.2
    cap_stop
  fi

  if want reject-port-unreachable.pcap; then
    cap_start reject-port-unreachable.pcap "$C" c0
    client --job 10.77.0.2,8083,http,2
    cap_stop
  fi

  if want reject-admin-prohibited.pcap; then
    cap_start reject-admin-prohibited.pcap "$C" c1
    client --job 10.77.2.2,8080,http,1
    client --job 10.77.2.2,8085,http,2
    cap_stop
  fi

  if want reject-tcp-reset.pcap; then
    cap_start reject-tcp-reset.pcap "$C" c1
    client --job 10.77.2.2,8080,http,1
    client --job 10.77.2.2,8084,http,2
    cap_stop
  fi

  if want synack-lost.pcap; then
    # Captured on the SERVER: SYN (+1 retry, client TCP_SYNCNT 1) arrive,
    # SYN-ACKs go out (synack_retries 1 on the server), the client drops them.
    cap_start synack-lost.pcap "$S" s0
    client --job 10.77.0.2,8088,http,1,1,10
    sleep 4.5
    ping_from "$C" 10.77.0.2
    cap_stop
  fi

  if want data-retrans.pcap; then
    # Request/echo exchanges (20 x 1000 bytes, one segment in flight) to port
    # 8089; every 5th data packet into the server is DROPped. The lost request
    # is resent by the client's loss-probe/RTO timer ~20 ms later (rto_min
    # 20ms on the client's route to the server), long after anything else, so
    # tshark flags every resend as a plain retransmission.
    nsx "$C" ip route replace 10.77.0.2/32 dev c0 rto_min 20ms
    cap_start data-retrans.pcap "$C" c0
    client --job 10.77.0.2,8089,rpc=20:1000,1,,20
    cap_stop
    nsx "$C" ip route del 10.77.0.2/32 dev c0
  fi

  if want data-retrans-burst.pcap; then
    # Bulk upload of 400 kB to port 8087, every 20th data packet into the
    # server DROPped: SACK/RACK recovery within microseconds. Snap length 128
    # (packets truncated: caplen < len).
    cap_start data-retrans-burst.pcap "$C" c0 -s 128
    client --job 10.77.0.2,8087,send=400000,1,,20
    cap_stop
  fi

  if want reset-after-established.pcap; then
    cap_start reset-after-established.pcap "$C" c0
    client --job 10.77.0.2,8086,http,2
    client --job 10.77.0.2,8080,abort,1
    cap_stop
  fi

  if want nanosecond.pcap; then
    cap_start nanosecond.pcap "$C" c0 --time-stamp-precision=nano
    client --job 10.77.0.2,8080,http,1
    client --job 10.77.0.2,8081,http,1
    cap_stop
  fi

  if want normal6.pcap; then
    cap_start normal6.pcap "$C" c0
    client --spacing 0.2 --job fd77::2,8080,http,2
    cap_stop
  fi

  if want refused6.pcap; then
    cap_start refused6.pcap "$C" c0
    client --job fd77::2,8081,http,2
    cap_stop
  fi

  if want drop6.pcap; then
    cap_start drop6.pcap "$C" c0
    client --parallel 3 --job fd77::2,8082,http,3,3,12
    ping_from "$C" fd77::2
    cap_stop
  fi

  if want reject6-port-unreachable.pcap; then
    cap_start reject6-port-unreachable.pcap "$C" c0
    client --job fd77::2,8083,http,2
    cap_stop
  fi

  if want reject6-adm-prohibited.pcap; then
    cap_start reject6-adm-prohibited.pcap "$C" c1
    client --job fd77:2::2,8080,http,1
    client --job fd77:2::2,8085,http,2
    cap_stop
  fi

  if want mixed.pcapng; then
    # dumpcap, pcapng, two interfaces (two IDBs), IPv4 and IPv6, every outcome family.
    cap_start_dumpcap mixed.pcapng "$C" c0 c1
    client --parallel 10 \
      --job 10.77.0.2,8080,http,1 --job fd77::2,8080,http,1 \
      --job 10.77.0.2,8081,http,1 --job fd77::2,8081,http,1 \
      --job 10.77.0.2,8082,http,1,1,3.5 \
      --job 10.77.0.2,8083,http,1 --job 10.77.2.2,8085,http,1 --job fd77:2::2,8085,http,1 \
      --job 10.77.2.2,8084,http,1 --job 10.77.0.2,8086,http,1 --job 10.77.2.2,8080,http,1
    sleep 2.5
    ping_from "$C" 10.77.0.2
    CAP_SETTLE=2.5 cap_stop # dumpcap has no immediate mode: give its ring time to hand over the last packets
  fi

  if want any.pcap; then
    # -i any: Linux cooked capture v2 (SLL2) link type.
    cap_start any.pcap "$C" any
    client --job 10.77.0.2,8080,http,1
    client --job 10.77.0.2,8081,http,1
    client --job fd77::2,8080,http,1
    cap_stop
  fi

  if want router-any-dup.pcap; then
    # -i any on the ROUTER: each forwarded packet is seen twice (in on r1, out
    # on r2, TTL one lower), the classic duplicate of a router/bridge capture.
    cap_start router-any-dup.pcap "$R" any
    client --job 10.77.2.2,8080,http,1
    cap_stop
  fi

  if want busy.pcap; then
    # ~380 connections, shuffled (fixed seed), 40 at a time: mostly normal,
    # some refused, some dropped (1 SYN retry), some ICMP-rejected. Snap 128.
    cap_start busy.pcap "$C" c0 -s 128
    client --parallel 40 --seed 7 --spacing 0.004 \
      --job 10.77.0.2,8080,http,260 --job fd77::2,8080,http,50 \
      --job 10.77.0.2,8081,http,25 --job fd77::2,8081,http,5 \
      --job 10.77.0.2,8082,http,20,1,3.5 \
      --job 10.77.0.2,8083,http,15 --job fd77::2,8083,http,5
    sleep 2.5
    ping_from "$C" 10.77.0.2
    cap_stop
  fi
}

# ---------------------------------------------------------------- main

[ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, iptables, tcpdump)"
for t in ip iptables ip6tables tcpdump dumpcap tshark "$PY"; do
  command -v "$t" >/dev/null || die "missing tool: $t"
done
mkdir -p "$OUT" "$STAGE"
teardown # leftovers from an interrupted earlier run
setup
run_captures
teardown
[ "${#MADE[@]}" -gt 0 ] || die "ONLY=\"$ONLY\" matched no capture"
# With ONLY, the other captures already in OUT stay and are checked too.
for f in "$OUT"/*.pcap "$OUT"/*.pcapng; do
  if [ -e "$f" ] && [ ! -e "$STAGE/$(basename "$f")" ]; then cp -p "$f" "$STAGE/"; fi
done
log "checking captures (tshark) and writing expected.json"
"$PY" "$EXPECT" --dir "$STAGE" --out "$STAGE/expected.json"
for f in "${MADE[@]}" expected.json; do mv -f "$STAGE/$f" "$OUT/$f"; done
log "done: ${MADE[*]} and expected.json in $OUT"
