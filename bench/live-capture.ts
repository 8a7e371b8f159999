/**
 * Live capture throughput: synsent capture vs tcpdump -w /dev/null.
 *
 * A synthetic capture (bench/generate.ts) is rewritten onto this bench's own
 * namespace addresses (10.79.x, tcprewrite --srcipmap/--dstipmap) and to a
 * destination MAC nobody owns, then replayed with `tcpreplay --topspeed` from
 * namespace ssl-cz onto a veth whose other end, in ssl-sz, is where each tool
 * captures. Nothing leaves the two namespaces, which are removed at the end
 * (and on failure).
 *
 * Usage (root): node dist/bench/live-capture.js [--packets 500000] [--runs 1] [--buffer-kib 2048,32768]
 * Prints a table: packets/s captured and kernel drops per tool and buffer size.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = fs.existsSync(path.join(here, "..", "package.json")) ? path.join(here, "..") : path.join(here, "..", "..");
const CLI = path.join(root, "dist", "src", "cli", "main.js");
const GENERATE = path.join(root, "dist", "bench", "generate.js");

const NS_C = "ssl-cz";
const NS_S = "ssl-sz";
const IF_C = "ssl-vz0";
const IF_S = "ssl-vz1";

function sh(cmd: string, timeoutMs = 60_000): string {
  return execFileSync("sh", ["-c", cmd], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] });
}

function quiet(cmd: string): void {
  try {
    execFileSync("sh", ["-c", cmd], { stdio: "ignore", timeout: 10_000 });
  } catch {
    // already gone
  }
}

function cleanup(): void {
  quiet(`ip netns del ${NS_C}`);
  quiet(`ip netns del ${NS_S}`);
  quiet(`ip link del ${IF_C}`);
}

function setup(): void {
  cleanup();
  sh(`ip netns add ${NS_C} && ip netns add ${NS_S}`);
  sh(`ip link add ${IF_C} type veth peer name ${IF_S}`);
  sh(`ip link set ${IF_C} netns ${NS_C} && ip link set ${IF_S} netns ${NS_S}`);
  sh(`ip netns exec ${NS_C} ip link set ${IF_C} up && ip netns exec ${NS_S} ip link set ${IF_S} up`);
  sh(`ip netns exec ${NS_C} ip addr add 10.79.250.1/24 dev ${IF_C} && ip netns exec ${NS_S} ip addr add 10.79.250.2/24 dev ${IF_S}`);
}

interface Row {
  tool: string;
  bufferKiB: number;
  sent: number;
  replayS: number;
  captured: number;
  received: number;
  dropped: number;
  ifDropped: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

/** Start a capture in the server namespace; resolves when it says it is ready. */
function startCapture(cmd: string[], ready: RegExp): Promise<{ stop: () => Promise<{ stdout: string; stderr: string; code: number | null }> }> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", NS_S, ...cmd], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const kill = setTimeout(() => child.kill("SIGKILL"), 300_000);
    const done = new Promise<{ stdout: string; stderr: string; code: number | null }>((res) =>
      child.on("close", (code) => {
        clearTimeout(kill);
        res({ stdout: out, stderr: err, code });
      }),
    );
    const t = setTimeout(() => reject(new Error(`${cmd[0]} did not start: ${err}`)), 10_000);
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (ready.test(err)) {
        clearTimeout(t);
        resolve({
          stop: async () => {
            child.kill("SIGINT");
            return done;
          },
        });
      }
    });
    child.on("error", reject);
  });
}

function replay(file: string): { sent: number; seconds: number } {
  const out = sh(`ip netns exec ${NS_C} tcpreplay --topspeed -i ${IF_C} ${file} 2>&1`, 300_000);
  // "Actual: 500000 packets (40000000 bytes) sent in 1.23 seconds"
  const m = /Actual: (\d+) packets .* sent in ([\d.]+) seconds/.exec(out);
  if (!m) throw new Error(`cannot read tcpreplay's summary: ${out}`);
  return { sent: Number(m[1]), seconds: Number(m[2]) };
}

