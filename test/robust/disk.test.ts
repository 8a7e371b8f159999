/**
 * Files written by -o, -w and --evidence: an interrupted run never leaves a
 * half-written report under the final name; /dev/null, FIFOs and -o - are
 * written straight through; a full disk (a 64 KiB tmpfs) is one line naming
 * the file, exit 4, and no temporary file left behind.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAPTURES, CLI, isOneLineError, ROOT, runCli } from "../helpers/cli.js";
import { IS_ROOT, liveSkipReason, rmrf, sh, shQuiet, start, waitForStderr } from "../live/helpers.js";
import { makeSsrTopology } from "./ns.js";

const built = fs.existsSync(CLI) && fs.existsSync(path.join(ROOT, "dist/bench/generate.js"));
if (!built) console.warn("test/robust/disk: skipped: npm run build first");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-ssr-disk-"));
const BUSY = path.join(CAPTURES, "busy.pcap");
/** ~40 k packets, ~1 000 problem connections: evidence far beyond 64 KiB. */
const MEDIUM = path.join(tmp, "medium.pcap");
/** 300 000 connections: a JSON report of ~100 MB, long enough to kill mid-write. */
const BIG = path.join(tmp, "big.pcap");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gen = (n: number, out: string) =>
  execFileSync(process.execPath, [path.join(ROOT, "dist/bench/generate.js"), "--connections", String(n), "--no-truth", "-o", out], {
    stdio: "ignore",
    timeout: 60_000,
  });
const temps = (dir: string) => fs.readdirSync(dir).filter((f) => f.includes(".synsent-"));

beforeAll(() => {
  if (!built) return;
  gen(5000, MEDIUM);
  gen(300000, BIG);
});
afterAll(() => rmrf(tmp));

async function tempGrows(target: string, bytes: number): Promise<void> {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.synsent-`;
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    for (const f of fs.readdirSync(dir)) {
      if (!f.startsWith(prefix)) continue;
      try {
        if (fs.statSync(path.join(dir, f)).size >= bytes) return;
      } catch {
        // renamed meanwhile
      }
    }
    await sleep(10);
  }
  throw new Error(`${target}: temporary file never reached ${bytes} bytes`);
}

describe.skipIf(!built)("interrupted runs never leave a half-written report", () => {
  it("SIGKILL while writing a big JSON report to -o: the previous whole report stays", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "kill-"));
    const out = path.join(dir, "report.json");
    const prev = await runCli(["analyze", BUSY, "-F", "json", "-o", out]);
    expect(prev.code).toBe(0);
    const before = fs.readFileSync(out, "utf8");
    const child = spawn(process.execPath, [CLI, "analyze", BIG, "-F", "json", "-o", out], { stdio: "ignore" });
    const exited = new Promise((r) => child.on("close", r));
    await tempGrows(out, 4 << 20);
    child.kill("SIGKILL");
    await exited;
    expect(fs.readFileSync(out, "utf8")).toBe(before);
    JSON.parse(before);
  });

  it("SIGKILL with no previous report: the final name does not exist", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "kill-new-"));
    const out = path.join(dir, "report.json");
    const child = spawn(process.execPath, [CLI, "analyze", BIG, "-F", "json", "-o", out], { stdio: "ignore" });
    const exited = new Promise((r) => child.on("close", r));
    await tempGrows(out, 4 << 20);
    child.kill("SIGKILL");
    await exited;
    expect(fs.existsSync(out)).toBe(false);
  });

  it("SIGINT while writing: a whole report of what was read, no temporary file", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "int-"));
    const out = path.join(dir, "report.json");
    const child = spawn(process.execPath, [CLI, "analyze", BIG, "-F", "json", "-o", out], { stdio: "ignore" });
    const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    await tempGrows(out, 4 << 20);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    const rep = JSON.parse(fs.readFileSync(out, "utf8"));
    expect(rep.source.packets).toBeGreaterThan(0);
    expect(temps(dir)).toEqual([]);
  });
});

describe.skipIf(!built)("non-regular targets are written straight through", () => {
  it("-o /dev/null", async () => {
    const r = await runCli(["analyze", BUSY, "-F", "json", "-o", "/dev/null"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(fs.statSync("/dev/null").isCharacterDevice()).toBe(true);
  });

  it("-o FIFO read by a cat child, and -o - : the same report", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "fifo-"));
    const fifo = path.join(dir, "report.fifo");
    execFileSync("mkfifo", [fifo]);
    const cat = start("cat", [fifo], 20_000);
    const r = await runCli(["analyze", BUSY, "-F", "json", "-o", fifo]);
    expect(r.code).toBe(0);
    expect(await cat.done).toBe(0);
    const viaStdout = await runCli(["analyze", BUSY, "-F", "json", "-o", "-"]);
    expect(viaStdout.code).toBe(0);
    expect(viaStdout.stdout.length).toBeGreaterThan(100_000);
    expect(cat.stdout()).toBe(viaStdout.stdout);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    expect(temps(dir)).toEqual([]);
  });
});

describe.skipIf(!built || !IS_ROOT)("a full disk (64 KiB tmpfs)", () => {
  let dir = "";
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(tmp, "tiny-"));
    sh(`mount -t tmpfs -o size=64k tmpfs ${dir}`);
  });
  afterAll(() => {
    shQuiet(`umount ${dir}`);
  });

  it("analyze -o DIR/report.json: one line naming the file, exit 4, nothing left", async () => {
    const out = path.join(dir, "report.json");
    const r = await runCli(["analyze", BUSY, "-F", "json", "-o", out]);
    expect(r.code).toBe(4);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toContain(out);
    expect(r.stderr).toMatch(/no space left on device/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("analyze --evidence DIR/e.pcap: one line naming the file, exit 4, nothing left", async () => {
    const out = path.join(dir, "e.pcap");
    const r = await runCli(["analyze", MEDIUM, "-o", "/dev/null", "--evidence", out]);
    expect(r.code).toBe(4);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toContain(out);
    expect(r.stderr).toMatch(/no space left on device/i);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  const liveSkip = liveSkipReason(["bash"]);
  it.skipIf(liveSkip !== null)("capture -w DIR/x.pcap: one line naming the file, exit 4, nothing left", async () => {
    const t = makeSsrTopology("w", 21);
    try {
      const out = path.join(dir, "x.pcap");
      const p = start("ip", ["netns", "exec", t.client, process.execPath, CLI, "capture", t.cIf, "-w", out, "-F", "json", "-o", "/dev/null", "--duration", "15"], 25_000);
      await waitForStderr(p.child, /capturing on/, 10_000);
      // UDP to an address nobody has (a static neighbour entry, so no ARP and
      // no ICMP error to cut the sender short): 360 kB as 1.5 kB fragments.
      const ghost = t.s4.replace(/\.2$/, ".9");
      sh(`ip netns exec ${t.client} ip neigh replace ${ghost} lladdr 02:00:00:00:00:09 dev ${t.cIf} nud permanent`);
      sh(`ip netns exec ${t.client} bash -c 'for i in $(seq 6); do head -c 60000 /dev/zero > /dev/udp/${ghost}/9; sleep 0.1; done'`);
      expect(await p.done, p.stderr()).toBe(4);
      const errLines = p.stderr().split("\n").filter((l) => l && !/^synsent: (capturing on|\d+ packets captured)/.test(l));
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toMatch(new RegExp(`^synsent: cannot write ${out}: .*no space left on device`, "i"));
      expect(p.stderr()).not.toMatch(/\n\s+at |internal error/);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      t.cleanup();
    }
  });
});
