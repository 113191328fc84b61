// What audit_logs and collect_diagnostics share: the pods behind a target, `kubectl describe`-like
// summaries, event lines, and a size budget for the artifacts stored with a remediation.
import type {
  Condition,
  ContainerState,
  ContainerStatus,
  KubeEvent,
  KubeObject,
  LabelSelector,
  PodSpec,
  PodStatus,
} from "../../diagnosis/objects.js";
import { selectorMatches } from "../../diagnosis/objects.js";
import type { ActionContext, ActionTarget, CheckResult, ExecutionResult } from "../action.js";

/** All artifacts of one execution together stay below this many bytes (UTF-8). */
export const artifactBudgetBytes = 64 * 1024;

type Artifact = NonNullable<ExecutionResult["artifacts"]>[number];

/** The check of both observing actions: a kind they read, and the object exists. */
export async function checkObservable(
  ctx: ActionContext,
  t: ActionTarget,
  action: string,
  kinds: readonly string[],
): Promise<CheckResult> {
  if (!kinds.includes(t.kind))
    return { ok: false, failure: "precondition", detail: `${action} does not handle ${t.kind}` };
  const obj = await ctx.cluster.get(t.kind, t.namespace || undefined, t.name);
  return obj
    ? { ok: true }
    : {
        ok: false,
        failure: "target_missing",
        detail: `${t.kind} ${t.namespace ? `${t.namespace}/` : ""}${t.name} not found`,
      };
}

/** Collects artifacts until the budget is spent; the one that crosses it is cut with a marker. */
export class ArtifactBudget {
  readonly artifacts: Artifact[] = [];
  private left: number;
  truncated = false;

  constructor(bytes = artifactBudgetBytes) {
    this.left = bytes;
  }

  get used(): number {
    return this.artifacts.reduce((n, a) => n + Buffer.byteLength(a.content) + Buffer.byteLength(a.name), 0);
  }

  add(name: string, content: string): boolean {
    const cost = Buffer.byteLength(name) + Buffer.byteLength(content);
    if (cost <= this.left) {
      this.artifacts.push({ name, content });
      this.left -= cost;
      return true;
    }
    this.truncated = true;
    const marker = "\n… truncated (artifact budget)\n";
    const room = this.left - Buffer.byteLength(name) - Buffer.byteLength(marker);
    if (room > 256) {
      // Keep the end of the text: the latest log lines and events matter most.
      const buf = Buffer.from(content);
      const tail = buf
        .subarray(buf.length - room)
        .toString("utf8")
        .replace(/^\uFFFD+/, "");
      this.artifacts.push({ name, content: marker + tail });
    }
    this.left = 0;
    return false;
  }
}

const workloadKinds = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

/** The pods a target stands for (its own pods, a Node's pods, or the pod itself). */
export async function podsOf(ctx: ActionContext, t: ActionTarget, obj: KubeObject): Promise<KubeObject[]> {
  if (t.kind === "Pod") return [obj];
  if (t.kind === "Node")
    return (await ctx.cluster.list("Pod")).filter(
      (p) => (p.spec as PodSpec | undefined)?.nodeName === t.name,
    );
  let selector: LabelSelector | undefined;
  if (workloadKinds.has(t.kind)) selector = (obj.spec as { selector?: LabelSelector } | undefined)?.selector;
  if (t.kind === "Service") {
    const labels = (obj.spec as { selector?: Record<string, string> } | undefined)?.selector;
    selector = labels && Object.keys(labels).length ? { matchLabels: labels } : undefined;
  }
  if (!selector) return [];
  return (await ctx.cluster.list("Pod", t.namespace)).filter((p) =>
    selectorMatches(selector, p.metadata.labels),
  );
}