async function runOne(tool: "synsent" | "tcpdump", file: string, bufferKiB: number): Promise<Row> {
  const tmpReport = path.join(os.tmpdir(), `ssl-bench-${process.pid}.json`);
  const cap =
    tool === "synsent"
      ? await startCapture(
          [process.execPath, CLI, "capture", IF_S, "--buffer-size", String(bufferKiB), "--format", "json", "-o", tmpReport, "--max-flows", "2000000"],
          /capturing on/,
        )
      : await startCapture(["tcpdump", "-i", IF_S, "-n", "-B", String(bufferKiB), "-w", "/dev/null"], /listening on/);
  await new Promise((r) => setTimeout(r, 300));
  const r = replay(file);
  await new Promise((r2) => setTimeout(r2, 1000)); // let the capture drain its ring
  const res = await cap.stop();
  if (tool === "synsent") {
    const rep = JSON.parse(fs.readFileSync(tmpReport, "utf8"));
    fs.rmSync(tmpReport, { force: true });
    const k = rep.source.kernel ?? { received: 0, dropped: 0, ifDropped: 0 };
    return { tool: "synsent capture", bufferKiB, sent: r.sent, replayS: r.seconds, captured: rep.source.packets, received: k.received, dropped: k.dropped, ifDropped: k.ifDropped };
  }
  const num = (re: RegExp) => Number(re.exec(res.stderr)?.[1] ?? NaN);
  return {
    tool: "tcpdump -w /dev/null",
    bufferKiB,
    sent: r.sent,
    replayS: r.seconds,
    captured: num(/(\d+) packets? captured/),
    received: num(/(\d+) packets? received by filter/),
    dropped: num(/(\d+) packets? dropped by kernel/),
    ifDropped: num(/(\d+) packets? dropped by interface/) || 0,
  };
}

function table(rows: Row[]): string {
  const head = ["tool", "buffer", "sent", "replay pps", "captured", "captured pps", "kernel drops", "if drops", "captured %"];
  const body = rows.map((r) => [
    r.tool,
    `${r.bufferKiB} KiB`,
    r.sent.toLocaleString("en-US"),
    Math.round(r.sent / r.replayS).toLocaleString("en-US"),
    r.captured.toLocaleString("en-US"),
    Math.round(r.captured / r.replayS).toLocaleString("en-US"),
    r.dropped.toLocaleString("en-US"),
    r.ifDropped.toLocaleString("en-US"),
    ((100 * r.captured) / r.sent).toFixed(1),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(head), line(w.map((n) => "-".repeat(n))), ...body.map(line)].join("\n");
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write("live-capture bench: needs root (network namespaces, raw sockets)\n");
    return 2;
  }
  for (const f of [CLI, GENERATE]) {
    if (!fs.existsSync(f)) {
      process.stderr.write(`live-capture bench: ${f} missing: npm run build first\n`);
      return 2;
    }
  }
  const packets = Number(arg("packets", "500000"));
  const runs = Number(arg("runs", "1"));
  const buffers = arg("buffer-kib", "2048,32768").split(",").map(Number);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssl-bench-"));
  const onSignal = () => {
    cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const gen = path.join(dir, "gen.pcap");
    const rew = path.join(dir, "replay.pcap");
    process.stderr.write(`generating ${packets} packets...\n`);
    sh(`${process.execPath} ${GENERATE} -o ${gen} --packets ${packets} --ipv6 0 --no-truth`, 300_000);
    // Onto this bench's own addresses, and to a MAC nobody owns: the receiving
    // kernel drops every frame right after the capture point.
    const map = "198.51.100.0/24:10.79.100.0/24,203.0.113.0/24:10.79.113.0/24,192.0.2.0/24:10.79.2.0/24";
    sh(`tcprewrite --srcipmap=${map} --dstipmap=${map} --enet-dmac=02:00:00:00:79:01 --enet-smac=02:00:00:00:79:02 -i ${gen} -o ${rew}`, 300_000);
    fs.rmSync(gen);
    const check = sh(`tcpdump -nr ${rew} -c 2000 2>/dev/null | grep -Ev " 10\\.79\\.[0-9]+\\.[0-9]+\\.[0-9]+ > 10\\.79\\." | head -3`);
    if (check.trim() !== "") throw new Error(`rewritten capture still has foreign addresses: ${check}`);
    setup();
    const rows: Row[] = [];
    for (const b of buffers) {
      for (let i = 0; i < runs; i++) {
        for (const tool of ["synsent", "tcpdump"] as const) {
          process.stderr.write(`${tool}, buffer ${b} KiB, run ${i + 1}/${runs}...\n`);
          rows.push(await runOne(tool, rew, b));
        }
      }
    }
    process.stdout.write(`\nlive capture, ${packets.toLocaleString("en-US")} packets replayed with tcpreplay --topspeed onto a veth (${os.cpus().length} cores)\n\n`);
    process.stdout.write(table(rows) + "\n");
    return 0;
  } finally {
    cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    cleanup();
    process.stderr.write(`live-capture bench: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
