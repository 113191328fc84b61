// The read-only tools the LLM decider may call before it decides: an object, its events, a
// container log, a metrics query. Each call is checked against the decision's targets (the model
// reads only what it may act on), and each result is bounded and shown without Secret data.
import { z } from "zod";
import type { KubeEvent, KubeObject } from "../diagnosis/objects.js";
import type { ClusterPort, ObjectRef } from "../ports/cluster.js";
import type { NameHint } from "../ports/llm.js";
import type { ActionTarget } from "./action.js";
import { clip, namesInObject, plainText, type ToolName } from "./llm-prompt.js";

export interface ReadOnlyTools {
  getObject(kind: string, namespace: string, name: string): Promise<KubeObject | undefined>;
  events(ref: ObjectRef): Promise<KubeEvent[]>;
  logs(namespace: string, pod: string, container: string, previous?: boolean): Promise<string>;
  /** A Prometheus instant query; absent when no metrics backend is configured. */
  queryMetrics?(promql: string): Promise<unknown>;
}

/** The tools over a cluster port's reads (its writes are never reachable from here). */
export function readOnlyTools(
  cluster: ClusterPort,
  metrics?: (promql: string) => Promise<unknown>,
): ReadOnlyTools {
  return {
    getObject: (kind, namespace, name) => cluster.get(kind, namespace || undefined, name),
    events: (ref) => cluster.events(ref),
    logs: (namespace, pod, container, previous) =>
      cluster.podLogs(namespace, pod, container, { previous: previous ?? false, tailLines: 200 }),
    ...(metrics ? { queryMetrics: metrics } : {}),
  };
}

const objectArgs = z.object({
  kind: z.string().min(1).max(64),
  namespace: z.string().max(253).default(""),
  name: z.string().min(1).max(253),
});
const logArgs = z.object({
  namespace: z.string().min(1).max(253),
  pod: z.string().min(1).max(253),
  container: z.string().min(1).max(253),
  previous: z.boolean().default(false),
});
const metricArgs = z.object({ promql: z.string().min(1).max(2000) });

export interface ToolOutcome {
  ok: boolean;
  /** The parsed arguments (or the raw ones when they did not parse), for the audit log. */
  args: Record<string, unknown>;
  /** What the model is told: the bounded result, or why there is none. */
  text: string;
  /** Names in the result, to be masked in the following prompts. */
  names: NameHint[];
}

const fail = (args: Record<string, unknown>, text: string): ToolOutcome => ({
  ok: false,
  args,
  text,
  names: [],
});
const notAllowed = "not allowed: tools read only the listed targets";

export async function runTool(
  tools: ReadOnlyTools,
  tool: ToolName,
  raw: Record<string, unknown>,
  scope: readonly ActionTarget[],
  maxChars: number,
): Promise<ToolOutcome> {
  const schema = {
    get_object: objectArgs,
    get_events: objectArgs,
    get_logs: logArgs,
    query_metrics: metricArgs,
  }[tool];
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    return fail(
      raw,
      `invalid args: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const args = parsed.data as Record<string, unknown>;
  const ok = (text: string, names: NameHint[] = []): ToolOutcome => ({
    ok: true,
    args,
    text: clip(text, maxChars),
    names,
  });
  try {
    switch (tool) {
      case "get_object":
      case "get_events": {
        const a = objectArgs.parse(args);
        const target = findTarget(scope, a.kind, a.namespace, a.name);
        if (!target) return fail(args, notAllowed);
        if (tool === "get_events") {
          const events = await tools.events(target);
          return ok(events.slice(-20).map(eventLine).join("\n") || "no events");
        }
        const obj = await tools.getObject(target.kind, target.namespace, target.name);
        return obj ? ok(plainText(shown(obj)), namesInObject(obj)) : fail(args, "not found");
      }
      case "get_logs": {
        const a = logArgs.parse(args);
        if (!findTarget(scope, "Pod", a.namespace, a.pod)) return fail(args, notAllowed);
        const log = await tools.logs(a.namespace, a.pod, a.container, a.previous);
        // The end of a log says why it stopped: keep the tail.
        const text = log.length > maxChars ? `… (truncated)\n${log.slice(-maxChars)}` : log;
        return ok(text || "the log is empty", [{ kind: "Container", value: a.container }]);
      }
      case "query_metrics": {
        const a = metricArgs.parse(args);
        if (!tools.queryMetrics) return fail(args, "not available: no metrics backend is configured");
        if (!metricsInScope(a.promql, scope)) return fail(args, notAllowed);
        const result = await tools.queryMetrics(a.promql);
        return ok(typeof result === "string" ? result : plainText(result));
      }
    }
  } catch (err) {
    return fail(args, `error: ${clip(err instanceof Error ? err.message : String(err), 300)}`);
  }
}

export function findTarget(
  scope: readonly ActionTarget[],
  kind: string,
  namespace: string,
  name: string,
): ActionTarget | undefined {
  return scope.find(
    (t) => t.kind.toLowerCase() === kind.toLowerCase() && t.namespace === namespace && t.name === name,
  );
}

function eventLine(e: KubeEvent): string {
  const count = e.count && e.count > 1 ? ` (x${e.count})` : "";
  return `${e.type ?? "Normal"} ${e.reason ?? ""}: ${e.message ?? ""}${count}`;
}

/** An object as the model may see it: no managed fields, no last-applied copy, no Secret data. */
function shown(obj: KubeObject): Record<string, unknown> {
  const {
    managedFields: _managed,
    annotations = {},
    ...meta
  } = (obj.metadata ?? {}) as KubeObject["metadata"] & { managedFields?: unknown };
  const { "kubectl.kubernetes.io/last-applied-configuration": _applied, ...kept } = annotations;
  if (obj.kind?.toLowerCase() === "secret") {
    const keys = Object.keys({ ...(obj.data ?? {}), ...((obj.stringData as object | undefined) ?? {}) });
    return {
      kind: obj.kind,
      metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels ?? {} },
      type: obj.type,
      keys: keys.length > 0 ? keys : "none",
    };
  }
  const { metadata: _metadata, ...rest } = obj;
  return { ...rest, metadata: { ...meta, ...(Object.keys(kept).length > 0 ? { annotations: kept } : {}) } };
}

const promqlWords = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
  "and",
  "or",
  "unless",
]);

/**
 * A query reads only the targets' namespaces: every selector has `namespace="…"` (= only) naming
 * a target's namespace, and no metric is named without a selector.
 */
export function metricsInScope(promql: string, scope: readonly ActionTarget[]): boolean {
  const namespaces = new Set(scope.map((t) => t.namespace).filter(Boolean));
  const selectors = [...promql.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
  if (selectors.length === 0) return false;
  for (const s of selectors) {
    const matchers = [...s.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].filter((m) => m[1] === "namespace");
    if (matchers.length === 0) return false;
    if (matchers.some((m) => m[2] !== "=" || !namespaces.has(m[3]!))) return false;
  }
  const bare = promql
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "")
    .replace(/"(?:[^"\\]|\\.)*"/g, "");
  for (const m of bare.matchAll(/(?<![\w:.])([A-Za-z_:][\w:]*)(?=(\s*)(.?))/g)) {
    const [, word, , next] = m;
    if (promqlWords.has(word!) || next === "(" || next === "{") continue;
    return false;
  }
  return true;
}
