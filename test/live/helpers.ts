/**
 * Shared by the live-capture tests: skip conditions and network namespaces
 * (prefix ssl-, addresses 10.79.x.x / fd79::) that are always removed.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { bindingError } from "../../src/sources/live.js";

export const IS_ROOT = typeof process.getuid === "function" && process.getuid() === 0;

function have(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Why live tests cannot run here, or null. Printed by the skipped suites. */
export function liveSkipReason(tools: string[] = []): string | null {
  const be = bindingError();
  if (be) return `binding not built: ${be}`;
  if (!IS_ROOT) return "live capture tests need root (network namespaces and raw sockets)";
  for (const t of tools) if (!have(t)) return `${t} is not installed`;
  return null;
}

export function sh(cmd: string, timeoutMs = 10_000): string {
  return execFileSync("sh", ["-c", cmd], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] });
}

export function shQuiet(cmd: string): void {
  try {
    execFileSync("sh", ["-c", cmd], { stdio: "ignore", timeout: 10_000 });
  } catch {
    // cleanup: already gone
  }
}

export interface Topology {
  client: string; // netns
  server: string; // netns
  cIf: string; // veth in client ns
  sIf: string; // veth in server ns
  c4: string;
  s4: string;
  c6: string;
  s6: string;
  cleanup(): void;
}

export interface TopologyOptions {
  /** Name prefix of namespaces and veths (default "ssl"). */
  prefix?: string;
  /** First two octets of the IPv4 addresses (default "10.79"). */
  v4Net?: string;
  /** IPv6 addresses (fd79::) and neighbours; false disables IPv6 so an idle link is really silent (default true). */
  ipv6?: boolean;
}

/**
 * Two namespaces joined by a veth pair. `tag` keeps parallel test files apart
 * (names stay within IFNAMSIZ). Static neighbours avoid the ~1 s neighbour
 * discovery wait in a fresh namespace.
 */
export function makeTopology(tag: string, octet: number, opts: TopologyOptions = {}): Topology {
  const prefix = opts.prefix ?? "ssl";
  const v4Net = opts.v4Net ?? "10.79";
  const ipv6 = opts.ipv6 ?? true;
  const t: Topology = {
    client: `${prefix}-c${tag}`,
    server: `${prefix}-s${tag}`,
    cIf: `${prefix}-v${tag}0`,
    sIf: `${prefix}-v${tag}1`,
    c4: `${v4Net}.${octet}.1`,
    s4: `${v4Net}.${octet}.2`,
    c6: ipv6 ? `fd79::${octet}:1` : "",
    s6: ipv6 ? `fd79::${octet}:2` : "",
    cleanup() {
      shQuiet(`ip netns del ${t.client}`);
      shQuiet(`ip netns del ${t.server}`);
      shQuiet(`ip link del ${t.cIf}`);
    },
  };
  t.cleanup();
  try {
    const c = `ip netns exec ${t.client}`;
    const s = `ip netns exec ${t.server}`;
    sh(`ip netns add ${t.client} && ip netns add ${t.server}`);
    sh(`ip link add ${t.cIf} type veth peer name ${t.sIf}`);
    sh(`ip link set ${t.cIf} netns ${t.client} && ip link set ${t.sIf} netns ${t.server}`);
    if (!ipv6) {
      for (const [ns, dev] of [
        [c, t.cIf],
        [s, t.sIf],
      ]) {
        sh(`${ns} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.${dev}.disable_ipv6=1`);
      }
    }
    sh(`${c} ip link set lo up && ${s} ip link set lo up`);
    sh(`${c} ip addr add ${t.c4}/24 dev ${t.cIf} && ${s} ip addr add ${t.s4}/24 dev ${t.sIf}`);
    if (ipv6) sh(`${c} ip -6 addr add ${t.c6}/112 dev ${t.cIf} nodad && ${s} ip -6 addr add ${t.s6}/112 dev ${t.sIf} nodad`);
    sh(`${c} ip link set ${t.cIf} up && ${s} ip link set ${t.sIf} up`);
    const cMac = sh(`${c} cat /sys/class/net/${t.cIf}/address`).trim();
    const sMac = sh(`${s} cat /sys/class/net/${t.sIf}/address`).trim();
    sh(`${c} ip neigh replace ${t.s4} lladdr ${sMac} dev ${t.cIf} nud permanent`);
    sh(`${s} ip neigh replace ${t.c4} lladdr ${cMac} dev ${t.sIf} nud permanent`);
    if (ipv6) {
      sh(`${c} ip -6 neigh replace ${t.s6} lladdr ${sMac} dev ${t.cIf} nud permanent`);
      sh(`${s} ip -6 neigh replace ${t.c6} lladdr ${cMac} dev ${t.sIf} nud permanent`);
    }
  } catch (e) {
    t.cleanup();
    throw e;
  }
  return t;
}

/** Resolves when `re` appears on the child's stderr (or rejects after `ms`). */
export function waitForStderr(child: ChildProcess, re: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} on stderr; got: ${buf}`)), ms);
    child.stderr!.on("data", (d: Buffer) => {
      buf += d.toString();
      if (re.test(buf)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", () => {
      clearTimeout(timer);
      if (!re.test(buf)) reject(new Error(`exited before ${re} on stderr: ${buf}`));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<number | null>;
}

/** Spawn with captured output and a hard kill after `killMs`. */
export function start(cmd: string, args: string[], killMs: number): Proc {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), killMs);
  const done = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  return { child, stdout: () => out, stderr: () => err, done };
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}
