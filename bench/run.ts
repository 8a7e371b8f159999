/**
 * `npm run bench`: synsent side by side with tcpdump, tshark and tcptrace on
 * the same generated captures (the reference 200 k-connection file and one ten
 * times larger), wall time and peak RSS of each child measured by GNU time.
 *
 *   npm run bench
 *   npm run bench -- --skip-large
 *   npm run bench -- --sizes 1,10 --only synsent,tcpdump --repeat 3
 *   npm run bench -- --file some.pcap
 *
 * Files are generated once and cached in bench/out/ (gitignored).
 * Rows are one array (ROWS below): add a tool or a synsent flag there.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { generate, numberArg, parseArgs, summaryLine, truthPath, type GenerateTruth } from "./generate.js";
import { checkAgainstTruth, ndjsonSummary, renderChecks, type TruthCheck } from "./verify.js";

/** What rows may look at to build their command line. */
export interface BenchContext {
  root: string;
  /** node dist/src/cli/main.js, or null when synsent is not built. */
  synsentMain: string | null;
  /** `synsent --help` and `synsent analyze --help` text ("" if not built), to enable rows by flag. */
  synsentHelp: string;
  has(binary: string): boolean;
}

export interface BenchRow {
  /** For --only (prefix match: "synsent" selects every synsent row). */
  id: string;
  label: string;
  /** The command, or a string saying why the row cannot run here. */
  command(file: string, ctx: BenchContext): string[] | string;
  /** Rows whose time the others are compared with (the first available is the baseline). */
  baseline?: boolean;
  /**
   * Peak RSS per byte of capture seen for this tool (tshark keeps every frame's
   * state, tcptrace every connection's): rows that would not fit in available
   * memory are skipped with a note unless --force.
   */
  rssPerFileByte?: number;
  /** The row reads "-" (stdin) too: it also runs in the --flood section, fed by bench/synflood. */
  stdin?: boolean;
}

const NOT_BUILT = "synsent not built (dist/src/cli/main.js missing: npm run build)";

function synsent(ctx: BenchContext, ...args: string[]): string[] | string {
  return ctx.synsentMain === null ? NOT_BUILT : [process.execPath, ctx.synsentMain, ...args];
}

function tool(ctx: BenchContext, bin: string, args: string[]): string[] | string {
  return ctx.has(bin) ? [bin, ...args] : `${bin} not installed`;
}

/** One of the bench's own scripts (dist/bench/NAME) run on the file. */
function benchScript(ctx: BenchContext, name: string, file: string): string[] | string {
  const script = path.join(ctx.root, "dist", "bench", name);
  return fs.existsSync(script) ? [process.execPath, script, file] : `dist/bench/${name} not present`;
}

/** The rows of the table, in order. */
export const ROWS: BenchRow[] = [
  {
    id: "synsent",
    stdin: true,
    label: "synsent --format json",
    baseline: true,
    command: (f, ctx) => synsent(ctx, "analyze", f, "--format", "json", "-o", "/dev/null"),
  },
  {
    id: "synsent-ndjson",
    stdin: true,
    label: "synsent --format ndjson",
    command: (f, ctx) => synsent(ctx, "analyze", f, "--format", "ndjson", "-o", "/dev/null"),
  },
  {
    id: "synsent-1thread",
    stdin: true,
    label: "synsent (single thread)",
    command: (f, ctx) =>
      ctx.synsentMain !== null && !ctx.synsentHelp.includes("--threads")
        ? "synsent has no --threads flag yet"
        : synsent(ctx, "analyze", f, "--threads", "1", "--format", "json", "-o", "/dev/null"),
  },
  {
    id: "synsent-js",
    label: "synsent, JavaScript flow tracker",
    // The same report without the compiled core (native/flows): what a machine without a C++ compiler gets.
    command: (f, ctx) => {
      const cmd = synsent(ctx, "analyze", f, "--format", "json", "-o", "/dev/null");
      return typeof cmd === "string" ? cmd : ["env", "SYNSENT_TRACKER=js", ...cmd];
    },
  },
  {
    id: "synsent-read-decode",
    label: "synsent read+decode only",
    command: (f, ctx) => benchScript(ctx, "read-decode.js", f),
  },
  {
    id: "pcap-parser",
    label: "pcap-parser (iterating packets only)",
    // pcap only: it cannot read pcapng or gzip.
    command: (f, ctx) =>
      fs.existsSync(path.join(ctx.root, "node_modules", "pcap-parser")) ? benchScript(ctx, "pcap-parser-iterate.js", f) : "pcap-parser not installed (npm install)",
  },
  {
    id: "tcpdump",
    stdin: true,
    label: "tcpdump SYN/RST filter",
    command: (f, ctx) => tool(ctx, "tcpdump", ["-r", f, "-w", "/dev/null", "tcp[tcpflags] & (tcp-syn|tcp-rst) != 0"]),
  },
  {
    id: "tshark-conv",
    label: "tshark -z conv,tcp",
    command: (f, ctx) => tool(ctx, "tshark", ["-r", f, "-q", "-z", "conv,tcp"]),
    rssPerFileByte: 11,
  },
  {
    id: "tshark-retrans",
    label: "tshark -Y tcp.analysis.retransmission",
    command: (f, ctx) => tool(ctx, "tshark", ["-r", f, "-Y", "tcp.analysis.retransmission"]),
    rssPerFileByte: 11,
  },
  {
    id: "tcptrace",
    label: "tcptrace -n",
    command: (f, ctx) => tool(ctx, "tcptrace", ["-n", f]),
    rssPerFileByte: 15,
  },
];

