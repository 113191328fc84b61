#!/usr/bin/env node
// Runs the TypeScript CLI without a build step: tsx registers its loader, then the CLI loads.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../infra/cli/main.ts");
await main(process.argv);
