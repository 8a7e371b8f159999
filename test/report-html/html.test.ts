import { describe, expect, it } from "vitest";
import { renderHtml, TimelineCollector } from "../../src/report/html.js";
import { esc, timelineSvg } from "../../src/report/svg.js";
import { healthyReport, sampleReport } from "./fixtures.js";

describe("renderHtml", () => {
  it("is one self-contained document: no scripts, no external resources", () => {
    const html = renderHtml(sampleReport());
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    // The only "http" text allowed: the SVG namespace and the CSP meta's http-equiv.
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "").replace(/http-equiv=/g, "")).not.toContain("http");
    expect(html).toContain("Content-Security-Policy");
  });

  it("puts the verdict first, then the timeline, destinations, problems and capture facts", () => {
    const html = renderHtml(sampleReport());
    const at = (s: string) => html.indexOf(s);
    expect(at('id="h-verdict"')).toBeGreaterThan(0);
    expect(at('id="h-verdict"')).toBeLessThan(at('id="h-timeline"'));
    expect(at('id="h-timeline"')).toBeLessThan(at('id="h-dest"'));
    expect(at('id="h-dest"')).toBeLessThan(at('id="h-problems"'));
    expect(at('id="h-problems"')).toBeLessThan(at('id="h-capture"'));
    expect(html).toContain("3 of 9 connection attempts failed");
    expect(html).toContain("captures/office-uplink.pcapng");
    expect(html).toContain("9 not TCP");
    // One ladder per example connection of the problem findings, with frame numbers.
    expect(html.match(/<svg class="ladder"/g)).toHaveLength(3);
    expect(html).toContain(">#12<");
  });

  it("limits examples per finding to maxExamples", () => {
    const r = sampleReport();
    r.findings[0]!.exampleConnections = [0, 1, 2];
    expect(renderHtml(r, { maxExamples: 1 }).match(/<svg class="ladder"/g)).toHaveLength(3);
    expect(renderHtml(r, { maxExamples: 0 })).not.toContain('<svg class="ladder"');
  });

  it("says plainly when nothing is wrong", () => {
    const html = renderHtml(healthyReport());
    expect(html).toContain("No problems found: all 6 connection attempts to 1 destination completed normally.");
    expect(html).not.toContain('id="h-problems"');
  });

  it("escapes everything that comes from packets and file names", () => {
    const html = renderHtml(sampleReport({ hostile: true }), { title: "<x>" });
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<b>bold</b>");
    expect(html).not.toContain('<a href="http://evil');
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;.pcap");
    expect(html).toContain("a&amp;b &quot;c&quot; &#39;d&#39;.pcapng");
    expect(html).toContain("<title>&lt;x&gt;</title>");
    expect(esc(`<&>"'`)).toBe("&lt;&amp;&gt;&quot;&#39;");
  });

  it("keeps the timeline small for 200k connections (at most 600 columns, one path per outcome)", () => {
    const r = sampleReport({ many: 200_000 });
    const fig = timelineSvg(r.connections, { start: r.source.firstTs!, end: r.source.lastTs! });
    expect(fig.connections).toBe(200_009);
    expect(fig.bins).toBeLessThanOrEqual(600);
    expect(fig.svg.match(/<path /g)!.length).toBeLessThanOrEqual(10);
    expect(fig.svg.length).toBeLessThan(200_000);
    const html = renderHtml(r);
    expect(html.length).toBeLessThan(400_000);
  });

  it("draws the timeline from a TimelineCollector when the report has no connection list (CLI streaming)", () => {
    const r = sampleReport();
    const tl = new TimelineCollector();
    for (const c of r.connections) tl.add(c);
    r.connections = [];
    const html = renderHtml(r, { timeline: tl });
    expect(html).toContain('<svg class="timeline"');
    expect(html).toMatch(/closed <b>5<\/b>/);
    expect(html).not.toContain("Only the example connections are drawn");
    // Without a collector it falls back to the examples and says so.
    expect(renderHtml(r)).toContain("Only the example connections are drawn");
  });
});

describe("renderHtml edge cases", () => {
  it("renders an empty capture without failing", () => {
    const r = healthyReport();
    r.connections = [];
    r.destinations = [];
    r.examples = [];
    r.source.firstTs = null;
    r.source.lastTs = null;
    r.source.packets = 3;
    const html = renderHtml(r);
    expect(html).toContain("No TCP connection attempts in this capture.");
    expect(html).toContain("No connections to draw.");
    expect(html).toContain("No destinations.");
  });

  it("says when and how addresses were anonymized", () => {
    const html = renderHtml(sampleReport(), { anonymized: "IP addresses are anonymized with a random key made for this run." });
    expect(html).toContain("addresses anonymized");
    expect(html).toContain("random key made for this run");
  });
});
