// The container's entrypoint: one image serves any function. FUNCTION_TARGET (set per Knative
// Service) names it; its Functions Framework bundle is dist/gcp/<name>/index.js. The framework
// reads FUNCTION_TARGET, FUNCTION_SOURCE and PORT from the environment.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const target = process.env.FUNCTION_TARGET;
if (!target || !/^[a-z0-9-]+$/.test(target)) {
  console.error("FUNCTION_TARGET must name a Prophet function (e.g. alert-intake)");
  process.exit(64);
}
const source = (process.env.FUNCTION_SOURCE ??= join(process.cwd(), "dist/gcp", target, "index.js"));
if (!existsSync(source)) {
  console.error(`no bundle for ${target} at ${source} (run npm run build)`);
  process.exit(66);
}
// The framework's CLI (what `functions-framework` runs) is not an exported subpath: load it by file.
const index = createRequire(import.meta.url).resolve("@google-cloud/functions-framework");
await import(pathToFileURL(join(dirname(index), "main.js")).href);
