/** `synsent interfaces`: what can be captured on, like `tcpdump -D` with addresses. */
import type { Argv, CommandModule } from "yargs";
import type { InterfaceInfo } from "../sources/live.js";
import { Output } from "./output.js";

interface InterfacesArgs {
  format: "text" | "json";
  output?: string;
}

export const interfacesCommand: CommandModule<object, InterfacesArgs> = {
  command: "interfaces",
  describe: "list the interfaces synsent capture can use, with addresses and flags",
  builder: (y: Argv) =>
    y
      .option("format", { alias: "F", choices: ["text", "json"] as const, default: "text" as const, describe: "output format" })
      .option("output", { alias: "o", type: "string", requiresArg: true, describe: "write to FILE instead of standard output" })
      .example("$0 interfaces", "one interface per line: name, flags, addresses")
      .example("$0 interfaces --format json | jq -r '.[] | select(.up) | .name'", "names of the interfaces that are up") as unknown as Argv<InterfacesArgs>,
  handler: async (a) => {
    // Loaded on demand: the libpcap binding is not needed by other commands.
    const { defaultInterface, listInterfaces } = await import("../sources/live.js");
    const list = listInterfaces();
    let def: string | null = null;
    try {
      def = defaultInterface(list);
    } catch {
      // nothing up: no default to mark
    }
    const out = Output.open(a.output, "interface list");
    try {
      if (a.format === "json") {
        out.write(JSON.stringify(list.map((i) => ({ ...i, default: i.name === def })), null, 2) + "\n");
      } else {
        out.write(renderInterfaces(list, def));
      }
      out.close();
    } catch (e) {
      out.abort();
      throw e;
    }
  },
};

/** One line per interface: number (as tcpdump -D), name, flags, addresses. */
export function renderInterfaces(list: InterfaceInfo[], def: string | null): string {
  const nameW = Math.max(4, ...list.map((i) => i.name.length));
  const lines = list.map((i, n) => {
    const flags = [i.up ? "up" : "down", i.running ? "running" : null, i.loopback ? "loopback" : null, i.wireless ? "wireless" : null]
      .filter((f) => f !== null)
      .join(",");
    const addrs = i.addresses.map((a) => (a.prefixLen !== null ? `${a.addr}/${a.prefixLen}` : a.addr)).join(" ");
    const mark = i.name === def ? " (default)" : "";
    return `${String(n + 1).padStart(2)}. ${i.name.padEnd(nameW)}  ${flags.padEnd(24)}${addrs}${mark}`.trimEnd();
  });
  return lines.join("\n") + "\n";
}
