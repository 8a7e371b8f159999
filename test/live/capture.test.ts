/**
 * `synsent capture` on real traffic between two network namespaces made here
 * (ssl-c*, ssl-s*; 10.79.x / fd79::), compared with tcpdump and tshark on the
 * same interface at the same time. Needs root, the binding, a built dist/,
 * tcpdump, tshark and python3; skipped with the reason otherwise.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, isOneLineError } from "../helpers/cli.js";
import { liveSkipReason, makeTopology, rmrf, sh, start, waitForStderr, type Proc, type Topology } from "./helpers.js";

const skip = liveSkipReason(["tcpdump", "tshark", "python3", "iptables"]) ?? (fs.existsSync(CLI) ? null : `${CLI} missing: npm run build first`);
if (skip) console.warn(`test/live/capture: skipped: ${skip}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-live-"));

interface Conn {
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  outcome: string;
  handshakeRttMs: { total: number } | null;
}

function readJson(file: string): { connections: Conn[]; source: { packets: number; kernel: { received: number; dropped: number; ifDropped: number } | null } } {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function key(c: Conn): string {
  return `${c.client.ip}|${c.client.port}|${c.server.ip}|${c.server.port}|${c.outcome}`;
}

/** Python: a server that accepts, reads to EOF and closes, on v4 and v6. */
const SERVER_PY = (t: Topology) => `
import socket, threading, time
def serve(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 8080)); s.listen(64)
    s.settimeout(25)
    while True:
        try:
            c, _ = s.accept()
        except Exception:
            return
        def h(c):
            c.settimeout(5)
            try:
                while c.recv(4096): pass
            except Exception: pass
            c.close()
        threading.Thread(target=h, args=(c,), daemon=True).start()
for fam, a in ((socket.AF_INET, "${t.s4}"), (socket.AF_INET6, "${t.s6}")):
    threading.Thread(target=serve, args=(fam, a), daemon=True).start()
time.sleep(25)
`;

/**
 * Python client: one unanswered SYN (DROPped port 8081, gives up after 1.5 s:
 * SYNs at 0 and 1 s) in parallel with good, refused and ICMP-rejected
 * connections on v4 and v6; then, once the unanswered one is past synsent's
 * timeout (--syn-timeout 2, stretched to 2.5 x the 1 s retry gap), one last
 * good connection so the capture's last packet
 * is after it (file analysis judges time by packets).
 */
const CLIENT_PY = (t: Topology) => `
import socket, threading, time
t0 = time.time()
def attempt(fam, addr, port, timeout=3.0, send=b"hello"):
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(timeout)
    try:
        s.connect((addr, port)); s.sendall(send); time.sleep(0.05)
        s.shutdown(socket.SHUT_WR); s.recv(10)
        r = "ok"
    except Exception as e:
        r = type(e).__name__
    s.close(); print(port, r, flush=True)
th = threading.Thread(target=attempt, args=(socket.AF_INET, "${t.s4}", 8081, 1.5)); th.start()
for i in range(3): attempt(socket.AF_INET, "${t.s4}", 8080)
attempt(socket.AF_INET6, "${t.s6}", 8080)
attempt(socket.AF_INET, "${t.s4}", 8082)
attempt(socket.AF_INET6, "${t.s6}", 8082)
attempt(socket.AF_INET, "${t.s4}", 8083)
th.join()
time.sleep(max(0, t0 + 4.5 - time.time()))
attempt(socket.AF_INET, "${t.s4}", 8080)
`;

