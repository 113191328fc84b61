// `npm run build` for the console: its modules and stylesheet as they are (no build step is
// needed to run them), and the chart and graph libraries minified into dist/console/vendor, which
// the host then prefers over node_modules.
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { assetsDir, vendorFiles } from "./static.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

export async function bundleConsole(outdir: string): Promise<void> {
  mkdirSync(join(outdir, "vendor"), { recursive: true });
  cpSync(assetsDir, outdir, { recursive: true });
  for (const [name, src] of Object.entries(vendorFiles)) {
    await build({
      entryPoints: [join(root, src)],
      outfile: join(outdir, "vendor", name),
      minify: true,
      legalComments: "inline",
      ...(name.endsWith(".js")
        ? { format: "esm" as const, target: "es2020" }
        : { loader: { ".css": "css" as const } }),
      logLevel: "warning",
    });
  }
}
