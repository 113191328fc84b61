// The console's files under /console/*: its own modules and stylesheet from infra/console/assets,
// and the chart and graph libraries from dist/console/vendor (minified by `npm run build`) or,
// on a fresh clone without a build, straight from node_modules.
import { existsSync, readFileSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { HttpReply } from "../runtime/http.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const assetsDir = join(root, "infra/console/assets");

/** Vendor files the console imports, and where each comes from without a build. */
export const vendorFiles: Record<string, string> = {
  "uplot.js": "node_modules/uplot/dist/uPlot.esm.js",
  "uplot.css": "node_modules/uplot/dist/uPlot.min.css",
  "cytoscape.js": "node_modules/cytoscape/dist/cytoscape.esm.min.mjs",
};

const types: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

const cache = new Map<string, string>();

function read(file: string): string | undefined {
  const hit = cache.get(file);
  if (hit !== undefined) return hit;
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  // Source files are re-read in development; vendor files never change under a running host.
  if (file.includes(`${sep}node_modules${sep}`) || file.includes(`${sep}dist${sep}`)) cache.set(file, text);
  return text;
}

/** The file for /console/<rel>, or undefined; never anything outside the console's folders. */
export function consoleAsset(rel: string): HttpReply | undefined {
  const clean = normalize(rel).replace(/^([/\\])+/, "");
  if (clean.startsWith("..") || clean.includes(`${sep}..`)) return undefined;
  let file: string | undefined;
  const vendor = /^vendor[/\\](.+)$/.exec(clean)?.[1];
  if (vendor !== undefined) {
    const src = vendorFiles[vendor];
    if (!src) return undefined;
    const built = join(root, "dist/console/vendor", vendor);
    file = existsSync(built) ? built : join(root, src);
  } else {
    file = join(assetsDir, clean);
    if (!existsSync(file)) file = join(root, "dist/console", clean);
  }
  const type = types[extname(file)];
  const body = type ? read(file) : undefined;
  if (body === undefined || !type) return undefined;
  return {
    status: 200,
    headers: {
      "content-type": type,
      "cache-control": vendor !== undefined ? "public, max-age=3600" : "no-cache",
      "x-content-type-options": "nosniff",
    },
    body,
  };
}
