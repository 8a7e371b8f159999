#!/usr/bin/env node
/**
 * Bundles the command line so `synsent` starts fast: Node's ESM loader
 * resolves, reads and compiles every module separately (~60 files with
 * yargs and its dependencies), which cost more than the work on a small
 * capture.
 *
 * Runs after `tsc` (npm run build) and replaces one of its outputs in place:
 * dist/src/cli/main.js, the `bin` (package.json). Same path, so `bin` and the
 * tests (test/helpers/cli.ts) run the bundle. Code that main.js imports only
 * on demand (capture, interfaces, the html/markdown/text renderers,
 * --anonymize, --evidence) goes to dist/src/cli/bundle-*.js chunks, loaded
 * when needed as before. Every other dist/src file stays tsc's unbundled
 * output: the library entry (dist/src/index.js) and the tests import them, and
 * the --threads 2 writer thread (dist/src/cli/json-worker.js, which
 * writer-thread.ts finds next to itself: next to main.js in the bundle) loads them
 * as before (bundling it measured no faster: a worker thread's start-up is
 * ~25 ms of Node's own, its modules ~9 ms, bundled ~8 ms). tsc's main.js is
 * kept as dist/src/cli/main.unbundled.js: test/cli/startup.test.ts checks
 * that both give the same output.
 *
 * What a bundle must keep working:
 * - yargs's messages in the user's language: y18n reads locales/<lang>.json
 *   from a directory yargs's ESM shim computes from its own import.meta.url.
 *   The bundle ships a copy next to itself (dist/src/cli/yargs-locales/) and
 *   the shim is pointed at it.
 * - paths taken from import.meta.url: chunks sit next to main.js, so the
 *   worker URL (writer-thread.ts) and the libpcap binding (src/sources/live.ts walks
 *   up to package.json + native/) resolve as from dist/src/cli/.
 * - cli-progress is loaded with createRequire at run time (only with a bar on
 *   a terminal): it stays a require resolved from node_modules.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "dist/src/cli");
/** First line of every bundle (after the shebang): how the script recognises its own output. */
const MARK = "// synsent bundle (scripts/bundle.mjs): do not edit; see src/cli/";
const CHUNK_PREFIX = "bundle-";

const YARGS_SHIM = /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/;
const LAZY_UI = "synsent:yargs-lazy-ui";
const REAL_UI = "synsent:yargs-ui";

/**
 * Edits to yargs's ESM platform shim (lib/platform-shims/esm.mjs), each an
 * exact text replacement; the build fails if yargs changed and one no longer
 * applies.
 * - y18n reads the locales shipped next to the bundle (dist/src/cli/yargs-locales/).
 * - yargs looks for package.json from the package root, as unbundled.
 * - cliui and string-width are loaded on first use (help and usage text):
 *   string-width creates an Intl.Segmenter when it loads (~8 ms) and cliui
 *   pulls in wrap-ansi and two emoji tables.
 */
const SHIM_EDITS = [
  ["resolve(__dirname, '../../../locales')", "fileURLToPath(new URL('./yargs-locales/', import.meta.url))"],
  // Where yargs starts looking for package.json (only to guess a version,
  // which cli.ts then sets): unbundled it is the folder holding
  // node_modules; the bundle's own path has no node_modules in it and yargs
  // would start from the cwd and read every directory up to / instead.
  [
    "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));",
    "const mainFilename = fileURLToPath(new URL('../../../', import.meta.url));",
  ],
  ["import cliui from 'cliui'\n", `import { cliui, stringWidth } from '${LAZY_UI}'\n`],
  ["import stringWidth from 'string-width';\n", ""],
];

/**
 * Stand-ins with the same signatures. A `require` of an ES module in an
 * esbuild bundle initialises that bundled module synchronously on the first
 * call, so yargs still calls them synchronously.
 */
const LAZY_UI_SOURCE = `let ui = null;
function load() {
  if (ui === null) ui = require(${JSON.stringify(REAL_UI)});
  return ui;
}
export function cliui(opts) {
  return load().cliui(opts);
}
export function stringWidth(str) {
  return load().stringWidth(str);
}
`;
/** The very modules the shim imported, resolved from the shim's folder. */
const REAL_UI_SOURCE = "export { default as cliui } from 'cliui';\nexport { default as stringWidth } from 'string-width';\n";

const yargsShim = {
  name: "yargs-shim",
  setup(b) {
    b.onLoad({ filter: YARGS_SHIM }, async (args) => {
      let src = await fs.promises.readFile(args.path, "utf8");
      for (const [from, to] of SHIM_EDITS) {
        if (!src.includes(from)) throw new Error(`${args.path}: expected ${JSON.stringify(from)} (yargs changed: update scripts/bundle.mjs)`);
        src = src.replace(from, to);
      }
      return { contents: src, loader: "js" };
    });
    b.onResolve({ filter: /^synsent:yargs-(lazy-)?ui$/ }, (args) => ({
      path: args.path,
      namespace: "synsent",
      pluginData: args.path === LAZY_UI ? args.resolveDir : args.pluginData ?? args.resolveDir,
    }));
    b.onLoad({ filter: /.*/, namespace: "synsent" }, (args) => ({
      contents: args.path === LAZY_UI ? LAZY_UI_SOURCE : REAL_UI_SOURCE,
      loader: "js",
      resolveDir: args.pluginData,
    }));
  },
};

function keepUnbundled(name, as) {
  const file = path.join(outDir, name);
  if (!fs.existsSync(file)) throw new Error(`${file} missing: run tsc first (npm run build)`);
  const text = fs.readFileSync(file, "utf8");
  // A second run without tsc in between: the file is already our bundle.
  if (text.includes(MARK)) return;
  // Its source map (main.js.map) is about to become the bundle's.
  fs.writeFileSync(path.join(outDir, as), text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n"));
}

keepUnbundled("main.js", "main.unbundled.js");

// Old chunks (their names carry a hash).
for (const f of fs.readdirSync(outDir)) if (f.startsWith(CHUNK_PREFIX)) fs.rmSync(path.join(outDir, f));

await build({
  entryPoints: { main: path.join(root, "src/cli/main.ts") },
  outdir: outDir,
  // What main.ts and cli.ts import on demand stays on demand (chunks next to main.js).
  splitting: true,
  chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: { js: MARK },
  external: ["cli-progress"],
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  tsconfig: path.join(root, "tsconfig.json"),
  plugins: [yargsShim],
});

const localesFrom = path.join(root, "node_modules/yargs/locales");
const localesTo = path.join(outDir, "yargs-locales");
fs.rmSync(localesTo, { recursive: true, force: true });
fs.cpSync(localesFrom, localesTo, { recursive: true });
