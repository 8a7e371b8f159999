/**
 * Renders the HTML report in Debian's headless Chromium and checks what a
 * person would see: the verdict, the destinations table, the SVG figures, no
 * console errors and no network requests at all. Skips when /usr/bin/chromium
 * is not installed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml } from "../../src/report/html.js";
import { sampleReport } from "./fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`skipping browser tests: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!haveChromium)("HTML report in headless Chromium", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let browser: any;
  let dir: string;

  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    dir = mkdtempSync(join(tmpdir(), "synsent-html-"));
  });

  afterAll(async () => {
    if (browser) await browser.close();
    if (dir && !process.env.SYNSENT_KEEP_SCREENSHOTS) rmSync(dir, { recursive: true, force: true });
  });

  async function load(html: string, name: string, colorScheme: "light" | "dark" = "light") {
    const file = join(dir, name);
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, colorScheme });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m: { type(): string; text(): string }) => {
      if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e: Error) => errors.push(`pageerror: ${e.message}`));
    page.on("dialog", (d: { message(): string; dismiss(): Promise<void> }) => {
      errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.route("**/*", (route: { request(): { url(): string }; continue(): Promise<void>; abort(): Promise<void> }) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    return { page, errors, requests, file };
  }

  it("shows the verdict, the destinations, the figures; makes no requests and no errors", async () => {
    const report = sampleReport();
    const { page, errors, requests } = await load(renderHtml(report), "report.html");

    const verdict = page.locator("#verdict");
    expect(await verdict.isVisible()).toBe(true);
    const verdictText = await verdict.innerText();
    expect(verdictText).toContain("3 of 9 connection attempts failed");
    expect(verdictText).toContain("SYNs to 10.0.0.9:443 are silently dropped");

    const rows = page.locator("#destinations tbody tr");
    expect(await rows.count()).toBe(report.destinations.length);
    const firstCells = await page.locator("#destinations tbody tr th").allInnerTexts();
    expect(new Set(firstCells)).toEqual(new Set(["10.0.0.9:443", "10.0.0.7:5432", "[2001:db8:2::53]:853", "10.0.0.80:80"]));
    // Problems first, the healthy destination last.
    expect(firstCells[firstCells.length - 1]).toBe("10.0.0.80:80");
    expect(await page.locator("#destinations thead th").count()).toBe(7);

    // Runs in the page (no DOM types in this Node project: describe what is used).
    type Box = { cls: string | null; w: number; h: number };
    type El = { getBoundingClientRect(): { width: number; height: number }; getAttribute(n: string): string | null };
    const boxes: Box[] = await page.$$eval("svg.timeline, svg.ladder", (els: El[]) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { cls: e.getAttribute("class"), w: r.width, h: r.height };
      }),
    );
    expect(boxes.filter((b) => b.cls === "timeline")).toHaveLength(1);
    expect(boxes.filter((b) => b.cls === "ladder").length).toBe(3);
    for (const b of boxes) {
      expect(b.w).toBeGreaterThan(100);
      expect(b.h).toBeGreaterThan(50);
    }
    // The ICMP example has the third-party lifeline, labelled.
    expect(await page.locator("svg.ladder .life.third").count()).toBe(1);
    expect(await page.locator("svg.ladder", { hasText: "ICMP sender" }).count()).toBe(1);
    // Colour is never alone: the legend names each outcome.
    const legend = await page.locator("#timeline .legend").innerText();
    expect(legend).toContain("unanswered");
    expect(legend).toContain("closed");

    const shot = join(dir, "report.png");
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(statSync(shot).size).toBeGreaterThan(30_000);
    // IHDR height: a full page, not an empty viewport.
    expect(png.readUInt32BE(20)).toBeGreaterThan(1500);

    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it("renders hostile file names and strings as text, never as markup", async () => {
    const report = sampleReport({ hostile: true });
    const { page, errors, requests } = await load(renderHtml(report, { title: `<b>t</b> & "x"` }), "hostile.html", "dark");
    expect(await page.locator("script").count()).toBe(0);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("main a[href^='http']").count()).toBe(0);
    const text = await page.locator("body").innerText();
    expect(text).toContain("<script>alert(1)</script>.pcap");
    expect(text).toContain(`a&b "c" 'd'.pcapng`);
    expect(text).toContain(`<img src=x onerror=alert(1)>`);
    expect(await page.title()).toBe(`<b>t</b> & "x"`);
    await page.screenshot({ path: join(dir, "hostile-dark.png"), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
