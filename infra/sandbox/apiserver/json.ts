// Structural equality and cached serialisation for stored objects, which are immutable once stored.
import type { KubeObject } from "./types.js";

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual(ra[k], rb[k])) return false;
  return true;
}

const serialised = new WeakMap<KubeObject, string>();

/** JSON of a stored object, computed once: lists of thousands of objects join cached strings. */
export function objectJson(obj: KubeObject): string {
  let json = serialised.get(obj);
  if (json === undefined) {
    json = JSON.stringify(obj);
    serialised.set(obj, json);
  }
  return json;
}
