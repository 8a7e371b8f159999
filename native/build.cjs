#!/usr/bin/env node
// Builds, at `npm install`, native/flows/build/Release/synsent_flows.node (the
// compiled flow tracker) and native/build/Release/synsent_pcap.node (live
// capture). Never fails the install: without a compiler `synsent analyze`
// uses the JavaScript flow tracker; without libpcap headers `synsent capture`
// says what to install.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const here = __dirname;
const quiet = process.argv.includes("--quiet");

function note(msg) {
  process.stderr.write(`synsent: ${msg}\n`);
}

function findNodeGyp() {
  // npm exports the path of its bundled node-gyp to lifecycle scripts.
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && fs.existsSync(fromNpm)) return [process.execPath, [fromNpm]];
  const candidates = [
    path.join(here, "..", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
    "/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
  ];
  for (const c of candidates) if (fs.existsSync(c)) return [process.execPath, [c]];
  return ["node-gyp", []];
}

function pcapHeaders() {
  const dirs = ["/usr/include", "/usr/local/include", "/opt/homebrew/include", "/usr/local/opt/libpcap/include"];
  return dirs.some((d) => fs.existsSync(path.join(d, "pcap", "pcap.h")) || fs.existsSync(path.join(d, "pcap.h")));
}

if (process.env.SYNSENT_SKIP_NATIVE) {
  note("SYNSENT_SKIP_NATIVE set: native bindings not built (live capture off; analysis uses the JavaScript flow tracker)");
  process.exit(0);
}

// Distribution builds of node ship their headers in <prefix>/include/node; use
// them instead of downloading a headers tarball (no network in CI/sandboxes).
const prefix = path.resolve(path.dirname(process.execPath), "..");
const nodedir =
  fs.existsSync(path.join(prefix, "include", "node", "node_api.h")) && fs.existsSync(path.join(prefix, "include", "node", "common.gypi"))
    ? [`--nodedir=${prefix}`]
    : [];
const [cmd, pre] = findNodeGyp();

/** node-gyp rebuild in `dir`; the error text, or null when `built` exists after it. */
function gyp(dir, built) {
  const r = spawnSync(cmd, [...pre, "rebuild", "--directory", dir, ...nodedir], {
    stdio: quiet ? "pipe" : ["ignore", "inherit", "inherit"],
    encoding: "utf8",
  });
  if (r.status === 0 && fs.existsSync(built)) return null;
  return r.error ? r.error.message : `node-gyp exited with ${r.status}`;
}

// The compiled flow tracker (native/flows): analysis is ~3x faster with it;
// without it the JavaScript tracker gives the same report.
const flowsBuilt = path.join(here, "flows", "build", "Release", "synsent_flows.node");
const flowsWhy = gyp(path.join(here, "flows"), flowsBuilt);
if (flowsWhy === null) {
  if (!quiet) note(`flow tracker built: ${path.relative(process.cwd(), flowsBuilt) || flowsBuilt}`);
} else {
  note(`compiled flow tracker not built (${flowsWhy}); synsent uses its JavaScript flow tracker (same results, slower)`);
}

if (!pcapHeaders()) {
  note("libpcap headers not found: live capture disabled (apt-get install libpcap-dev, then npm rebuild synsent / npm run rebuild:native)");
  process.exit(0);
}
const built = path.join(here, "build", "Release", "synsent_pcap.node");
const why = gyp(here, built);
if (why === null) {
  if (!quiet) note(`live capture binding built: ${path.relative(process.cwd(), built) || built}`);
  process.exit(0);
}
note(`live capture binding not built (${why}); synsent analyze works, for synsent capture install a C++ compiler and libpcap-dev, then run npm run rebuild:native`);
process.exit(0);
