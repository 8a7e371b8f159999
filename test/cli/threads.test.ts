/**
 * `--threads 2` (json/ndjson written on a worker thread) must write exactly
 * what `--threads 1` writes.
 */
import { describe, expect, test } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { CLI } from "../helpers/cli.js";
import { synFlood } from "../../bench/synflood.js";

const files = ["captures/busy.pcap", "captures/mixed.pcapng", "captures/reject6-port-unreachable.pcap"];

function run(args: string[], input?: Buffer): string {
  return execFileSync(process.execPath, [CLI, "analyze", ...args], { input, maxBuffer: 1 << 28 }).toString("utf8");
}

describe("--threads", () => {
  test.each(["json", "ndjson", "text", "markdown"])("%s: --threads 2 writes the same bytes as --threads 1", (format) => {
    const one = run([...files, "--format", format, "--threads", "1"]);
    const two = run([...files, "--format", format, "--threads", "2"]);
    expect(one.length).toBeGreaterThan(1000);
    expect(two).toBe(one);
  });

  test("a million-style burst: a flood, then silence, then one packet that makes every flow due at once: same bytes", async () => {
    const capture = async (count: number, startS: number): Promise<Buffer> => {
      const parts: Buffer[] = [];
      await synFlood({ count, startS, rate: 1_000_000, retryShare: 0 }, (chunk, len) => void parts.push(Buffer.from(chunk.subarray(0, len))), () => null);
      return Buffer.concat(parts);
    };
    const flood = await capture(60_000, 1_704_067_200);
    const late = await capture(1, 1_704_067_300);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-threads-"));
    try {
      const file = path.join(dir, "burst.pcap");
      fs.writeFileSync(file, Buffer.concat([flood, late.subarray(24)])); // one pcap: the second file's records only
      const one = run([file, "--format", "ndjson", "--threads", "1"]);
      const two = run([file, "--format", "ndjson", "--threads", "2"]);
      const lines = one.trimEnd().split("\n");
      // 60 001 connections, then the summary line(s)
      expect(lines.filter((l) => l.includes('"outcome":"unanswered"')).length).toBe(60_000);
      expect(two).toBe(one);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("same bytes with --anonymize and -o FILE, from stdin", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-threads-"));
    try {
      const input = fs.readFileSync("captures/busy.pcap");
      const a = path.join(dir, "a.json");
      const b = path.join(dir, "b.json");
      run(["-", "--format", "json", "--anonymize=k", "--threads", "1", "-o", a], input);
      run(["-", "--format", "json", "--anonymize=k", "--threads", "2", "-o", b], input);
      const one = fs.readFileSync(a, "utf8");
      expect(JSON.parse(one).connections.length).toBeGreaterThan(10);
      expect(fs.readFileSync(b, "utf8")).toBe(one);
      // leftover temporary files would mean the writer thread did not rename its output into place
      expect(fs.readdirSync(dir).sort()).toEqual(["a.json", "b.json"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("text with --fail-on and --evidence on two threads: same exit code, report and evidence as on one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-threads-"));
    try {
      const res = (threads: string) => {
        const ev = path.join(dir, `ev${threads}.pcap`);
        try {
          execFileSync(process.execPath, [CLI, "analyze", ...files, "--threads", threads, "--fail-on", "unanswered,refused", "--evidence", ev], {
            stdio: "pipe",
          });
          return { code: 0, out: "", ev: fs.readFileSync(ev) };
        } catch (e) {
          const err = e as { status: number; stdout: Buffer };
          return { code: err.status, out: err.stdout.toString("utf8"), ev: fs.readFileSync(ev) };
        }
      };
      const one = res("1");
      const two = res("2");
      expect(one.code).toBe(1);
      expect(two.code).toBe(1);
      expect(two.out).toBe(one.out);
      expect(one.ev.length).toBeGreaterThan(24);
      expect(two.ev.equals(one.ev)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--threads other than 1 or 2 is a usage error", () => {
    expect(() => execFileSync(process.execPath, [CLI, "analyze", files[0]!, "--threads", "3"], { stdio: "pipe" })).toThrow(/--threads must be 1 or 2/);
  });
});

import { likelyWriterThread, WORKER_MIN_BYTES } from "../../src/cli/writer-thread.js";

describe("the writer thread started before the command line loads", () => {
  test("is started for analyze with a big capture file, a pipe or --threads 2, not otherwise", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-early-"));
    try {
      const big = path.join(dir, "big.pcap");
      fs.writeFileSync(big, Buffer.alloc(WORKER_MIN_BYTES));
      const small = "captures/busy.pcap";
      expect(likelyWriterThread(["analyze", big])).toBe(true);
      expect(likelyWriterThread(["analyze", small, big, "--format", "json"])).toBe(true);
      expect(likelyWriterThread(["analyze", small, "--threads", "2"])).toBe(true);
      expect(likelyWriterThread(["analyze", small, "--threads=2"])).toBe(true);
      expect(likelyWriterThread(["analyze", small])).toBe(false);
      expect(likelyWriterThread(["analyze", big, "--threads", "1"])).toBe(false);
      expect(likelyWriterThread(["analyze", big, "--threads=1"])).toBe(false);
      // stdin: a pipe or socket (length unknown) or a big redirected file, not a small file or a terminal
      const fifo = path.join(dir, "fifo");
      execFileSync("mkfifo", [fifo]);
      const statOf = (p: string) => () => fs.statSync(p);
      expect(likelyWriterThread(["analyze", "-"], statOf(fifo))).toBe(true);
      expect(likelyWriterThread(["analyze", "-"], statOf(big))).toBe(true);
      expect(likelyWriterThread(["analyze", "-"], statOf(small))).toBe(false);
      expect(likelyWriterThread(["analyze", "-"], statOf("/dev/null"))).toBe(false);
      expect(likelyWriterThread(["analyze", "-", "--threads", "1"], statOf(fifo))).toBe(false);
      expect(likelyWriterThread(["analyze", small, "-o", "-"], statOf(fifo))).toBe(false); // "-" there is the output
      expect(likelyWriterThread(["analyze", fifo])).toBe(true); // <(zcat f.gz)
      expect(likelyWriterThread(["analyze", dir])).toBe(false); // a directory
      expect(likelyWriterThread(["capture", big])).toBe(false);
      expect(likelyWriterThread([])).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("started but not used (html, one thread), it does not hold the process or change the report", () => {
    // --threads 2 starts it early; html never uses a second thread.
    const two = execFileSync(process.execPath, [CLI, "analyze", files[0]!, "--format", "html", "--threads", "2"], { timeout: 20_000 });
    const one = execFileSync(process.execPath, [CLI, "analyze", files[0]!, "--format", "html", "--threads", "1"], { timeout: 20_000 });
    expect(two.length).toBeGreaterThan(1000);
    expect(two.equals(one)).toBe(true);
  });
});