/** Unhealthy pods first: not ready, restarting, not running. */
export function byTrouble(pods: KubeObject[]): KubeObject[] {
  const score = (p: KubeObject) => {
    const s = (p.status ?? {}) as PodStatus;
    const restarts = (s.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
    const ready = s.conditions?.find((c) => c.type === "Ready")?.status === "True";
    return (ready ? 0 : 1000) + (s.phase === "Running" ? 0 : 500) + restarts;
  };
  return [...pods].sort((a, b) => score(b) - score(a) || a.metadata.name.localeCompare(b.metadata.name));
}

const noisyAnnotations = new Set(["kubectl.kubernetes.io/last-applied-configuration"]);

function kv(record: Record<string, string> | undefined): string {
  const entries = Object.entries(record ?? {}).filter(([k]) => !noisyAnnotations.has(k));
  return entries.length
    ? entries.map(([k, v]) => `${k}=${v.length > 200 ? `${v.slice(0, 200)}…` : v}`).join(", ")
    : "<none>";
}

function state(s: ContainerState | undefined): string {
  if (!s) return "<none>";
  if (s.running) return `Running since ${s.running.startedAt ?? "?"}`;
  if (s.waiting) return `Waiting: ${s.waiting.reason ?? ""} ${s.waiting.message ?? ""}`.trim();
  if (s.terminated)
    return `Terminated: ${s.terminated.reason ?? ""} (exit ${s.terminated.exitCode ?? "?"}) ${s.terminated.message ?? ""}`.trim();
  return "<none>";
}

function conditions(list: Condition[] | undefined): string[] {
  return (list ?? []).map(
    (c) => `  ${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ""})` : ""}`,
  );
}

/** A `kubectl describe`-like text: metadata, the parts of spec and status that explain health. */
export function describe(obj: KubeObject): string {
  const m = obj.metadata;
  const lines = [
    `${obj.kind} ${m.namespace ? `${m.namespace}/` : ""}${m.name}`,
    `Created: ${m.creationTimestamp ?? "?"}${m.deletionTimestamp ? `  Deleting since ${m.deletionTimestamp}` : ""}`,
    `Labels: ${kv(m.labels)}`,
    `Annotations: ${kv(m.annotations)}`,
    `Owners: ${(m.ownerReferences ?? []).map((o) => `${o.kind}/${o.name}`).join(", ") || "<none>"}`,
  ];
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const status = (obj.status ?? {}) as Record<string, unknown>;
  if (obj.kind === "Pod") {
    const ps = spec as PodSpec;
    const st = status as PodStatus;
    lines.push(
      `Node: ${ps.nodeName ?? "<unscheduled>"}  Phase: ${st.phase ?? "?"}${st.reason ? ` (${st.reason})` : ""}`,
    );
    const statuses = new Map<string, ContainerStatus>((st.containerStatuses ?? []).map((c) => [c.name, c]));
    for (const c of ps.containers ?? []) {
      const cs = statuses.get(c.name);
      lines.push(
        `Container ${c.name}: image ${c.image ?? "?"}, ready ${cs?.ready ?? false}, restarts ${cs?.restartCount ?? 0}`,
        `  State: ${state(cs?.state)}`,
        `  Last state: ${state(cs?.lastState)}`,
        `  Requests: ${kv(c.resources?.requests)}  Limits: ${kv(c.resources?.limits)}`,
      );
    }
  } else {
    const tpl = (spec.template as { spec?: PodSpec } | undefined)?.spec;
    for (const c of tpl?.containers ?? [])
      lines.push(
        `Container ${c.name}: image ${c.image ?? "?"}, requests ${kv(c.resources?.requests)}, limits ${kv(c.resources?.limits)}`,
      );
    const numbers = Object.entries({ ...pick(spec, ["replicas", "unschedulable"]), ...status }).filter(
      ([, v]) => typeof v === "number" || typeof v === "boolean" || typeof v === "string",
    );
    if (numbers.length) lines.push(`Status: ${numbers.map(([k, v]) => `${k}=${String(v)}`).join(", ")}`);
    const taints = (spec.taints as { key: string; value?: string; effect: string }[] | undefined) ?? [];
    if (taints.length)
      lines.push(`Taints: ${taints.map((x) => `${x.key}=${x.value ?? ""}:${x.effect}`).join(", ")}`);
  }
  const conds = conditions(status.conditions as Condition[] | undefined);
  if (conds.length) lines.push("Conditions:", ...conds);
  return lines.join("\n");
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

export const eventTime = (e: KubeEvent) =>
  e.lastTimestamp ??
  e.firstTimestamp ??
  (e as { eventTime?: string }).eventTime ??
  e.metadata.creationTimestamp ??
  "";

export function eventLine(e: KubeEvent): string {
  const o = e.involvedObject ?? {};
  const count = (e.count ?? 1) > 1 ? ` (x${e.count})` : "";
  return `${eventTime(e)} ${e.type ?? "Normal"} ${o.kind ?? "?"}/${o.name ?? "?"} ${e.reason ?? ""}${count}: ${e.message ?? ""}`;
}

/** Events about each object, oldest first. */
export async function eventsAbout(ctx: ActionContext, objects: KubeObject[]): Promise<KubeEvent[]> {
  const all: KubeEvent[] = [];
  for (const o of objects)
    all.push(
      ...(await ctx.cluster.events({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name })),
    );
  return all.sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
}
