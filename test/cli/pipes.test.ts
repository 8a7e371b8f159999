/**
 * Captures that arrive through a pipe (`zcat f.gz | synsent analyze -`), a
 * FIFO (`<(zcat f.gz)`), or a file redirected to stdin: the same report as
 * from the file itself, whichever way it is read (pipes default to two
 * threads, a small file to one), and the progress display on a terminal.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CLI, runCli } from "../helpers/cli.js";
import { generate } from "../../bench/generate.js";
import { elapsedText } from "../../src/cli/progress.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-pipes-"));
/** ~9 MB: over the 8 MB at which a file gets the second thread and a progress bar. */
const big = path.join(dir, "big.pcap");
const small = "captures/busy.pcap";
const hasScript = spawnSync("sh", ["-c", "command -v script"]).status === 0;

beforeAll(() => {
  generate({ out: big, connections: 15_000, seed: 21, rate: 3000, truthFile: false });
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function report(args: string[], opts: { input?: Buffer; stdinFile?: string } = {}): string {
  const fd = opts.stdinFile !== undefined ? fs.openSync(opts.stdinFile, "r") : null;
  try {
    return execFileSync(process.execPath, [CLI, "analyze", ...args], {
      input: opts.input,
      stdio: [fd ?? "pipe", "pipe", "pipe"],
      maxBuffer: 1 << 28,
      timeout: 60_000,
    }).toString("utf8");
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** analyze FIFO, with `cat file > FIFO` writing it meanwhile. */
async function viaFifo(file: string, args: string[]): Promise<string> {
  const fifo = path.join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  execFileSync("mkfifo", [fifo]);
  try {
    const writer = spawn("sh", ["-c", 'cat "$0" > "$1"', file, fifo], { stdio: "ignore" });
    const r = await runCli(["analyze", fifo, ...args], { timeoutMs: 60_000 });
    await new Promise((resolve) => (writer.exitCode !== null ? resolve(null) : writer.on("close", resolve)));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    return r.stdout;
  } finally {
    fs.rmSync(fifo, { force: true });
  }
}

/** The report with its input's name taken out (the file's path, "-" or the FIFO's path). */
function unnamed(out: string): string {
  return out.replace(/"files":\["[^"]*"\]/g, '"files":["<input>"]').replace(/^( {2}file +).*$/m, "$1<input>");
}

describe("input through a pipe, a FIFO or a redirect", () => {
  test.each(["json", "ndjson", "text"])("%s: the same report from the file, stdin as a pipe, stdin as a file and a FIFO", async (format) => {
    for (const file of [big, small]) {
      const direct = report([file, "--format", format]);
      expect(direct.length).toBeGreaterThan(500);
      const want = unnamed(direct);
      expect(want).not.toBe(direct); // the name was there, and is out
      expect(unnamed(report(["-", "--format", format], { input: fs.readFileSync(file) }))).toBe(want);
      expect(unnamed(report(["-", "--format", format], { stdinFile: file }))).toBe(want);
      expect(unnamed(await viaFifo(file, ["--format", format]))).toBe(want);
    }
  }, 120_000);

  test("a damaged capture through a pipe: what was read before the damage, and the byte offset", () => {
    const bytes = fs.readFileSync(small);
    const cut = bytes.subarray(0, bytes.length - 7);
    const fromFile = path.join(dir, "cut.pcap");
    fs.writeFileSync(fromFile, cut);
    const viaPipe = report(["-", "--format", "json"], { input: cut });
    const viaFile = report([fromFile, "--format", "json"]);
    const p = JSON.parse(viaPipe) as { source: { stopped: { file: string; record: number; offset: number; reason: string }[] }; connections: unknown[] };
    const f = JSON.parse(viaFile) as typeof p;
    expect(p.source.stopped).toEqual([{ ...f.source.stopped[0]!, file: "-" }]);
    expect(f.source.stopped[0]!.reason).toMatch(/^truncated record/);
    expect(p.connections.length).toBeGreaterThan(10);
    expect(p.connections).toEqual(f.connections);
  }, 60_000);
});

/** Runs a shell command line on a pseudo-terminal (util-linux `script`), returns what it drew. */
function onTerminal(cmd: string): string {
  return execFileSync("script", ["-qec", cmd, "/dev/null"], { timeout: 60_000, maxBuffer: 1 << 26 }).toString("utf8");
}

describe.skipIf(!hasScript)("progress on a terminal", () => {
  const node = JSON.stringify(process.execPath);
  const cli = JSON.stringify(CLI);

  test("a file: a bar with the share read of the total, packets/s, connections and time left", () => {
    const out = onTerminal(`${node} ${cli} analyze ${JSON.stringify(big)} --format json -o /dev/null`);
    expect(out).toMatch(/\d+% \| \d+\/\d+ MB \| [\d,]+ packets\/s \| [\d,]+ connections \| \S+ left/);
  }, 60_000);

  test("a pipe (length unknown): bytes read, packets/s, connections and time so far, no bar", () => {
    const out = onTerminal(`cat ${JSON.stringify(big)} | ${node} ${cli} analyze - --format json -o /dev/null`);
    expect(out).toMatch(/ \d+ MB read \| [\d,]+ packets\/s \| [\d,]+ connections \| \d+s/);
    expect(out).not.toMatch(/% \|/);
  }, 60_000);

  test("nothing for a small input, and nothing when stderr is not a terminal", () => {
    expect(onTerminal(`cat ${JSON.stringify(small)} | ${node} ${cli} analyze - --format json -o /dev/null`)).not.toMatch(/MB read|packets\/s/);
    const r = spawnSync(process.execPath, [CLI, "analyze", big, "--format", "json", "-o", "/dev/null"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
  }, 60_000);

  test("time so far reads as seconds, minutes or hours", () => {
    expect(elapsedText(0.4)).toBe("0s");
    expect(elapsedText(59.9)).toBe("59s");
    expect(elapsedText(65)).toBe("1m05s");
    expect(elapsedText(3599)).toBe("59m59s");
    expect(elapsedText(3600 + 120)).toBe("1h02m");
  });
});
