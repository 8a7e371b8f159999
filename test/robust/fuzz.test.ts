/**
 * Mutation fuzzing of the whole pipeline (read, decode, flows, diagnose and
 * every renderer). Every case must end in a report or an InputError whose
 * message is one line naming the file. The quick run is part of the suite;
 * `npm run fuzz` is the long run (FUZZ_CASES, FUZZ_SEED). Inputs that ever
 * failed are kept in test/robust/regressions/ and replayed here.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/analyze.js";
import { InputError } from "../../src/sources/record.js";
import { renderText } from "../../src/report/text.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { renderHtml } from "../../src/report/html.js";
import { renderJson } from "../../src/report/json.js";
import { CAPTURES, CORPUS, ROOT } from "../helpers/cli.js";
import { mutate, Rng } from "./mutate.js";

const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const REGRESSIONS = path.join(ROOT, "test/robust/regressions");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "synsent-fuzz-"));

function seeds(): string[] {
  const out: string[] = [];
  if (fs.existsSync(CAPTURES)) {
    for (const f of fs.readdirSync(CAPTURES).sort()) if (/\.(pcap|pcapng|gz)$/.test(f)) out.push(path.join(CAPTURES, f));
  }
  if (fs.existsSync(CORPUS)) {
    // Small, TCP-rich and pcapng files of the corpus make the best seeds.
    const files = fs.readdirSync(CORPUS).sort();
    for (const f of files) {
      const p = path.join(CORPUS, f);
      const size = fs.statSync(p).size;
      if (size > 0 && size < 64 * 1024) out.push(p);
    }
  }
  return out;
}

/** Run one input through everything; return a failure description or null. */
async function check(file: string): Promise<string | null> {
  try {
    const report = await analyze(file, { collectConnections: true, maxFlows: 5000 });
    renderText(report, { color: true });
    renderMarkdown(report);
    renderHtml(report);
    JSON.parse(renderJson(report));
    return null;
  } catch (e) {
    if (e instanceof InputError) {
      if (e.message.includes("\n")) return `InputError with several lines: ${JSON.stringify(e.message)}`;
      if (!e.message.includes(path.basename(file))) return `InputError does not name the file: ${e.message}`;
      return null;
    }
    return `${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack ?? ""}`;
  }
}

describe("fuzz", () => {
  it("kept regression inputs still end in a report or a one-line error", async () => {
    const files = fs.existsSync(REGRESSIONS) ? fs.readdirSync(REGRESSIONS).filter((f) => !f.endsWith(".md")) : [];
    for (const f of files) expect(await check(path.join(REGRESSIONS, f)), f).toBeNull();
  });

  it(`${CASES} mutated captures (seed ${SEED}) end in a report or a one-line error`, async () => {
    const inputs = seeds();
    if (inputs.length === 0) return expect.fail("no seed captures found (captures/ or ../shared/corpus/tcpdump)");
    const originals = inputs.map((p) => fs.readFileSync(p));
    const rng = new Rng(SEED);
    const failures: string[] = [];
    const heapStart = process.memoryUsage().heapUsed;
    let maxMs = 0;
    for (let i = 0; i < CASES; i++) {
      const k = rng.int(originals.length);
      const { bytes, applied } = mutate(originals[k], rng);
      const name = `case-${SEED}-${i}-${path.basename(inputs[k])}`;
      const file = path.join(tmp, name);
      fs.writeFileSync(file, bytes);
      const t0 = performance.now();
      const problem = await check(file);
      const ms = performance.now() - t0;
      maxMs = Math.max(maxMs, ms);
      // A generous bound that only a hang or a runaway loop can break.
      const slow = ms > 5000 ? `took ${ms.toFixed(0)} ms` : null;
      if (problem || slow) {
        failures.push(`${name} [${applied.join(" ")}]: ${problem ?? slow}`);
        fs.mkdirSync(REGRESSIONS, { recursive: true });
        fs.copyFileSync(file, path.join(REGRESSIONS, name));
      }
      fs.unlinkSync(file);
    }
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapStart) / 1e6;
    expect(failures).toEqual([]);
    // Bounded memory: thousands of cases must not accumulate state.
    expect(heapGrowthMb).toBeLessThan(200);
    expect(maxMs).toBeLessThan(5000);
  }, 1_800_000);
});
