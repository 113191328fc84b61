// A throwaway entry point for the CLI spec: `prophet sandbox …` without the product's main.ts.
import { Command } from "commander";
import { register } from "../../infra/cli/commands/sandbox.js";

const program = new Command("prophet");
register(program);
await program.parseAsync(process.argv);
