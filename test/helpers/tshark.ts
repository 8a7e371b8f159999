/**
 * tshark for the differential tests: its version (null when not installed)
 * and one cached run per file and argument list. Results are kept under
 * node_modules/.cache/synsent-tshark/, keyed by the file's content, tshark's
 * version and the arguments, so reruns cost nothing and a change of fields or
 * tshark refills the cache.
 */
import { createHash } from "node:crypto";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./cli.js";

const CACHE_DIR = path.join(ROOT, "node_modules/.cache/synsent-tshark");

let versionCache: string | null | undefined;

/** tshark's version line, or null when tshark is not installed. */
export function tsharkVersion(): string | null {
  if (versionCache !== undefined) return versionCache;
  try {
    const out = execFileSync("tshark", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    versionCache = out.split("\n")[0]!.trim();
  } catch {
    versionCache = null;
  }
  return versionCache;
}

export interface TsharkRun {
  stdout: string;
  stderr: string;
  /** Exit status; -1 when tshark was killed or could not run. */
  code: number;
}

/** `tshark -n -r FILE ...args`, cached. */
export async function tsharkCached(file: string, args: string[]): Promise<TsharkRun> {
  const version = tsharkVersion();
  if (version === null) throw new Error("tshark not installed");
  const key = createHash("sha256")
    .update(fs.readFileSync(file))
    .update("\0" + version + "\0" + args.join("\0"))
    .digest("hex");
  const cacheFile = path.join(CACHE_DIR, `${key}.json`);
  if (fs.existsSync(cacheFile)) {
    try {
      return JSON.parse(fs.readFileSync(cacheFile, "utf8")) as TsharkRun;
    } catch {
      // a torn cache file: run again
    }
  }
  const run = await new Promise<TsharkRun>((resolve) => {
    execFile("tshark", ["-n", "-r", file, ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  fs.writeFileSync(cacheFile, JSON.stringify(run));
  return run;
}