export interface Measurement {
  row: string;
  label: string;
  file: string;
  /** Seconds (median of repeats); null when the row did not run or failed. */
  wallS: number | null;
  /** Peak resident set of the child, bytes. */
  peakRssBytes: number | null;
  /** Why there is no number. */
  note: string | null;
}

const TIME_BIN = "/usr/bin/time";

/** Runs argv under GNU time; wall time from our clock, peak RSS from time's %M. */
async function measureOnce(argv: string[], timeoutS: number): Promise<{ wallS: number; rss: number | null; error: string | null }> {
  const useTime = fs.existsSync(TIME_BIN);
  const tmp = path.join(os.tmpdir(), `synsent-bench-${process.pid}-${Date.now()}.time`);
  const full = useTime ? [TIME_BIN, "-f", "%e %M", "-o", tmp, "--", ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const child = spawn(full[0], full.slice(1), { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderrTail = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => {
    stderrTail = (stderrTail + d).slice(-4000);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // The whole process group: GNU time and the tool under it.
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }, timeoutS * 1000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on("close", (c, s) => resolve([c, s]));
    child.on("error", () => resolve([127, null]));
  });
  clearTimeout(timer);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  let rss: number | null = null;
  if (useTime && fs.existsSync(tmp)) {
    const lines = fs.readFileSync(tmp, "utf8").trim().split("\n");
    const m = /^([0-9.]+) ([0-9]+)$/.exec(lines[lines.length - 1] ?? "");
    if (m) rss = Number(m[2]) * 1024;
    fs.rmSync(tmp, { force: true });
  }
  if (timedOut) return { wallS, rss, error: `timeout after ${timeoutS} s` };
  if (code !== 0) {
    const last = stderrTail
      .split("\n")
      .map((l) => l.trim())
      // Skip noise so a Node crash shows its "Error: ..." line, not "Node.js v20".
      .filter((l) => l !== "" && !/^(Running as user|Command exited with non-zero status|Node\.js v|at |\^|\}|code: |url: )/.test(l))
      .pop();
    return { wallS, rss, error: `exit ${code ?? signal}${last ? `: ${last.slice(0, 160)}` : ""}` };
  }
  return { wallS, rss, error: null };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export async function measure(row: BenchRow, file: string, ctx: BenchContext, repeat: number, timeoutS: number, force = false): Promise<Measurement> {
  const cmd = row.command(file, ctx);
  const base = { row: row.id, label: row.label, file };
  if (typeof cmd === "string") return { ...base, wallS: null, peakRssBytes: null, note: cmd };
  if (!force && row.rssPerFileByte !== undefined) {
    const need = row.rssPerFileByte * fs.statSync(file).size;
    const avail = os.freemem();
    if (need > avail * 0.8) {
      return { ...base, wallS: null, peakRssBytes: null, note: `skipped: needs ~${fmtBytes(need)}, ${fmtBytes(avail)} available (--force runs it)` };
    }
  }
  const walls: number[] = [];
  const rsses: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const r = await measureOnce(cmd, timeoutS);
    if (r.error !== null) return { ...base, wallS: null, peakRssBytes: r.rss, note: r.error };
    walls.push(r.wallS);
    if (r.rss !== null) rsses.push(r.rss);
  }
  return { ...base, wallS: median(walls), peakRssBytes: rsses.length > 0 ? Math.max(...rsses) : null, note: null };
}

