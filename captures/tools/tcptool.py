#!/usr/bin/env python3
"""Tiny TCP servers and clients used by captures/make.sh.

Only ever run inside the ssc* network namespaces that make.sh creates; the
addresses come from make.sh. Everything is bounded in time and count.

  tcptool.py serve --lifetime S --listen MODE,ADDR,PORT [--listen ...]
      MODE  http  read one request (until CRLFCRLF), answer 200 with a small
                  body, half-close (FIN), wait for the client's FIN, close.
            rst   read one request, then close with SO_LINGER 0 (kernel sends RST).
            sink  read until EOF, answer "OK <n>\\n", half-close, wait, close.
            echo  send back whatever arrives, close after the client's FIN.

  tcptool.py connect [--parallel N] [--seed N] [--spacing S] --job ADDR,PORT,MODE,COUNT[,SYNCNT[,TIMEOUT]] ...
      MODE  http      send a GET, read until EOF, close (FIN after the server's FIN).
            send=N    send N bytes, half-close, read the answer until EOF, close.
            rpc=C:S   C request/echo exchanges of S bytes each (TCP_NODELAY), then close.
            paced=N[:GAP]  like send=N, but one 1448-byte write every GAP ms (default 2, TCP_NODELAY).
            abort     complete the handshake, then close with SO_LINGER 0 (client RST).
      SYNCNT sets TCP_SYNCNT (SYN retries) on the socket; TIMEOUT is the
      socket timeout in seconds (closing a socket in SYN-SENT sends nothing).

  tcptool.py ping ADDR   one ICMP/ICMPv6 echo request (raw socket), wait <= 1 s for the reply.
"""
import argparse
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

MAX_REQUEST = 64 * 1024
IO_TIMEOUT = 5.0


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def family_of(addr):
    return socket.AF_INET6 if ipaddress.ip_address(addr).version == 6 else socket.AF_INET


def read_request(conn):
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < MAX_REQUEST:
        chunk = conn.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def drain_until_eof(conn, limit=64 * 1024 * 1024):
    total = 0
    while total < limit:
        chunk = conn.recv(65536)
        if not chunk:
            break
        total += len(chunk)
    return total


def handle(conn, mode):
    conn.settimeout(IO_TIMEOUT)
    try:
        if mode == "http":
            req = read_request(conn)
            body = b"x" * 512
            head = (
                b"HTTP/1.1 200 OK\r\nServer: synsent-captures\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
            )
            if req:
                conn.sendall(head + body)
            conn.shutdown(socket.SHUT_WR)
            drain_until_eof(conn)
            conn.close()
        elif mode == "rst":
            read_request(conn)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        elif mode == "echo":
            total = 0
            while total < 16 * 1024 * 1024:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                conn.sendall(chunk)
                total += len(chunk)
            conn.close()
        elif mode == "sink":
            n = drain_until_eof(conn)
            conn.sendall(b"OK %d\n" % n)
            conn.shutdown(socket.SHUT_WR)
            drain_until_eof(conn)
            conn.close()
        else:
            conn.close()
    except OSError as e:
        log("serve: connection error:", e)
        try:
            conn.close()
        except OSError:
            pass


def serve(args):
    socks = []
    for spec in args.listen:
        mode, addr, port = spec.split(",")
        fam = family_of(addr)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, int(port)))
        s.listen(1024)
        socks.append((s, mode))
    deadline = time.monotonic() + args.lifetime

    def accept_loop(s, mode):
        s.settimeout(1.0)
        while time.monotonic() < deadline:
            try:
                conn, _ = s.accept()
            except socket.timeout:
                continue
            except OSError as e:
                log("serve: accept error:", e)
                time.sleep(0.05)
                continue
            threading.Thread(target=handle, args=(conn, mode), daemon=True).start()

    threads = [threading.Thread(target=accept_loop, args=sm, daemon=True) for sm in socks]
    for t in threads:
        t.start()
    log("serve: listening", " ".join(args.listen))
    for t in threads:
        t.join()


