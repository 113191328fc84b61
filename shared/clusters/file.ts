// The clusters file (PROPHET_CLUSTERS_FILE, default ~/.prophet/clusters.json): the registered
// definitions as JSON, parsed at the edge. Writes go to a temporary file renamed over the old one,
// so a crash never leaves half a file; mode 0600 although it holds no secrets.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { describeIssues, issuesFromZod, ProphetError } from "../errors.js";
import { ClustersFileSchema, type ClustersFile } from "./definition.js";

export function defaultClustersFile(configured?: string): string {
  return configured ?? join(homedir(), ".prophet", "clusters.json");
}

export function readClustersFile(path: string): ClustersFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, clusters: [] };
    throw new ProphetError("invalid_config", `cannot read clusters file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProphetError("invalid_config", `clusters file ${path} is not JSON: ${(err as Error).message}`);
  }
  const res = ClustersFileSchema.safeParse(json);
  if (!res.success) {
    const issues = issuesFromZod(res.error.issues);
    throw new ProphetError("invalid_config", `clusters file ${path}: ${describeIssues(issues)}`, issues);
  }
  return res.data;
}

export function writeClustersFile(path: string, file: ClustersFile): void {
  const checked = ClustersFileSchema.parse(file);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
