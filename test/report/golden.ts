/**
 * Golden-file assertions for report output.
 *
 *   expectGolden("text/trouble.txt", renderText(report, { color: false }));
 *
 * compares with test/report/golden/text/trouble.txt. Run with UPDATE_GOLDEN=1
 * to (re)write the files, then review the diff before committing:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/report
 *
 * A missing golden file fails (with that hint) rather than being created
 * silently, so a typo in a name cannot make a test pass.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const GOLDEN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden");

export function expectGolden(name: string, text: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return;
  }
  if (!fs.existsSync(file)) {
    throw new Error(`golden file ${path.relative(process.cwd(), file)} does not exist; create it with UPDATE_GOLDEN=1 and review it`);
  }
  const expected = fs.readFileSync(file, "utf8");
  expect(text, `output differs from ${path.relative(process.cwd(), file)} (UPDATE_GOLDEN=1 rewrites it)`).toBe(expected);
}