def one_client(addr, port, mode, syncnt, timeout):
    fam = family_of(addr)
    s = socket.socket(fam, socket.SOCK_STREAM)
    if syncnt is not None:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, syncnt)
    s.settimeout(timeout)
    t0 = time.monotonic()
    try:
        s.connect((addr, port))
        if mode == "http":
            s.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: synsent-captures\r\n\r\n" % addr.encode())
            got = 0
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
            s.close()
            return ("ok", got, time.monotonic() - t0)
        if mode == "abort":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            return ("ok", 0, time.monotonic() - t0)
        if mode.startswith("rpc="):
            # COUNT request/response exchanges of SIZE bytes; the next request
            # goes out only when the whole echo is back (one segment in flight).
            count, size = (int(x) for x in mode[4:].split(":"))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            msg = bytes(range(256)) * (size // 256 + 1)
            for _ in range(count):
                s.sendall(msg[:size])
                got = 0
                while got < size:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError("echo closed early")
                    got += len(chunk)
            s.close()
            return ("ok", count, time.monotonic() - t0)
        if mode.startswith("paced="):
            # One MSS-sized write every GAP ms with Nagle off: one segment per write.
            n, gap = (mode[6:] + ":2").split(":")[:2]
            n, gap = int(n), float(gap) / 1000.0
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            block = bytes(range(256)) * 6
            sent = 0
            while sent < n:
                part = block[: min(1448, n - sent)]
                s.sendall(part)
                sent += len(part)
                time.sleep(gap)
            mode = "send=0"
        if mode.startswith("send="):
            n = int(mode[5:])
            block = bytes(range(256)) * 256
            sent = 0
            while sent < n:
                part = block[: min(len(block), n - sent)]
                s.sendall(part)
                sent += len(part)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            s.close()
            return ("ok", got.decode(errors="replace").strip(), time.monotonic() - t0)
        raise ValueError("unknown client mode " + mode)
    except OSError as e:
        s.close()
        return (type(e).__name__ + ": " + (e.strerror or str(e)), None, time.monotonic() - t0)


def connect(args):
    jobs = []
    for spec in args.job:
        parts = spec.split(",")
        # ADDR,PORT,MODE,COUNT[,SYNCNT[,TIMEOUT]] -- commas because IPv6 addresses contain colons
        addr, port, mode, count = parts[0], int(parts[1]), parts[2], int(parts[3])
        syncnt = int(parts[4]) if len(parts) > 4 and parts[4] else None
        timeout = float(parts[5]) if len(parts) > 5 else 5.0
        jobs += [(addr, port, mode, syncnt, timeout)] * count
    if args.seed is not None:
        random.Random(args.seed).shuffle(jobs)
    results = {}
    with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as ex:
        futs = []
        for j in jobs:
            futs.append((j, ex.submit(one_client, *j)))
            if args.spacing > 0:
                time.sleep(args.spacing)
        for j, f in futs:
            status, detail, dt = f.result()
            key = "%s port %d: %s" % (j[0], j[1], status)
            results[key] = results.get(key, 0) + 1
    log("connect:", json.dumps(results, sort_keys=True))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(args):
    fam = family_of(args.addr)
    ident = os.getpid() & 0xFFFF
    payload = b"synsent-captures"
    if fam == socket.AF_INET:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
        pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, 1) + payload
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        pkt = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + payload  # kernel fills the checksum
    s.settimeout(1.0)
    s.sendto(pkt, (args.addr, 0))
    try:
        s.recv(2048)
    except socket.timeout:
        log("ping: no reply from", args.addr)
    s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("serve")
    ps.add_argument("--listen", action="append", required=True)
    ps.add_argument("--lifetime", type=float, default=300.0)
    pc = sub.add_parser("connect")
    pc.add_argument("--job", action="append", required=True)
    pc.add_argument("--parallel", type=int, default=1)
    pc.add_argument("--seed", type=int, default=None)
    pc.add_argument("--spacing", type=float, default=0.0, help="seconds between starting jobs")
    pp = sub.add_parser("ping")
    pp.add_argument("addr")
    args = p.parse_args()
    {"serve": serve, "connect": connect, "ping": ping}[args.cmd](args)


if __name__ == "__main__":
    main()
