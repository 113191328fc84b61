// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over plain JSON values.
import { KubeApiError, apiErrors } from "./errors.js";
import { isRecord } from "./types.js";

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function unprocessable(message: string): KubeApiError {
  return new KubeApiError(422, "Invalid", message);
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw apiErrors.badRequest(`invalid JSON pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function cloneContainer(value: unknown): Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return [...value];
  if (isRecord(value)) return { ...value };
  throw unprocessable("JSON patch path traverses a non-container value");
}

/** Copies the containers along the path (copy-on-write) and applies `edit` to the last one. */
function editAt(
  doc: unknown,
  tokens: string[],
  edit: (parent: Record<string, unknown> | unknown[], key: string) => void,
): unknown {
  if (tokens.length === 0) throw unprocessable("JSON patch cannot edit the document root this way");
  const root = cloneContainer(doc);
  let parent: Record<string, unknown> | unknown[] = root;
  for (let i = 0; i < tokens.length - 1; i++) {
    const key = tokens[i] as string;
    const child = Array.isArray(parent) ? parent[Number(key)] : parent[key];
    if (child === undefined)
      throw unprocessable(`JSON patch path not found: /${tokens.slice(0, i + 1).join("/")}`);
    const copy = cloneContainer(child);
    if (Array.isArray(parent)) parent[Number(key)] = copy;
    else parent[key] = copy;
    parent = copy;
  }
  edit(parent, tokens[tokens.length - 1] as string);
  return root;
}

function getAt(doc: unknown, tokens: string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isRecord(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean): number {
  if (forInsert && key === "-") return arr.length;
  const idx = Number(key);
  const max = forInsert ? arr.length : arr.length - 1;
  if (!/^\d+$/.test(key) || idx > max) throw unprocessable(`JSON patch index out of range: ${key}`);
  return idx;
}

function add(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  return editAt(doc, tokens, (parent, key) => {
    if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
    else parent[key] = value;
  });
}

function remove(doc: unknown, tokens: string[]): unknown {
  return editAt(doc, tokens, (parent, key) => {
    if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
    else {
      if (!(key in parent)) throw unprocessable(`JSON patch path not found: /${tokens.join("/")}`);
      delete parent[key];
    }
  });
}

function deepEqualJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw apiErrors.badRequest("a JSON patch must be an array of operations");
  let out = doc;
  for (const raw of ops as JsonPatchOp[]) {
    if (!isRecord(raw) || typeof raw.op !== "string" || typeof raw.path !== "string") {
      throw apiErrors.badRequest(`invalid JSON patch operation: ${JSON.stringify(raw)}`);
    }
    const tokens = parsePointer(raw.path);
    switch (raw.op) {
      case "add":
        out = add(out, tokens, raw.value);
        break;
      case "remove":
        out = remove(out, tokens);
        break;
      case "replace":
        if (getAt(out, tokens) === undefined) throw unprocessable(`JSON patch path not found: ${raw.path}`);
        out = add(remove(out, tokens), tokens, raw.value);
        break;
      case "move": {
        const from = parsePointer(raw.from ?? "");
        const value = getAt(out, from);
        if (value === undefined) throw unprocessable(`JSON patch "from" path not found: ${raw.from}`);
        out = add(remove(out, from), tokens, value);
        break;
      }
      case "copy": {
        const value = getAt(out, parsePointer(raw.from ?? ""));
        if (value === undefined) throw unprocessable(`JSON patch "from" path not found: ${raw.from}`);
        out = add(out, tokens, structuredClone(value));
        break;
      }
      case "test":
        if (!deepEqualJson(getAt(out, tokens), raw.value)) {
          throw unprocessable(`JSON patch test operation failed at ${raw.path}`);
        }
        break;
      default:
        throw apiErrors.badRequest(`unknown JSON patch operation "${raw.op}"`);
    }
  }
  return out;
}
