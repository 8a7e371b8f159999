/** The command line as a user meets it: exit codes, one-line errors, outputs. */
import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CAPTURES, CLI, isOneLineError, ROOT, runCli } from "../helpers/cli.js";
import { VERSION } from "../../src/version.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-cli-"));
const normal = path.join(CAPTURES, "normal.pcap");
const refused = path.join(CAPTURES, "refused.pcap");
const drop = path.join(CAPTURES, "drop.pcap");

describe("version and usage", () => {
  it("package.json and src/version.ts agree", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.version).toBe(VERSION);
  });

  it("--version prints the version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it.each([
    [[], "a command is needed"],
    [["analyze"], "at least one capture file"],
    [["frobnicate"], "Unknown"],
    [["analyze", normal, "--format", "xml"], "format"],
    [["analyze", normal, "--bogus"], "bogus"],
    [["analyze", normal, "--fail-on", "sometimes"], 'unknown outcome "sometimes"'],
    [["analyze", normal, "--syn-timeout", "-1"], "--syn-timeout"],
    [["analyze", normal, "--syn-timeout", "abc"], "--syn-timeout"],
    [["analyze", normal, "--max-flows", "0"], "--max-flows"],
    [["analyze", "-", "-"], "only once"],
  ])("usage error %j exits 2 with one line", async (args, text) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toContain(text);
  });
});

describe("unreadable input", () => {
  it("a missing file: exit 3, names the file", async () => {
    const r = await runCli(["analyze", path.join(tmp, "nope.pcap")]);
    expect(r.code).toBe(3);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toContain("nope.pcap");
  });

  it("a text file: exit 3, says it is not a capture, names file and offset", async () => {
    const f = path.join(tmp, "notes.txt");
    fs.writeFileSync(f, "GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    const r = await runCli(["analyze", f]);
    expect(r.code).toBe(3);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toContain("notes.txt");
    expect(r.stderr).toMatch(/byte 0|offset 0/);
  });

  it("a directory: exit 3", async () => {
    const r = await runCli(["analyze", tmp]);
    expect(r.code).toBe(3);
    expect(isOneLineError(r.stderr)).toBe(true);
  });

  it("an empty file: exit 3", async () => {
    const f = path.join(tmp, "empty.pcap");
    fs.writeFileSync(f, "");
    const r = await runCli(["analyze", f]);
    expect(r.code).toBe(3);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toContain("empty.pcap");
  });
});

describe("damaged part-way", () => {
  it("analyses what came before and says where reading stopped", async () => {
    const whole = fs.readFileSync(normal);
    const f = path.join(tmp, "cut.pcap");
    fs.writeFileSync(f, whole.subarray(0, whole.length - 7));
    const r = await runCli(["analyze", f, "--format", "json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.source.stopped.length).toBe(1);
    expect(doc.source.stopped[0].file).toBe(f);
    expect(doc.source.stopped[0].record).toBeGreaterThan(1);
    expect(doc.source.packets).toBe(doc.source.stopped[0].record - 1);
    const t = await runCli(["analyze", f]);
    expect(t.stdout).toMatch(/stopped/i);
    expect(t.stdout).toContain(String(doc.source.stopped[0].record));
  });
});

describe("outputs", () => {
  it("-o writes the report to a file and nothing to stdout", async () => {
    const out = path.join(tmp, "r.json");
    const r = await runCli(["analyze", normal, "--format", "json", "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    const doc = JSON.parse(fs.readFileSync(out, "utf8"));
    expect(doc.connections.length).toBeGreaterThan(0);
    expect(fs.readdirSync(tmp).filter((n) => n.includes(".tmp"))).toEqual([]);
  });

  it("-o /dev/null is written straight through", async () => {
    const r = await runCli(["analyze", normal, "--format", "json", "-o", "/dev/null"]);
    expect(r.code).toBe(0);
    expect(fs.statSync("/dev/null").isCharacterDevice()).toBe(true);
  });

  it("-o into a missing directory: exit 4, one line naming the file", async () => {
    const r = await runCli(["analyze", normal, "-o", path.join(tmp, "no/such/dir/r.txt")]);
    expect(r.code).toBe(4);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toContain("r.txt");
  });

  it("--fail-on sets exit 1 only when such a connection exists", async () => {
    expect((await runCli(["analyze", refused, "--fail-on", "refused"])).code).toBe(1);
    expect((await runCli(["analyze", normal, "--fail-on", "refused"])).code).toBe(0);
    expect((await runCli(["analyze", refused, "--fail-on", "problems"])).code).toBe(1);
  });

  it("stdin: - reads a capture piped in", async () => {
    const r = await runCli(["analyze", "-", "--format", "json"], { input: fs.readFileSync(normal) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).source.files).toEqual(["-"]);
  });

  it("| head -1 exits quietly (EPIPE is not an error)", () => {
    const out = execFileSync("bash", ["-c", `set -o pipefail; node ${CLI} analyze ${drop} ${drop} ${normal} | head -1; echo "rc=\${PIPESTATUS[0]}"`], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(out).toMatch(/rc=0/);
  });

  it("ndjson: one line per connection, then a summary line", async () => {
    const r = await runCli(["analyze", normal, "--format", "ndjson"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.at(-1).type).toBe("summary");
    expect(lines.slice(0, -1).every((l) => l.type === "connection")).toBe(true);
  });
});

describe("colour", () => {
  it("no ANSI codes when not a TTY, and NO_COLOR is respected with --color unset", async () => {
    const r = await runCli(["analyze", drop]);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    const c = await runCli(["analyze", drop, "--color"]);
    expect(c.stdout).toMatch(/\x1b\[/);
  });
});

describe("signals", () => {
  it("SIGINT during analyze of stdin prints the report so far and exits 130", async () => {
    const child = spawn(process.execPath, [CLI, "analyze", "-", "--format", "json"], { stdio: ["pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    // Send a header and some packets, keep stdin open, then interrupt.
    child.stdin.write(fs.readFileSync(normal));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    child.stdin.destroy();
    expect(code).toBe(130);
    const doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    expect(doc.source.packets).toBeGreaterThan(0);
  });
});
