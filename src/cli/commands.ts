/** Commands besides analyze (capture, interfaces); registered by cli.ts. */
import type { CommandModule } from "yargs";
import { captureCommand } from "./capture-command.js";
import { interfacesCommand } from "./interfaces.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const extraCommands: CommandModule<any, any>[] = [captureCommand, interfacesCommand];
