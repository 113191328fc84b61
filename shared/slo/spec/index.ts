// Reading SLO specs in any supported format into SloSpec: one entry point per kind of input (YAML
// text, one already-parsed object, files and directories). Each document is dispatched on its
// `version` (Sloth prometheus/v1) or `apiVersion`/`kind`; documents of other kinds are skipped, but
// an input with no SLO at all is an error. Nothing here throws: every problem is an SloSpecError.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { SloLoadResult, SloSpec, SloSpecError } from "../model.js";
import { isRecord } from "./common.js";
import { isOpenSlo, parseOpenSloDocuments, type Sourced } from "./openslo.js";
import { parsePrometheusServiceLevel, slothApiVersion } from "./sloth-crd.js";
import { parseSlothFile } from "./sloth.js";
import { parseSloViolation, sloViolationApiVersion } from "./sloviolation.js";

export { parseSlothFile } from "./sloth.js";
export { parsePrometheusServiceLevel } from "./sloth-crd.js";
export { parseOpenSloDocuments } from "./openslo.js";
export { parseSloViolation, sloViolationSpecSchema, type SloViolationSpec } from "./sloviolation.js";
export { roundRatio } from "./common.js";

const NONE_FOUND =
  "no SLO spec found (expected Sloth version prometheus/v1, sloth.slok.dev/v1 PrometheusServiceLevel, openslo/v1 SLO or aiops.prophet.io/v1alpha1 SLOViolation)";

type Format = "sloth" | "PrometheusServiceLevel" | "openslo" | "SLOViolation";

function formatOf(obj: unknown): Format | undefined {
  if (!isRecord(obj)) return undefined;
  if (obj.version === "prometheus/v1") return "sloth";
  if (obj.apiVersion === slothApiVersion && obj.kind === "PrometheusServiceLevel")
    return "PrometheusServiceLevel";
  if (isOpenSlo(obj) && (obj.kind === "SLO" || obj.kind === "SLI")) return "openslo";
  if (obj.apiVersion === sloViolationApiVersion && obj.kind === "SLOViolation") return "SLOViolation";
  return undefined;
}

/** Every SLO in the documents, OpenSLO SLI references resolved across all of them; ids unique. */
function parseSourced(docs: Sourced[]): SloLoadResult & { recognised: number } {
  const out: SloLoadResult = { slos: [], errors: [] };
  const openslo: Sourced[] = [];
  let recognised = 0;
  for (const doc of docs) {
    const format = formatOf(doc.obj);
    if (!format) continue;
    recognised++;
    let r: SloLoadResult | undefined;
    if (format === "sloth") r = parseSlothFile(doc.obj, doc.origin);
    else if (format === "PrometheusServiceLevel") r = parsePrometheusServiceLevel(doc.obj, doc.origin);
    else if (format === "SLOViolation") r = parseSloViolation(doc.obj, doc.origin);
    else openslo.push(doc);
    if (r) append(out, r);
  }
  if (openslo.length > 0) append(out, parseOpenSloDocuments(openslo));
  return { ...uniqueIds(out), recognised };
}

function append(out: SloLoadResult, r: SloLoadResult): void {
  out.slos.push(...r.slos);
  out.errors.push(...r.errors);
}

const idPath: Record<Format, string> = {
  sloth: "service",
  PrometheusServiceLevel: "spec.service",
  openslo: "metadata.name",
  SLOViolation: "spec.sloName",
};

/** The first SLO with an id wins; a later one would write the same series and is an error. */
function uniqueIds(r: SloLoadResult): SloLoadResult {
  const seen = new Map<string, SloSpec>();
  const slos: SloSpec[] = [];
  const errors: SloSpecError[] = [...r.errors];
  for (const slo of r.slos) {
    const first = seen.get(slo.id);
    if (first)
      errors.push({
        origin: slo.source.origin,
        path: idPath[slo.source.format],
        reason: `duplicate id ${slo.id}: already defined in ${first.source.origin}`,
      });
    else {
      seen.set(slo.id, slo);
      slos.push(slo);
    }
  }
  return { slos, errors };
}

/** Documents of one YAML text, `kind: *List` objects expanded; syntax errors become SloSpecErrors. */
function yamlDocuments(text: string, origin: string): { docs: Sourced[]; errors: SloSpecError[] } {
  const docs: Sourced[] = [];
  const errors: SloSpecError[] = [];
  const parsed = parseAllDocuments(text);
  const all = Array.isArray(parsed) ? parsed : [parsed];
  const many = all.length > 1;
  all.forEach((doc, i) => {
    const at = many ? `${origin}#${i + 1}` : origin;
    const error = doc.errors[0];
    if (error) {
      errors.push({ origin: at, path: "", reason: `not valid YAML: ${error.message}` });
      return;
    }
    const value: unknown = doc.toJS();
    if (
      isRecord(value) &&
      typeof value.kind === "string" &&
      value.kind.endsWith("List") &&
      Array.isArray(value.items)
    )
      value.items.forEach((obj: unknown, j) => docs.push({ obj, origin: `${at}#items[${j}]` }));
    else if (value !== null && value !== undefined) docs.push({ obj: value, origin: at });
  });
  return { docs, errors };
}

/** Every SLO in a (multi-document) YAML text; `origin` names it in errors (a file path). */
export function parseSloDocuments(text: string, origin: string): SloLoadResult {
  const { docs, errors } = yamlDocuments(text, origin);
  const r = parseSourced(docs);
  const none = r.recognised === 0 && errors.length === 0 ? [{ origin, path: "", reason: NONE_FOUND }] : [];
  return { slos: r.slos, errors: [...errors, ...r.errors, ...none] };
}

/**
 * One already-parsed object (e.g. from the Kubernetes API). `related` are objects it may refer to:
 * OpenSLO SLI documents named by an SLO's indicatorRef.
 */
export function parseSloObject(obj: unknown, origin: string, related: unknown[] = []): SloLoadResult {
  if (!formatOf(obj)) return { slos: [], errors: [{ origin, path: "", reason: NONE_FOUND }] };
  const others = related.filter((o) => isOpenSlo(o)).map((o) => ({ obj: o, origin }));
  const r = parseSourced([{ obj, origin }, ...others]);
  return { slos: r.slos, errors: r.errors };
}

/**
 * Every SLO in the files, and in the `.yml`/`.yaml` files of the directories, read together so an
 * OpenSLO indicatorRef may name an SLI in another file. A file given by name must hold an SLO; a
 * directory's files may hold other kinds, which are skipped.
 */
export function loadSloFiles(paths: string[]): SloLoadResult {
  const docs: Sourced[] = [];
  const errors: SloSpecError[] = [];
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      errors.push({ origin: file, path: "", reason: `cannot be read: ${(err as Error).message}` });
      return undefined;
    }
  };
  const add = (file: string, explicit: boolean) => {
    const text = read(file);
    if (text === undefined) return;
    const y = yamlDocuments(text, file);
    errors.push(...y.errors);
    docs.push(...y.docs);
    if (explicit && y.errors.length === 0 && !y.docs.some((d) => formatOf(d.obj)))
      errors.push({ origin: file, path: "", reason: NONE_FOUND });
  };
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      errors.push({ origin: p, path: "", reason: `cannot be read: ${(err as Error).message}` });
      continue;
    }
    if (!isDir) add(p, true);
    else
      for (const f of readdirSync(p).sort())
        if ([".yaml", ".yml"].includes(extname(f))) add(join(p, f), false);
  }
  const r = parseSourced(docs);
  return { slos: r.slos, errors: [...errors, ...r.errors] };
}