describe.skipIf(skip !== null)("synsent capture in network namespaces", () => {
  let t: Topology;
  const procs: Proc[] = [];

  beforeAll(() => {
    t = makeTopology("a", 11);
    const s = `ip netns exec ${t.server}`;
    sh(`${s} iptables -A INPUT -p tcp --dport 8081 -j DROP`);
    sh(`${s} iptables -A INPUT -p tcp --dport 8083 -j REJECT --reject-with icmp-port-unreachable`);
  });

  afterAll(() => {
    for (const p of procs) p.child.kill("SIGKILL");
    t?.cleanup();
    if (!process.env.SSL_KEEP) rmrf(tmp);
  });

  it("gives the verdicts analyze gives on tcpdump's capture, and tshark's handshake RTTs", async () => {
    const tcpdumpFile = path.join(tmp, "tcpdump.pcap");
    const liveJson = path.join(tmp, "live.json");
    const liveW = path.join(tmp, "live-w.pcap");
    const analyzeJson = path.join(tmp, "analyze.json");
    const c = ["ip", "netns", "exec", t.client];
    // ICMPv6 destination unreachable only (type 1, no extension header): the
    // router solicitations and MLD reports of fresh interfaces come at times
    // of their own and would make the two captures differ by when they stop.
    const filter = ["tcp or icmp or (ip6[6] == 58 and ip6[40] == 1)"];
    const server = start("ip", ["netns", "exec", t.server, "python3", "-c", SERVER_PY(t)], 28_000);
    procs.push(server);
    const tcpdump = start(c[0], [...c.slice(1), "tcpdump", "-i", t.cIf, "-n", "-U", "--immediate-mode", "--time-stamp-precision=nano", "-w", tcpdumpFile, ...filter], 28_000);
    procs.push(tcpdump);
    const live = start(
      c[0],
      [...c.slice(1), process.execPath, CLI, "capture", t.cIf, ...filter, "--format", "json", "-o", liveJson, "-w", liveW, "--syn-timeout", "2", "--fail-on", "unanswered"],
      28_000,
    );
    procs.push(live);
    await Promise.all([waitForStderr(tcpdump.child, /listening on/, 5000), waitForStderr(live.child, /capturing on/, 5000)]);
    await new Promise((r) => setTimeout(r, 300)); // python server up
    const client = start("ip", ["netns", "exec", t.client, "python3", "-c", CLIENT_PY(t)], 15_000);
    expect(await client.done).toBe(0);
    expect(client.stdout()).toMatch(/8081 (timeout|TimeoutError)/);
    expect(client.stdout()).toMatch(/8082 ConnectionRefusedError/);
    await new Promise((r) => setTimeout(r, 500));
    live.child.kill("SIGINT");
    tcpdump.child.kill("SIGINT");
    const [liveCode] = await Promise.all([live.done, tcpdump.done]);
    // Interrupted by Ctrl-C: 130 (the report is complete), even though --fail-on matched.
    expect(live.stderr()).toMatch(/packets captured, \d+ received by filter, \d+ dropped by kernel/);
    expect(liveCode).toBe(130);

    const an = start(process.execPath, [CLI, "analyze", tcpdumpFile, "--format", "json", "-o", analyzeJson, "--syn-timeout", "2"], 20_000);
    expect(await an.done).toBe(0);
    const liveR = readJson(liveJson);
    const fileR = readJson(analyzeJson);
    const outcomes = liveR.connections.map((x) => `${x.server.port}/${x.outcome}`).sort();
    expect(outcomes).toEqual(
      ["8080/closed", "8080/closed", "8080/closed", "8080/closed", "8080/closed", "8081/unanswered", "8082/refused", "8082/refused", "8083/icmp-rejected"].sort(),
    );
    expect(liveR.connections.map(key).sort()).toEqual(fileR.connections.map(key).sort());
    expect(liveR.source.packets).toBe(fileR.source.packets);
    expect(liveR.source.kernel).not.toBeNull();
    expect(liveR.source.kernel!.dropped).toBe(0);

    // Handshake RTT = tshark's tcp.analysis.initial_rtt (SYN to the client's ACK), within 100 µs.
    const rows = sh(`tshark -r ${tcpdumpFile} -Y "tcp.analysis.initial_rtt && tcp.flags.syn==0" -T fields -e tcp.srcport -e tcp.analysis.initial_rtt`)
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    const tsharkRtt = new Map<number, number>();
    for (const [port, rtt] of rows) if (!tsharkRtt.has(Number(port))) tsharkRtt.set(Number(port), Number(rtt));
    const withRtt = liveR.connections.filter((x) => x.handshakeRttMs !== null);
    expect(withRtt.length).toBe(5);
    for (const x of withRtt) {
      const ts = tsharkRtt.get(x.client.port);
      expect(ts, `tshark RTT for client port ${x.client.port}`).toBeDefined();
      expect(Math.abs(x.handshakeRttMs!.total / 1000 - ts!)).toBeLessThan(100e-6);
    }

    // -w wrote a complete pcap with every packet synsent analysed.
    const count = sh(`tshark -r ${liveW} -T fields -e frame.number | wc -l`).trim();
    expect(Number(count)).toBe(liveR.source.packets);
  }, 30_000);

  it("streams one NDJSON line per verdict while capturing, and stops by itself after --count", async () => {
    const c = ["netns", "exec", t.client];
    const live = start("ip", [...c, process.execPath, CLI, "capture", t.cIf, "tcp", "port", "8082", "--duration", "8", "--syn-timeout", "1"], 15_000);
    procs.push(live);
    await waitForStderr(live.child, /capturing on/, 5000);
    const started = Date.now();
    sh(`ip netns exec ${t.client} python3 -c "import socket; s=socket.socket(); s.settimeout(2)
try: s.connect(('${t.s4}', 8082))
except Exception as e: print(e)"`);
    // The refusal is on stdout long before --duration ends the capture.
    const deadline = Date.now() + 5000;
    while (!/"outcome":\s*"refused"/.test(live.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(live.stdout()).toMatch(/"outcome":\s*"refused"/);
    expect(Date.now() - started).toBeLessThan(6000);
    const first = live.stdout().split("\n")[0];
    expect(JSON.parse(first).server.port).toBe(8082);
    live.child.kill("SIGTERM");
    expect(await live.done).toBe(143);

    const counted = start("ip", [...c, process.execPath, CLI, "capture", t.cIf, "-c", "3", "--format", "json", "--duration", "10"], 15_000);
    procs.push(counted);
    await waitForStderr(counted.child, /capturing on/, 5000);
    sh(`ip netns exec ${t.client} python3 -c "import socket
for i in range(3):
    s=socket.socket(); s.settimeout(1)
    try: s.connect(('${t.s4}', 8082))
    except Exception: pass
    s.close()"`);
    expect(await counted.done).toBe(0);
    const rep = JSON.parse(counted.stdout());
    expect(rep.source.packets).toBe(3);
    expect(rep.source.interface).toBe(t.cIf);
  }, 30_000);

  it("lists the namespace's interfaces with addresses and flags, in text and JSON", async () => {
    const c = ["netns", "exec", t.client];
    const txt = start("ip", [...c, process.execPath, CLI, "interfaces"], 10_000);
    expect(await txt.done).toBe(0);
    const line = txt.stdout().split("\n").find((l) => l.includes(t.cIf))!;
    expect(line).toMatch(new RegExp(`^ *\\d+\\. ${t.cIf} +up,running +10\\.79\\.11\\.1/24 fd79::11:1/112`));
    expect(txt.stdout()).toMatch(/ lo +up,running,loopback +127\.0\.0\.1\/8/);
    const js = start("ip", [...c, process.execPath, CLI, "interfaces", "--format", "json"], 10_000);
    expect(await js.done).toBe(0);
    const list = JSON.parse(js.stdout()) as { name: string; up: boolean; loopback: boolean; default: boolean; addresses: { addr: string; prefixLen: number }[] }[];
    const v = list.find((i) => i.name === t.cIf)!;
    expect(v.up).toBe(true);
    expect(v.addresses).toContainEqual(expect.objectContaining({ addr: t.c4, prefixLen: 24 }));
    // The only non-loopback interface that is up is the default, as tcpdump would pick it.
    expect(list.filter((i) => i.default).map((i) => i.name)).toEqual([t.cIf]);
  });

  it("says in one line what is wrong: no such interface, bad filter, interface down, permission", async () => {
    const c = ["netns", "exec", t.client];
    const r1 = start("ip", [...c, process.execPath, CLI, "capture", "ssl-nosuch0"], 10_000);
    expect(await r1.done).toBe(3);
    expect(isOneLineError(r1.stderr())).toBe(true);
    expect(r1.stderr()).toMatch(/no such interface "ssl-nosuch0" \(interfaces here: .*ssl-va0/);

    const r2 = start("ip", [...c, process.execPath, CLI, "capture", t.cIf, "tcp", "port"], 10_000);
    expect(await r2.done).toBe(2);
    expect(r2.stderr()).toMatch(/^synsent: bad filter "tcp port": syntax error/);

    sh(`ip netns exec ${t.client} ip link add ssl-dna type veth peer name ssl-dnb`);
    const r3 = start("ip", [...c, process.execPath, CLI, "capture", "ssl-dna"], 10_000);
    expect(await r3.done).toBe(3);
    expect(isOneLineError(r3.stderr())).toBe(true);
    expect(r3.stderr()).toMatch(/interface ssl-dna is down: bring it up \(sudo ip link set ssl-dna up\)/);

    // Without privileges: the exact setcap command for this node binary.
    let canDrop = true;
    try {
      sh("runuser -u nobody -- true");
    } catch {
      canDrop = false;
    }
    if (canDrop) {
      const r4 = start("ip", [...c, "runuser", "-u", "nobody", "--", process.execPath, CLI, "capture", t.cIf], 10_000);
      expect(await r4.done).toBe(3);
      expect(isOneLineError(r4.stderr())).toBe(true);
      expect(r4.stderr()).toContain(`setcap cap_net_raw,cap_net_admin=eip ${fs.realpathSync(process.execPath)}`);
    }
  }, 30_000);
});