/**
 * The same row reading stdin from `synflood | ...`. GNU time then measures sh,
 * whose children's max RSS is the larger of the generator (~65 MB) and the tool.
 */
function floodRow(row: BenchRow, floodJs: string, count: number, scan: boolean): BenchRow {
  return {
    ...row,
    command: (f, ctx) => {
      const cmd = row.command(f, ctx);
      if (typeof cmd === "string") return cmd;
      return ["sh", "-c", `"${process.execPath}" "${floodJs}" --count ${count}${scan ? " --scan" : ""} 2>/dev/null | "$0" "$@"`, ...cmd];
    },
  };
}

function fmtTime(s: number | null): string {
  if (s === null) return "—";
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

function fmtBytes(b: number | null): string {
  if (b === null) return "—";
  return b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${(b / 1e6).toFixed(0)} MB`;
}

function fmtRate(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(0)} k` : x.toFixed(0);
}

/** The markdown table for one file. */
export function renderTable(results: Measurement[], packets: number | null, bytes: number): string {
  const baseline = results.find((r) => ROWS.find((row) => row.id === r.row)?.baseline && r.wallS !== null);
  const lines = ["| tool | wall time | peak memory | packets/s | MB/s | time vs synsent |", "| --- | ---: | ---: | ---: | ---: | ---: |"];
  for (const r of results) {
    if (r.wallS === null) {
      lines.push(`| ${r.label} | ${r.note ?? "—"} | ${fmtBytes(r.peakRssBytes)} | — | — | — |`);
      continue;
    }
    const pps = packets !== null ? fmtRate(packets / r.wallS) : "—";
    const mbs = (bytes / 1e6 / r.wallS).toFixed(0);
    const ratio = baseline?.wallS ? `${(r.wallS / baseline.wallS).toFixed(2)}x` : "—";
    lines.push(`| ${r.label} | ${fmtTime(r.wallS)} | ${fmtBytes(r.peakRssBytes)} | ${pps} | ${mbs} | ${ratio} |`);
  }
  return lines.join("\n");
}

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "synsent") return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}

function makeContext(root: string): BenchContext {
  const main = path.join(root, "dist", "src", "cli", "main.js");
  const built = fs.existsSync(main);
  let help = "";
  if (built) {
    for (const args of [["--help"], ["analyze", "--help"]]) {
      const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: 20_000 });
      help += `${r.stdout ?? ""}\n${r.stderr ?? ""}\n`;
    }
  }
  const cache = new Map<string, boolean>();
  return {
    root,
    synsentMain: built ? main : null,
    synsentHelp: help,
    has(bin: string): boolean {
      let v = cache.get(bin);
      if (v === undefined) {
        v = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" }).status === 0;
        cache.set(bin, v);
      }
      return v;
    },
  };
}

/** The generator's default arrival rate (connections per second): ~4.8 k connections open at once. */
export const DEFAULT_RATE = 700;

/**
 * Generates `conns` connections arriving at `rate` per second into dir (or
 * reuses the cached file when its truth matches).
 */
