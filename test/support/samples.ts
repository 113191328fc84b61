import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const eventsDir = new URL("../../events/", import.meta.url).pathname;

export function sampleText(path: string): string {
  return readFileSync(join(eventsDir, path), "utf8");
}

export function sample<T = unknown>(path: string): T {
  return JSON.parse(sampleText(path)) as T;
}

export function sampleFiles(dir: string): string[] {
  return readdirSync(join(eventsDir, dir)).filter((f) => f.endsWith(".json"));
}
