/**
 * synsent command line (loaded by main.ts). Every way a run can end maps to
 * one line and an exit code, never a stack trace:
 *   0 done, 1 --fail-on matched, 2 usage error, 3 unreadable input,
 *   4 cannot write an output, 70 internal error, 130/143 interrupted.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { InputError } from "../sources/record.js";
import { VERSION } from "../version.js";
import { analyzeCommand } from "./analyze.js";
import { DASH_TOKEN, UsageError } from "./common.js";
import { BrokenPipe, OutputError } from "./output.js";
import { extraCommands } from "./commands.js";

function fail(message: string, code: number): never {
  try {
    process.stderr.write(`synsent: ${message.replace(/\s*\n\s*/g, " ").trim()}\n`);
  } catch {
    // stderr gone too
  }
  process.exit(code);
}

export function exitFor(e: unknown): never {
  if (e instanceof BrokenPipe) process.exit(0);
  if (e instanceof InputError) fail(e.message, 3);
  if (e instanceof UsageError) fail(`${e.message} (see synsent --help)`, 2);
  if (e instanceof OutputError) fail(e.message, 4);
  const err = e as NodeJS.ErrnoException;
  if (err && err.code === "EPIPE") process.exit(0);
  if (process.env.SYNSENT_DEBUG && err && err.stack) process.stderr.write(err.stack + "\n");
  fail(`internal error: ${err && err.message ? err.message : String(e)} (set SYNSENT_DEBUG=1 for details, and please report it)`, 70);
}

/**
 * yargs-parser swallows a lone "-" (it reads it as an empty option), but "-"
 * is how a user names stdin/stdout. Hide it behind a token the handlers map
 * back with `dash()`.
 */
function protectDash(argv: string[]): string[] {
  return argv.map((a) => (a === "-" ? DASH_TOKEN : a));
}

async function main(): Promise<void> {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
  });
  let cli = yargs(protectDash(hideBin(process.argv)))
    .scriptName("synsent")
    .usage("$0 <command> [options]\n\nDid the SYN leave, did anything answer, and who is to blame?")
    .command(analyzeCommand);
  for (const c of extraCommands) cli = cli.command(c);
  cli = cli
    .demandCommand(1, "a command is needed: analyze, capture or interfaces")
    .strict()
    .recommendCommands()
    .version(VERSION)
    .help()
    .alias("h", "help")
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      // analyze is the only command with a required positional argument.
      if (msg && msg.startsWith("Not enough non-option arguments")) {
        throw new UsageError("analyze needs at least one capture file (or - for stdin)");
      }
      throw new UsageError(msg ?? "invalid command line");
    });
  skipHelpCache(cli);
  await cli.parseAsync();
}

/**
 * yargs renders the whole help text of a command each time it runs one
 * (command.js: cacheHelpMessage, so a handler could call showHelp() later),
 * measuring every cell with string-width: ~20 ms of every run, for text that
 * is never shown (no handler calls showHelp, and .fail() above prints one line,
 * never the help). --help itself renders fresh, without the cache. The usage
 * object is one per yargs instance (reset() returns the same one), so
 * replacing the method here covers every command. yargs 18 internals: if they
 * are not there, nothing changes.
 */
function skipHelpCache(cli: unknown): void {
  const internal = (cli as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => {};
}

process.on("uncaughtException", exitFor);
process.on("unhandledRejection", exitFor);
main().catch(exitFor);