export function ensureFile(
  dir: string,
  conns: number,
  seed: number,
  rate = DEFAULT_RATE,
): { file: string; truth: GenerateTruth; generated: boolean } {
  const size = conns >= 1000 && conns % 1000 === 0 ? `${conns / 1000}k` : `${conns}`;
  const file = path.join(dir, `bench-${size}-seed${seed}${rate === DEFAULT_RATE ? "" : `-rate${rate}`}.pcap`);
  const tp = truthPath(file);
  if (fs.existsSync(file) && fs.existsSync(tp)) {
    try {
      const truth = JSON.parse(fs.readFileSync(tp, "utf8")) as GenerateTruth;
      if (
        truth.version === 1 &&
        truth.options.connections === conns &&
        truth.options.seed === seed &&
        truth.options.rate === rate &&
        fs.statSync(file).size === truth.bytes
      ) {
        return { file, truth, generated: false };
      }
    } catch {
      /* regenerate */
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  const truth = generate({ out: file, connections: conns, seed, rate });
  return { file, truth, generated: true };
}

/** Reads the file once so every tool starts with it in the page cache. */
function warmCache(file: string): void {
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(8 << 20);
  try {
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0) {
      /* read through */
    }
  } finally {
    fs.closeSync(fd);
  }
}

function toolVersions(ctx: BenchContext): string {
  const v = (cmd: string): string => {
    const r = spawnSync("sh", ["-c", `${cmd} 2>&1 | grep -v '^Running as user' | head -1`], { encoding: "utf8" });
    return (r.stdout ?? "").trim();
  };
  const parts = [`node ${process.version}`];
  if (ctx.has("tcpdump")) parts.push(v("tcpdump --version"));
  if (ctx.has("tshark")) parts.push(v("tshark --version").replace(/ \(Git.*$/, ""));
  if (ctx.has("tcptrace")) parts.push(`tcptrace ${/version ([0-9.]+)/.exec(v("tcptrace -v"))?.[1] ?? ""}`.trim());
  return parts.join(", ");
}

const USAGE = `usage: npm run bench -- [options]   (or: node dist/bench/run.js [options])
  --sizes 1,10       file sizes as multiples of the 200k-connection reference file (default 1,10; none = no files)
  --flood N          also run the stdin-capable rows on \`synflood --count N | tool -\` (e.g. 10M)
  --scan N           the same with \`synflood --count N --scan\`: a port scan, one destination per SYN
  --skip-large       same as --sizes 1
  --only a,b         rows whose id starts with a or b (ids: ${ROWS.map((r) => r.id).join(", ")})
  --file F           benchmark an existing capture instead (repeatable via commas)
  --repeat N         runs per row, median wall time reported (default 1)
  --timeout S        per-run limit in seconds (default 1800)
  --seed S           generator seed (default 1)
  --rate R           connection arrivals per second in generated files (default ${DEFAULT_RATE}; 7000 is a busy link
                     with ~33 k connections open at once)
  --out-dir D        where files and results go (default bench/out)
  --force            run tshark/tcptrace even when they look too big for available memory
For generated files (and --file captures with a .truth.json beside them), one more
synsent run checks its counts against the generator's ground truth; a difference
fails the bench (exit 1).`;

async function main(argv: string[]): Promise<number> {
  let args: Map<string, string>;
  try {
    args = parseArgs(argv, ["skip-large", "force"]);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.has("help")) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const known = new Set(["flood", "scan", "force", "sizes", "skip-large", "only", "file", "repeat", "timeout", "seed", "rate", "out-dir"]);
  for (const k of args.keys()) {
    if (!known.has(k)) {
      process.stderr.write(`bench: unknown option --${k}\n${USAGE}\n`);
      return 2;
    }
  }
  const root = findRoot();
  const outDir = path.resolve(args.get("out-dir") ?? path.join(root, "bench", "out"));
  const sizesArg = args.get("sizes") ?? "1,10";
  const sizes = args.has("skip-large") ? [1] : sizesArg === "none" ? [] : sizesArg.split(",").map(Number);
  if (sizes.some((s) => !(s > 0))) {
    process.stderr.write(`bench: --sizes takes positive numbers, got '${args.get("sizes")}'\n`);
    return 2;
  }
  const only = args.get("only")?.split(",").filter((s) => s !== "");
  const rows = only ? ROWS.filter((r) => only.some((o) => r.id.startsWith(o))) : ROWS;
  if (rows.length === 0) {
    process.stderr.write(`bench: --only matches no row (ids: ${ROWS.map((r) => r.id).join(", ")})\n`);
    return 2;
  }
  const repeat = Math.max(1, Number(args.get("repeat") ?? 1) | 0);
  const timeoutS = Number(args.get("timeout") ?? 1800);
  const seed = Number(args.get("seed") ?? 1);
  const rate = Number(args.get("rate") ?? DEFAULT_RATE);
  if (!(rate > 0)) {
    process.stderr.write(`bench: --rate takes a positive number of connections per second, got '${args.get("rate")}'\n`);
    return 2;
  }

  const ctx = makeContext(root);
  if (!fs.existsSync(TIME_BIN)) process.stderr.write(`bench: ${TIME_BIN} not found (Debian package 'time'): peak memory will show as —\n`);

  const inputs: { file: string; packets: number | null; bytes: number; note: string; flood?: number; scan?: boolean; truth?: GenerateTruth; truthChecks?: TruthCheck[] }[] = [];
  const explicit = args.get("file");
  if (explicit !== undefined) {
    for (const f of explicit.split(",")) {
      if (!fs.existsSync(f)) {
        process.stderr.write(`bench: ${f}: no such file\n`);
        return 2;
      }
      let truth: GenerateTruth | undefined;
      if (fs.existsSync(truthPath(f))) truth = JSON.parse(fs.readFileSync(truthPath(f), "utf8")) as GenerateTruth;
      inputs.push({ file: f, packets: truth?.packets ?? null, bytes: fs.statSync(f).size, note: "", truth });
    }
  } else {
    for (const s of sizes) {
      const conns = Math.round(200_000 * s);
      const { file, truth, generated } = ensureFile(outDir, conns, seed, rate);
      process.stdout.write(`${generated ? "generated" : "cached"} ${summaryLine(generated ? truth : { ...truth, generateSeconds: 0 })}\n`);
      inputs.push({
        file,
        packets: truth.packets,
        bytes: truth.bytes,
        note: `${truth.connections} connections${rate === DEFAULT_RATE ? "" : ` at ${rate}/s`}`,
        truth,
      });
    }
  }
  // --flood N / --scan N: synflood on stdin (the rows marked stdin); the file: 24-byte header, then 16 + 14 + 20 + 24 bytes per SYN (MSS option only)
  for (const kind of ["flood", "scan"] as const) {
    if (!args.has(kind)) continue;
    const n = numberArg(args, kind) ?? 0;
    if (!Number.isInteger(n) || n <= 0) {
      process.stderr.write(`bench: --${kind} takes a positive SYN count, got '${args.get(kind)}'\n`);
      return 2;
    }
    const scan = kind === "scan";
    const note = scan ? `port scan on stdin, a destination per SYN (bench/synflood --count ${n} --scan)` : `SYN flood on stdin (bench/synflood --count ${n})`;
    inputs.push({ file: "-", packets: n, bytes: 24 + 74 * n, note, flood: n, scan: scan ? true : undefined });
  }

  const header = [
    `# synsent benchmark, ${new Date().toISOString()}`,
    "",
    `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${toolVersions(ctx)}`,
    "Wall time: median of " + repeat + " run(s), file in page cache. Peak memory: max RSS of the process (GNU time %M).",
    "",
  ].join("\n");
  process.stdout.write("\n" + header + "\n");
  const sections: string[] = [header];
  const all: Measurement[] = [];
  const floodJs = path.join(root, "dist", "bench", "synflood.js");
  let failed = false;
  for (const input of inputs) {
    if (input.flood === undefined) warmCache(input.file);
    const name = input.flood === undefined ? path.basename(input.file) : input.scan ? "scan" : "synflood";
    const title = `## ${name}: ${input.packets ?? "?"} packets, ${(input.bytes / 1e6).toFixed(0)} MB${input.note ? `, ${input.note}` : ""}`;
    process.stdout.write(title + "\n");
    const results: Measurement[] = [];
    for (const row of input.flood === undefined ? rows : rows.filter((r) => r.stdin)) {
      const m =
        input.flood === undefined
          ? await measure(row, input.file, ctx, repeat, timeoutS, args.has("force"))
          : await measure(floodRow(row, floodJs, input.flood, input.scan === true), "-", ctx, repeat, timeoutS);
      process.stdout.write(`  ${row.label}: ${m.wallS !== null ? `${fmtTime(m.wallS)}, ${fmtBytes(m.peakRssBytes)}` : m.note}\n`);
      results.push(m);
    }
    const table = renderTable(results, input.packets, input.bytes);
    process.stdout.write("\n" + table + "\n\n");
    sections.push(title, "", table, "");
    // Accuracy, not only speed: one more synsent run, its counts against the generator's truth.
    if (input.truth !== undefined && input.flood === undefined && ctx.synsentMain !== null && rows.some((r) => r.id.startsWith("synsent"))) {
      let line: string;
      try {
        const summary = await ndjsonSummary([process.execPath, ctx.synsentMain, "analyze", input.file, "--format", "ndjson"], timeoutS);
        input.truthChecks = checkAgainstTruth(summary, input.truth);
        line = renderChecks(input.truthChecks, input.truth);
        if (input.truthChecks.some((c) => !c.ok)) failed = true;
      } catch (e) {
        line = `ground truth: not checked: synsent --format ndjson failed: ${(e as Error).message}`;
        failed = true;
      }
      process.stdout.write(line + "\n\n");
      sections.push(line, "");
    }
    all.push(...results);
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "results.md"), sections.join("\n") + "\n");
  const inputsOut = inputs.map(({ truth: _truth, ...rest }) => rest);
  fs.writeFileSync(path.join(outDir, "results.json"), JSON.stringify({ date: new Date().toISOString(), inputs: inputsOut, results: all }, null, 2) + "\n");
  process.stdout.write(`results: ${path.join(outDir, "results.md")} and results.json\n`);
  // A report that differs from the ground truth fails the run, however fast it was.
  return failed ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: Error) => {
      process.stderr.write(`bench: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
