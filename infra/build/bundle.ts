// `npm run build`: one esbuild bundle per function per runtime in dist/<runtime>/<function>/.
// Heavy SDKs stay behind dynamic imports (code-split chunks), so a function only loads what its
// configuration uses: PGlite only without DATABASE_URL, the EventBridge client only on AWS.
import { copyFileSync, mkdirSync, rmSync, statSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { functions } from "../../functions/registry.js";
import { bundleConsole } from "../console/bundle.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Each bundle imports only its own function's module (not the registry), so a function never
 * carries another's code. The module's export is the ProphetFunction whose name matches.
 */
function pick(fn: string): string {
  return `import * as mod from ${JSON.stringify(join(root, "functions", fn, "index.ts"))};
const fn = Object.values(mod).find((v) => typeof v === "object" && v !== null && v.name === ${JSON.stringify(fn)} && typeof v.handle === "function");
if (!fn) throw new Error("functions/${fn}/index.ts exports no function named ${fn}");`;
}

export const runtimes = {
  lambda: (fn: string) =>
    `import { toLambdaHandler } from ${JSON.stringify(join(root, "infra/aws/lambda.ts"))};
${pick(fn)}
export const handler = toLambdaHandler(fn);`,
  gcp: (fn: string) =>
    `import { http } from "@google-cloud/functions-framework";
import { toFunctionsFrameworkTarget } from ${JSON.stringify(join(root, "infra/gcp/functions-framework.ts"))};
${pick(fn)}
http(${JSON.stringify(fn)}, toFunctionsFrameworkTarget(fn));`,
  azure: (fn: string) =>
    `import { app } from "@azure/functions";
import { registerAzureFunction } from ${JSON.stringify(join(root, "infra/azure/functions.ts"))};
${pick(fn)}
registerAzureFunction(app, fn);`,
} as const;

export type RuntimeName = keyof typeof runtimes;

function dirSize(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    total += f.isDirectory() ? dirSize(join(dir, f.name)) : statSync(join(dir, f.name)).size;
  }
  return total;
}

/** One bundle of an entry's contents into outdir (its package.json beside it). */
async function bundleEntry(
  runtime: RuntimeName,
  name: string,
  contents: string,
  outdir: string,
): Promise<void> {
  mkdirSync(outdir, { recursive: true });
  await build({
    stdin: {
      contents,
      resolveDir: root,
      sourcefile: `${runtime}-${name}.ts`,
      loader: "ts",
    },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outdir,
    entryNames: "index",
    chunkNames: "chunks/[name]-[hash]",
    minify: true,
    sourcemap: "linked",
    legalComments: "none",
    // PGlite ships WASM and data files beside its JS and is only the local default: cloud
    // deployments set DATABASE_URL. pg-native is an optional native addon of pg.
    // On Google/Knative the Functions Framework is the container's entrypoint and must share
    // its function registry with the bundle, so it is not bundled.
    external: [
      "@electric-sql/pglite",
      "@electric-sql/pglite-pgvector",
      "pg-native",
      "@azure/functions-core",
      ...(runtime === "gcp" ? ["@google-cloud/functions-framework"] : []),
    ],
    // @azure/functions-core is provided by the Azure Functions worker at run time.
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: "warning",
  });
  writeFileSync(join(outdir, "package.json"), JSON.stringify({ type: "module", main: "index.js" }, null, 2));
}

/** The MCP server's own Functions Framework target (infra/gcp/mcp.ts): FUNCTION_TARGET=mcp. */
export const mcpGcpEntry = `import { http } from "@google-cloud/functions-framework";
import { mcpFunctionsFrameworkTarget } from ${JSON.stringify(join(root, "infra/gcp/mcp.ts"))};
http("mcp", mcpFunctionsFrameworkTarget());`;

export async function bundleAll(
  outRoot = join(root, "dist"),
): Promise<Array<{ runtime: string; fn: string; dir: string; bytes: number }>> {
  rmSync(outRoot, { recursive: true, force: true });
  const made: Array<{ runtime: string; fn: string; dir: string; bytes: number }> = [];
  for (const [runtime, entry] of Object.entries(runtimes) as Array<[RuntimeName, (fn: string) => string]>) {
    for (const fn of functions) {
      const outdir = join(outRoot, runtime, fn.name);
      await bundleEntry(runtime, fn.name, entry(fn.name), outdir);
      // The Relay client loads its .proto files from beside its own module (a chunk, or the entry).
      if (fn.name === "hubble-quarantine")
        for (const dir of [outdir, join(outdir, "chunks")]) {
          mkdirSync(dir, { recursive: true });
          for (const f of readdirSync(join(root, "shared/flows/grpc")).filter((n) => n.endsWith(".proto")))
            copyFileSync(join(root, "shared/flows/grpc", f), join(dir, f));
        }
      made.push({ runtime, fn: fn.name, dir: relative(root, outdir), bytes: dirSize(outdir) });
    }
  }
  // The MCP server as its own function (Cloud Run / Knative with FUNCTION_TARGET=mcp).
  const mcpDir = join(outRoot, "gcp", "mcp");
  await bundleEntry("gcp", "mcp", mcpGcpEntry, mcpDir);
  made.push({ runtime: "gcp", fn: "mcp", dir: relative(root, mcpDir), bytes: dirSize(mcpDir) });
  // The web console's files (served by the local host; see infra/console/README.md).
  await bundleConsole(join(outRoot, "console"));
  return made;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const made = await bundleAll();
  for (const m of made) console.log(`${m.dir.padEnd(32)} ${(m.bytes / 1024).toFixed(0).padStart(6)} KiB`);
}
