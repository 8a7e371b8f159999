#!/usr/bin/env node
/**
 * The `synsent` command. This first module only starts the report-writer
 * thread when the arguments call for one (writer-thread.ts), then loads the
 * command line itself (cli.ts): the thread's own start-up (~45 ms of CPU)
 * then runs on the idle second core while the command line loads, instead of
 * competing with the first packets.
 */
import { startEarly } from "./writer-thread.js";

startEarly(process.argv.slice(2));
await import("./cli.js");
