/**
 * Capturing without root, through file capabilities on a copy of node:
 * `setcap cap_net_raw,cap_net_admin=eip` and an unprivileged user (nobody)
 * capture and report; without the capability the same command fails with
 * the one-line permission message naming the setcap command; cap_net_raw
 * alone is enough (synsent needs nothing more). Needs root (to set up),
 * setcap (libcap2-bin) and setpriv (util-linux).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, isOneLineError, ROOT } from "../helpers/cli.js";
import { liveSkipReason, rmrf, sh, start, waitForStderr } from "../live/helpers.js";
import { makeSsrTopology, refusedConnections, type SsrTopology } from "./ns.js";

const skip = liveSkipReason(["bash", "setcap", "getcap", "setpriv"]) ?? (fs.existsSync(CLI) ? null : `${CLI} missing: npm run build first`);
if (skip) console.warn(`test/robust/privileges: skipped: ${skip}`);

const AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"];

let dir = "";
let cli = CLI;
let t: SsrTopology | null = null;

/** Can nobody read `file` (and search every directory above it)? */
function nobodyCanRead(file: string): boolean {
  try {
    execFileSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), "test", "-r", file], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  if (skip) return;
  // Not under a nosuid mount (file capabilities are ignored there).
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-ssr-priv-"));
  fs.chmodSync(dir, 0o755);
  const node = fs.realpathSync(process.execPath);
  for (const name of ["node", "node-raw", "node-nocap"]) fs.copyFileSync(node, path.join(dir, name));
  for (const name of ["node", "node-raw", "node-nocap"]) fs.chmodSync(path.join(dir, name), 0o755);
  sh(`setcap cap_net_raw,cap_net_admin=eip ${dir}/node`);
  sh(`setcap cap_net_raw=eip ${dir}/node-raw`);
  // The checkout must be readable by nobody; if it is not, run a copy.
  if (!nobodyCanRead(CLI) || !nobodyCanRead(path.join(ROOT, "native/build/Release/synsent_pcap.node"))) {
    const copy = path.join(dir, "synsent");
    fs.mkdirSync(copy);
    for (const p of ["package.json", "dist", "node_modules", "native/build/Release"]) {
      fs.cpSync(path.join(ROOT, p), path.join(copy, p), { recursive: true });
    }
    sh(`chmod -R a+rX ${copy}`);
    cli = path.join(copy, "dist/src/cli/main.js");
  }
  t = makeSsrTopology("p", 41);
}, 60_000);
afterAll(() => {
  t?.cleanup();
  if (dir) rmrf(dir);
});

async function captureAs(nodeBin: string, extra: string[] = []) {
  const p = start("ip", ["netns", "exec", t!.client, ...AS_NOBODY, nodeBin, cli, "capture", t!.cIf, "--duration", "2.5", "-F", "json", ...extra], 20_000);
  return p;
}

describe.skipIf(skip !== null)("capture without root, through file capabilities", () => {
  it("setcap leaves the capabilities on the copy only", () => {
    expect(sh(`getcap ${dir}/node`)).toMatch(/cap_net_admin,cap_net_raw=eip/);
    expect(sh(`getcap ${dir}/node-nocap`).trim()).toBe("");
    expect(sh(`ip netns exec ${t!.client} ${AS_NOBODY.join(" ")} id -u`).trim()).toBe("65534");
  });

  for (const [bin, caps] of [
    ["node", "cap_net_raw,cap_net_admin"],
    ["node-raw", "cap_net_raw alone"],
  ] as const) {
    it(`as nobody with ${caps}: captures and reports`, async () => {
      const p = await captureAs(path.join(dir, bin));
      await waitForStderr(p.child, /capturing on/, 10_000);
      refusedConnections(t!, 3, 0.1);
      expect(await p.done, p.stderr()).toBe(0);
      const rep = JSON.parse(p.stdout());
      expect(rep.source.interface).toBe(t!.cIf);
      expect(rep.connections.filter((c: { outcome: string }) => c.outcome === "refused")).toHaveLength(3);
      expect(p.stderr()).not.toMatch(/permission/);
    });
  }

  it("as nobody without the capability: one line naming the setcap command, exit 3", async () => {
    const p = await captureAs(path.join(dir, "node-nocap"));
    expect(await p.done).toBe(3);
    expect(p.stdout()).toBe("");
    expect(isOneLineError(p.stderr())).toBe(true);
    expect(p.stderr().trim()).toBe(
      `synsent: permission denied capturing on ${t!.cIf}: run as root, or allow node to capture with: sudo setcap cap_net_raw,cap_net_admin=eip ${dir}/node-nocap`,
    );
  });
});
