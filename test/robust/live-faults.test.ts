/**
 * Live capture faults on real namespaces (ssr-*): the interface goes down or
 * is deleted mid-capture, a filter matches nothing, nothing arrives at all.
 * Each ends with the report of what was seen and one clear line on stderr.
 * Needs root and the binding; skipped with the reason otherwise.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "../helpers/cli.js";
import { liveSkipReason, rmrf, sh, start, waitForStderr } from "../live/helpers.js";
import { makeSsrTopology, refusedConnections } from "./ns.js";

const skip = liveSkipReason(["bash"]) ?? (fs.existsSync(CLI) ? null : `${CLI} missing: npm run build first`);
if (skip) console.warn(`test/robust/live-faults: skipped: ${skip}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-ssr-faults-"));
afterAll(() => rmrf(tmp));

const noStack = (s: string) => !/\n\s+at /.test(s) && !/internal error/.test(s);

describe.skipIf(skip !== null)("live capture faults", () => {
  for (const fault of ["down", "deleted"] as const) {
    it(`interface ${fault} mid-capture: report of what was seen, one line, exit 3`, async () => {
      const t = makeSsrTopology(fault === "down" ? "a" : "b", fault === "down" ? 1 : 2);
      try {
        const out = path.join(tmp, `${fault}.json`);
        const p = start(t.inClient[0], [...t.inClient.slice(1), process.execPath, CLI, "capture", t.cIf, "-F", "json", "-o", out], 20_000);
        await waitForStderr(p.child, /capturing on/, 10_000);
        refusedConnections(t, 3, 0.1);
        // Let the three connections happen and reach synsent.
        await new Promise((r) => setTimeout(r, 1200));
        sh(fault === "down" ? `ip netns exec ${t.client} ip link set ${t.cIf} down` : `ip netns exec ${t.client} ip link del ${t.cIf}`);
        const code = await p.done;
        expect(code).toBe(3);
        const err = p.stderr();
        expect(noStack(err)).toBe(true);
        const what = fault === "down" ? "went down" : "was deleted";
        const lines = err.split("\n").filter((l) => l.includes(what));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^synsent: capture stopped: interface ${t.cIf} ${what}.*the report covers the \\d+ packets captured before$`));
        const rep = JSON.parse(fs.readFileSync(out, "utf8"));
        expect(rep.source.interface).toBe(t.cIf);
        expect(rep.source.packets).toBeGreaterThanOrEqual(6); // 3 x SYN + RST at least
        expect(rep.source.stopped[0].reason).toContain(what);
        const refused = rep.connections.filter((c: { outcome: string }) => c.outcome === "refused");
        expect(refused.length).toBe(3);
      } finally {
        t.cleanup();
      }
    });
  }

  it("a filter that matches nothing: the report says 0 packets and names the filter", async () => {
    const t = makeSsrTopology("c", 3);
    try {
      const p = start(t.inClient[0], [...t.inClient.slice(1), process.execPath, CLI, "capture", t.cIf, "tcp", "port", "9999", "--duration", "2", "-F", "text"], 20_000);
      await waitForStderr(p.child, /capturing on/, 10_000);
      refusedConnections(t, 5, 0.1); // port 9: real traffic the filter must not match
      const code = await p.done;
      expect(code).toBe(0);
      const err = p.stderr();
      expect(noStack(err)).toBe(true);
      expect(err).toMatch(/^synsent: 0 packets captured \(none matched the filter "tcp port 9999"\)/m);
      const text = p.stdout();
      expect(text).toMatch(/no TCP connections found in 0 packets/);
      expect(text).toMatch(/filter\s+tcp port 9999/);
    } finally {
      t.cleanup();
    }
  });

  it("a capture that sees nothing at all: an empty report, exit 0", async () => {
    const t = makeSsrTopology("d", 4);
    try {
      const p = start(t.inClient[0], [...t.inClient.slice(1), process.execPath, CLI, "capture", t.cIf, "--duration", "1.5", "-F", "json"], 20_000);
      const code = await p.done;
      expect(code).toBe(0);
      const err = p.stderr();
      expect(noStack(err)).toBe(true);
      expect(err).toMatch(/^synsent: 0 packets captured \(the interface was silent\), 0 received by filter/m);
      const rep = JSON.parse(p.stdout());
      expect(rep.source.packets).toBe(0);
      expect(rep.connections).toEqual([]);
      expect(rep.source.stopped).toEqual([]);
    } finally {
      t.cleanup();
    }
  });
});
