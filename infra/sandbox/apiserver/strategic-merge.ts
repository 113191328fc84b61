// Strategic merge patch as the API server applies it to built-in kinds: lists with a patch merge key
// (containers by name, container ports by containerPort, …) merge element-wise, other lists replace,
// and the directives `$patch`, `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…` apply.
import { apiErrors } from "./errors.js";
import { isRecord } from "./types.js";

type ListStrategy = { mergeKey: string } | "set" | "replace";

const containerLists = new Set(["containers", "initContainers", "ephemeralContainers"]);

const keyedLists: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  imagePullSecrets: "name",
  hostAliases: "ip",
  topologySpreadConstraints: "topologyKey",
  readinessGates: "conditionType",
  resourceClaims: "name",
};

/** `path` holds the field names from the root down to the map that owns `field`. */
function listStrategy(kind: string, path: string[], field: string): ListStrategy {
  const parent = path[path.length - 1];
  if (field === "ports") {
    if (parent !== undefined && containerLists.has(parent)) return { mergeKey: "containerPort" };
    if (kind === "Service" && path.length === 1 && parent === "spec") return { mergeKey: "port" };
    return "replace";
  }
  if (parent === "metadata" && path.length === 1) {
    if (field === "finalizers") return "set";
    if (field === "ownerReferences") return { mergeKey: "uid" };
  }
  if (field === "conditions" && path[0] === "status") return { mergeKey: "type" };
  if (field === "addresses" && kind === "Node" && path[0] === "status") return { mergeKey: "type" };
  if (field === "secrets" && kind === "ServiceAccount" && path.length === 0) return { mergeKey: "name" };
  const mergeKey = keyedLists[field];
  return mergeKey ? { mergeKey } : "replace";
}

const DELETE = Symbol("delete");

function isDirectiveKey(key: string): boolean {
  return key.startsWith("$");
}

function mergeMap(kind: string, original: unknown, patch: Record<string, unknown>, path: string[]): unknown {
  const directive = patch.$patch;
  if (directive === "delete") return DELETE;
  if (directive === "replace") return stripDirectives(kind, patch, path);
  if (directive !== undefined && directive !== "merge") {
    throw apiErrors.badRequest(`unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const out: Record<string, unknown> = isRecord(original) ? { ...original } : {};
  const orders: [string, unknown[]][] = [];
  const primitiveDeletes: [string, unknown[]][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$setElementOrder/")) {
      if (Array.isArray(value)) orders.push([key.slice("$setElementOrder/".length), value]);
      continue;
    }
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      if (Array.isArray(value)) primitiveDeletes.push([key.slice("$deleteFromPrimitiveList/".length), value]);
      continue;
    }
    if (isDirectiveKey(key)) continue;
    if (value === null) {
      delete out[key];
    } else if (isRecord(value)) {
      const merged = mergeMap(kind, out[key], value, [...path, key]);
      if (merged === DELETE) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value)) {
      out[key] = mergeList(kind, out[key], value, path, key);
    } else {
      out[key] = value;
    }
  }
  for (const [field, values] of primitiveDeletes) {
    const current = out[field];
    if (Array.isArray(current)) out[field] = current.filter((v) => !values.includes(v));
  }
  for (const [field, order] of orders) {
    const current = out[field];
    if (Array.isArray(current)) out[field] = reorder(kind, current, order, path, field);
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const key of Object.keys(out)) if (!retain.includes(key)) delete out[key];
  }
  return out;
}

function mergeList(
  kind: string,
  original: unknown,
  patch: unknown[],
  path: string[],
  field: string,
): unknown[] {
  const strategy = listStrategy(kind, path, field);
  const childPath = [...path, field];
  const replaceAll = patch.some((p) => isRecord(p) && p.$patch === "replace");
  const base = Array.isArray(original) && !replaceAll ? original : [];
  const items = patch.filter((p) => !(isRecord(p) && p.$patch === "replace"));
  if (strategy === "replace") return items.map((p) => stripDirectives(kind, p, childPath));
  if (strategy === "set") return [...base, ...items.filter((p) => !base.includes(p))];
  const { mergeKey } = strategy;
  const out = [...base];
  for (const item of items) {
    if (!isRecord(item)) {
      out.push(item);
      continue;
    }
    const key = item[mergeKey];
    const idx = out.findIndex((o) => isRecord(o) && o[mergeKey] === key);
    if (item.$patch === "delete") {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    const merged = mergeMap(kind, idx >= 0 ? out[idx] : {}, item, childPath);
    if (merged === DELETE) {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) out[idx] = merged;
    else out.push(merged);
  }
  return out;
}

/** Elements named in `$setElementOrder` come first in that order; the rest keep their relative order. */
function reorder(kind: string, list: unknown[], order: unknown[], path: string[], field: string): unknown[] {
  const strategy = listStrategy(kind, path, field);
  const keyOf = (v: unknown): unknown =>
    typeof strategy === "object" && isRecord(v) ? v[strategy.mergeKey] : v;
  const wanted = order.map(keyOf);
  const ordered: unknown[] = [];
  for (const k of wanted) {
    const found = list.find((v) => keyOf(v) === k);
    if (found !== undefined) ordered.push(found);
  }
  return [...ordered, ...list.filter((v) => !wanted.includes(keyOf(v)))];
}

function stripDirectives(kind: string, value: unknown, path: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => stripDirectives(kind, v, path));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (isDirectiveKey(k) || v === null) continue;
    out[k] = stripDirectives(kind, v, [...path, k]);
  }
  return out;
}

export function strategicMergePatch(kind: string, original: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) throw apiErrors.badRequest("a strategic merge patch must be a JSON object");
  const merged = mergeMap(kind, original, patch, []);
  if (merged === DELETE) throw apiErrors.badRequest("a strategic merge patch cannot delete the whole object");
  return merged;
}
