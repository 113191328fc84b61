// Reads the source for what each function asks of the Kubernetes API: every call on a cluster port
// (`kube.get("Node", …)`, `ctx.cluster.patch!("Pod", …, { subresource: "status" })`), in every
// module a function's entry point imports at run time. RBAC (rbac.ts) is written by hand so it
// can be reviewed; this scan is how a test proves the hand-written rules cover the code.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

export type PortMethod = "list" | "get" | "patch" | "create" | "delete" | "evict" | "podLogs" | "events";

export interface ClusterCall {
  file: string;
  line: number;
  method: PortMethod;
  /** The kind when the call names it (a literal or a same-file string constant); else undefined. */
  kind?: string;
  subresource?: string;
  /** The source text of the first argument, for calls whose kind is not literal. */
  kindExpr: string;
}

/**
 * Files a module loads at run time, following value imports (not `import type`) and dynamic
 * imports. shared/events/ is not followed: it is the event catalog (schemas), which names every
 * capability's data types and would make every function "reach" every other's code.
 */
export function runtimeModules(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [join(root, entry)];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = readFileSync(file, "utf8");
    const re =
      /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s*"(\.{1,2}\/[^"]+)"|import\(\s*"(\.{1,2}\/[^"]+)"\s*\)/gms;
    for (const m of src.matchAll(re)) {
      const target = join(dirname(file), (m[1] ?? m[2])!).replace(/\.js$/, ".ts");
      if (existsSync(target) && !relative(root, target).startsWith("shared/events/")) stack.push(target);
    }
  }
  return [...seen].map((f) => relative(root, f)).sort();
}

const receiver = /(?:kube|cluster|port|reads|source)[!?]?\s*$/;
/** ListCache.list(port, kind, …): the caches shared by diagnoses of an alert storm. */
const listCache = /(?:[cC]ache|listCacheFor\([^()]*\))[!?]?\s*$/;
const portArg = /^(?:deps\.kube|kube|port|ctx\.cluster|this\.kube)$/;

/** The argument list of the call whose "(" is at `open`, split at top-level commas. */
function callArgs(src: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let cur = "";
  let quote: string | undefined;
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i]!;
    if (quote) {
      cur += c;
      if (c === "\\") cur += src[++i] ?? "";
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    if ("([{".includes(c)) depth++;
    if (")]}".includes(c)) {
      if (depth === 0) break;
      depth--;
    }
    if (c === "," && depth === 0) {
      args.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) args.push(cur.trim());
  return args;
}

export function clusterCalls(file: string): ClusterCall[] {
  const src = readFileSync(join(root, file), "utf8");
  const consts = new Map(
    [...src.matchAll(/const\s+(\w+)\s*=\s*"([A-Z]\w+)"/g)].map((m) => [m[1]!, m[2]!] as const),
  );
  const out: ClusterCall[] = [];
  for (const m of src.matchAll(/\.\s*(list|get|patch|create|delete|evict|podLogs|events)!?\(/g)) {
    const before = src.slice(Math.max(0, m.index - 80), m.index);
    if (!receiver.test(before) && !(m[1] === "list" && listCache.test(before))) continue;
    let args = callArgs(src, m.index + m[0].length - 1);
    if (args[0] && portArg.test(args[0])) args = args.slice(1); // ListCache.list(port, kind, …)
    const method = m[1] as PortMethod;
    const first = args[0] ?? "";
    const literal = /^"(\w+)"$/.exec(first)?.[1] ?? consts.get(first);
    const kind = method === "evict" || method === "podLogs" ? "Pod" : method === "events" ? "Event" : literal;
    const sub = /subresource:\s*"(\w+)"/.exec(args.slice(3).join(","))?.[1];
    out.push({
      file,
      line: src.slice(0, m.index).split("\n").length,
      method,
      ...(kind ? { kind } : {}),
      ...(method === "evict" ? { subresource: "eviction" } : {}),
      ...(method === "podLogs" ? { subresource: "log" } : {}),
      ...(sub ? { subresource: sub } : {}),
      kindExpr: first,
    });
  }
  return out;
}

/** The RBAC verb a port call needs (with PROPHET_KUBE_WATCH a list also needs watch: READ has it). */
export function verbOf(call: Pick<ClusterCall, "method">): string {
  switch (call.method) {
    case "evict":
      return "create";
    case "podLogs":
      return "get";
    case "events":
      return "list";
    default:
      return call.method;
  }
}
