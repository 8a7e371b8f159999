/**
 * The bundled command line (scripts/bundle.mjs: dist/src/cli/main.js plus
 * bundle-*.js chunks) against tsc's unbundled entry (dist/src/cli/main.unbundled.js):
 * same output, errors and exit codes; and what start-up must not load.
 * Functional only: no timings.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAPTURES, CLI, ROOT } from "../helpers/cli.js";
import { VERSION } from "../../src/version.js";

const UNBUNDLED = path.join(path.dirname(CLI), "main.unbundled.js");
const MARK = "// synsent bundle (scripts/bundle.mjs)";

let tmp = "";
/** Preload that reports, at exit, what the run loaded (see probe()). */
let probeFile = "";

beforeAll(() => {
  if (!fs.existsSync(CLI) || !fs.existsSync(UNBUNDLED)) throw new Error(`${CLI} or ${UNBUNDLED} missing: run npm run build`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-startup-"));
  probeFile = path.join(tmp, "probe.cjs");
  fs.writeFileSync(
    probeFile,
    `"use strict";
const fs = require("node:fs");
const wt = require("node:worker_threads");
const out = process.env.SYNSENT_PROBE_OUT;
let segmenters = 0;
let segments = 0;
const Seg = Intl.Segmenter;
Intl.Segmenter = class extends Seg {
  constructor(...a) { super(...a); segmenters++; }
  segment(...a) { segments++; return super.segment(...a); }
};
const workers = [];
const W = wt.Worker;
wt.Worker = class extends W { constructor(url, o) { workers.push(String(url)); super(url, o); } };
require("node:module").syncBuiltinESMExports();
if (wt.isMainThread) process.on("exit", () => {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13));
  const cjs = Object.keys(require.cache);
  fs.writeFileSync(out, JSON.stringify({ segmenters, segments, workers, builtins, cjs }));
});
`,
  );
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(entry: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: Buffer): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.stdin.on("error", () => {});
    child.stdin.end(input);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}

/** Run both entries; they must agree on everything a user sees. */
async function same(args: string[], env: NodeJS.ProcessEnv = {}, input?: Buffer): Promise<Run> {
  const [b, u] = await Promise.all([run(CLI, args, env, input), run(UNBUNDLED, args, env, input)]);
  expect(b.stderr).toBe(u.stderr);
  expect(b.stdout).toBe(u.stdout);
  expect(b.code).toBe(u.code);
  return b;
}

interface Probe {
  segmenters: number;
  segments: number;
  workers: string[];
  builtins: string[];
  cjs: string[];
}

let probes = 0;
async function probe(entry: string, args: string[]): Promise<{ r: Run; p: Probe }> {
  const out = path.join(tmp, `probe-${probes++}.json`);
  const r = await run(entry, args, { NODE_OPTIONS: `--require ${probeFile}`, SYNSENT_PROBE_OUT: out });
  return { r, p: JSON.parse(fs.readFileSync(out, "utf8")) as Probe };
}

const cap = (name: string) => path.join(CAPTURES, name);

describe("the bundle", () => {
  it("is what bin runs", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(path.join(ROOT, pkg.bin.synsent)).toBe(CLI);
    // tsc alone (npx tsc -p .) writes its unbundled main.js over the bundle: `npm run build` bundles again.
    expect(fs.readFileSync(CLI, "utf8").split("\n").slice(0, 2), `${CLI} is not the bundle: run npm run build`).toEqual([
      "#!/usr/bin/env node",
      expect.stringContaining(MARK),
    ]);
    expect(fs.readFileSync(UNBUNDLED, "utf8")).not.toContain(MARK);
  });

  it.each(["text", "json", "ndjson", "markdown", "html"])("gives the same %s report as the unbundled entry", async (format) => {
    const r = await same(["analyze", cap("mixed.pcapng"), cap("refused.pcap"), cap("drop6.pcap"), "--format", format]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(100);
  });

  it("same for stdin, --fail-on, --anonymize and --evidence", async () => {
    const ev1 = path.join(tmp, "ev-bundle.pcap");
    const ev2 = path.join(tmp, "ev-unbundled.pcap");
    const args = (ev: string) => ["analyze", "-", "--format", "json", "--fail-on", "unanswered", "--anonymize=k", "--evidence", ev];
    const input = fs.readFileSync(cap("drop.pcap"));
    const [b, u] = await Promise.all([run(CLI, args(ev1), {}, input), run(UNBUNDLED, args(ev2), {}, input)]);
    expect(b.code).toBe(1);
    expect(u.code).toBe(1);
    expect(b.stdout).toBe(u.stdout);
    expect(b.stderr.replace(ev1, "EV")).toBe(u.stderr.replace(ev2, "EV"));
    expect(b.stderr).toMatch(/evidence: \d+ packets/);
    expect(fs.readFileSync(ev1).equals(fs.readFileSync(ev2))).toBe(true);
  });

  it("--threads 2 starts the writer thread next to main.js and writes the same report", async () => {
    const { r, p } = await probe(CLI, ["analyze", cap("busy.pcap"), "--format", "json", "--threads", "2"]);
    expect(r.code).toBe(0);
    expect(p.workers.map((u) => new URL(u).pathname)).toEqual([path.join(path.dirname(CLI), "json-worker.js")]);
    const one = await run(UNBUNDLED, ["analyze", cap("busy.pcap"), "--format", "json", "--threads", "1"]);
    expect(r.stdout).toBe(one.stdout);
  });

  it.each([
    [["--help"]],
    [["analyze", "--help"]],
    [["capture", "--help"]],
    [["interfaces", "--help"]],
    [["--version"]],
  ])("%j prints the same", async (args) => {
    const r = await same(args);
    expect(r.code).toBe(0);
    if (args[0] === "--version") expect(r.stdout.trim()).toBe(VERSION);
    else expect(r.stdout).toMatch(/synsent/);
  });

  it.each([
    [[]],
    [["analyze"]],
    [["frobnicate"]],
    [["analyz", cap("drop.pcap")]],
    [["analyze", cap("drop.pcap"), "--bogus"]],
    [["analyze", cap("drop.pcap"), "--format", "xml"]],
    [["analyze", cap("drop.pcap"), "--syn-timeout"]],
    [["analyze", path.join(CAPTURES, "no-such.pcap")]],
    [["analyze", cap("drop.pcap"), "-o", "/nonexistent-dir/x.json"]],
  ])("error %j: same message and exit code", async (args) => {
    const r = await same(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^synsent: /);
  });

  it("yargs messages in the user's language (locales shipped with the bundle)", async () => {
    const r = await same(["analyze"], { LANG: "de_DE.UTF-8" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Nicht genügend/);
    const h = await same(["--help"], { LANG: "fr_FR.UTF-8" });
    expect(h.stdout).toMatch(/Affiche l'aide/);
  });
});

describe("start-up loads only what the run needs", () => {
  it.each([
    ["bundled", CLI],
    ["unbundled", UNBUNDLED],
  ])("%s: a plain analyze loads no string-width, cli-progress, crypto or worker", async (_name, entry) => {
    const { r, p } = await probe(entry, ["analyze", cap("drop.pcap"), "--format", "json"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/"connections"/);
    // The bundle defers cliui/string-width (Intl.Segmenter) to help text; the unbundled
    // entry loads them with yargs. Neither measures text (yargs renders no help
    // for a command it runs: main.ts, skipHelpCache).
    if (entry === CLI) expect(p.segmenters).toBe(0);
    expect(p.segments).toBe(0);
    expect(p.cjs.filter((f) => f.includes("cli-progress"))).toEqual([]);
    expect(p.builtins).not.toContain("crypto");
    expect(p.workers).toEqual([]);
  });

  it("the probe sees string-width when help is printed", async () => {
    const { r, p } = await probe(CLI, ["--help"]);
    expect(r.code).toBe(0);
    expect(p.segmenters).toBeGreaterThan(0);
    expect(p.segments).toBeGreaterThan(0);
  });
});
