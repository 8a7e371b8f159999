/**
 * The "pcap-parser (iterating packets only, no analysis)" row: the
 * npm package pcap-parser reading every packet of a pcap file and nothing
 * else, as a JavaScript reader's floor to set synsent's full analysis against.
 *
 *   node dist/bench/pcap-parser-iterate.js F     -> "N packets" on stdout
 */
import { createRequire } from "node:module";

interface Parser {
  on(event: "packet", f: () => void): Parser;
  on(event: "end", f: () => void): Parser;
  on(event: "error", f: (e: Error) => void): Parser;
}

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write("usage: node dist/bench/pcap-parser-iterate.js FILE.pcap\n");
  process.exit(2);
}
let pcapp: { parse(input: string): Parser };
try {
  pcapp = createRequire(import.meta.url)("pcap-parser") as typeof pcapp;
} catch {
  process.stderr.write("pcap-parser is not installed (npm install: it is a devDependency)\n");
  process.exit(2);
}
let packets = 0;
pcapp
  .parse(file)
  .on("packet", () => {
    packets++;
  })
  .on("end", () => {
    process.stdout.write(`${packets} packets\n`);
  })
  .on("error", (e: Error) => {
    process.stderr.write(`pcap-parser: ${e.message}\n`);
    process.exitCode = 1;
  });
