// Node health: the kubelet's conditions (Ready, MemoryPressure, DiskPressure, PIDPressure) and
// the node lifecycle controller's reaction when a kubelet stops posting status — Unknown
// conditions, unreachable taints, pods marked not ready, and taint-based eviction after 300 s.
import type { KubeObject } from "../apiserver/types.js";
import { arr, isTerminal, rec, setCondition, type Obj, type SimContext } from "./context.js";
import { taintsOf, type Taint } from "./placement.js";

const EVICT_AFTER_MS = 300_000;
const UNREACHABLE = "node.kubernetes.io/unreachable";

function desiredConditions(ctx: SimContext, name: string, current: Obj[]): Obj[] {
  const h = ctx.nodeHealth.get(name) ?? {};
  const now = ctx.stamp;
  const heartbeat = { lastHeartbeatTime: now };
  if (h.notReady) {
    const unknown = (type: string) => ({
      type,
      status: "Unknown",
      ...heartbeat,
      reason: "NodeStatusUnknown",
      message: "Kubelet stopped posting node status.",
    });
    return ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].reduce(
      (cs, t) => setCondition(cs, unknown(t), now),
      current,
    );
  }
  let cs = current;
  cs = setCondition(
    cs,
    h.memoryPressure
      ? {
          type: "MemoryPressure",
          status: "True",
          ...heartbeat,
          reason: "KubeletHasInsufficientMemory",
          message: "kubelet has insufficient memory available",
        }
      : {
          type: "MemoryPressure",
          status: "False",
          ...heartbeat,
          reason: "KubeletHasSufficientMemory",
          message: "kubelet has sufficient memory available",
        },
    now,
  );
  cs = setCondition(
    cs,
    h.diskPressure
      ? {
          type: "DiskPressure",
          status: "True",
          ...heartbeat,
          reason: "KubeletHasDiskPressure",
          message: "kubelet has disk pressure",
        }
      : {
          type: "DiskPressure",
          status: "False",
          ...heartbeat,
          reason: "KubeletHasNoDiskPressure",
          message: "kubelet has no disk pressure",
        },
    now,
  );
  cs = setCondition(
    cs,
    {
      type: "PIDPressure",
      status: "False",
      ...heartbeat,
      reason: "KubeletHasSufficientPID",
      message: "kubelet has sufficient PID available",
    },
    now,
  );
  cs = setCondition(
    cs,
    {
      type: "Ready",
      status: "True",
      ...heartbeat,
      reason: "KubeletReady",
      message: "kubelet is posting ready status",
    },
    now,
  );
  return cs;
}

function desiredTaints(ctx: SimContext, node: KubeObject): Taint[] {
  const h = ctx.nodeHealth.get(node.metadata.name ?? "") ?? {};
  const managed = new Set([
    UNREACHABLE,
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/not-ready",
  ]);
  const out = taintsOf(node).filter((t) => !managed.has(t.key));
  if (h.notReady) {
    out.push({ key: UNREACHABLE, effect: "NoSchedule" });
    out.push({ key: UNREACHABLE, effect: "NoExecute" });
  }
  if (h.diskPressure) out.push({ key: "node.kubernetes.io/disk-pressure", effect: "NoSchedule" });
  if (h.memoryPressure) out.push({ key: "node.kubernetes.io/memory-pressure", effect: "NoSchedule" });
  return out;
}

const status = (cs: Obj[], type: string) => cs.find((c) => c.type === type)?.status;

export class NodeLifecycle {
  constructor(private readonly ctx: SimContext) {}

  step(): void {
    const ctx = this.ctx;
    let pods: KubeObject[] | undefined;
    for (const node of ctx.store.list(ctx.rt.nodes)) {
      const name = node.metadata.name ?? "";
      const h = ctx.nodeHealth.get(name) ?? {};
      const before = arr(rec(node.status).conditions);
      const after = desiredConditions(ctx, name, before);
      const taints = desiredTaints(ctx, node);
      // Heartbeats only move with a transition: rewriting every node every tick would flood watches.
      const changed = after.some((c) => status(before, String(c.type)) !== c.status);
      let current = node;
      if (JSON.stringify(taints) !== JSON.stringify(taintsOf(node))) {
        current = ctx.store.update(ctx.rt.nodes, {
          ...node,
          spec: { ...rec(node.spec), taints: taints.length ? taints : undefined },
        });
      }
      if (changed) {
        current = ctx.store.update(
          ctx.rt.nodes,
          { ...current, status: { ...rec(current.status), conditions: after } },
          { subresource: "status" },
        );
        this.announce(current, before, after);
      }
      if (h.notReady) {
        h.notReadySince ??= ctx.nowMs;
        ctx.nodeHealth.set(name, h);
        pods ??= ctx.store.list(ctx.rt.pods);
        this.handleUnreachable(current, pods, h.notReadySince);
      } else if (h.notReadySince !== undefined) delete h.notReadySince;
    }
  }

  private announce(node: KubeObject, before: Obj[], after: Obj[]): void {
    const ctx = this.ctx;
    const name = node.metadata.name ?? "";
    const say = (component: string, type: "Normal" | "Warning", what: string) =>
      ctx.event(node, type, what, `Node ${name} status is now: ${what}`, {
        component,
        ...(component === "kubelet" ? { host: name } : {}),
      });
    const was = (t: string) => status(before, t);
    const is = (t: string) => status(after, t);
    if (was("Ready") === "True" && is("Ready") !== "True") say("node-controller", "Normal", "NodeNotReady");
    if (was("Ready") !== undefined && was("Ready") !== "True" && is("Ready") === "True")
      say("kubelet", "Normal", "NodeReady");
    if (was("DiskPressure") !== "True" && is("DiskPressure") === "True")
      say("kubelet", "Normal", "NodeHasDiskPressure");
    if (was("DiskPressure") === "True" && is("DiskPressure") === "False")
      say("kubelet", "Normal", "NodeHasNoDiskPressure");
    if (was("MemoryPressure") !== "True" && is("MemoryPressure") === "True")
      say("kubelet", "Normal", "NodeHasInsufficientMemory");
    if (was("MemoryPressure") === "True" && is("MemoryPressure") === "False")
      say("kubelet", "Normal", "NodeHasSufficientMemory");
  }

  /** Marks the node's pods not ready at once, then evicts those without a matching toleration after tolerationSeconds. */
  private handleUnreachable(node: KubeObject, pods: KubeObject[], since: number): void {
    const ctx = this.ctx;
    const name = node.metadata.name ?? "";
    for (const pod of pods) {
      if (rec(pod.spec).nodeName !== name || isTerminal(pod) || pod.metadata.deletionTimestamp) continue;
      const st = rec(pod.status);
      const conditions = arr(st.conditions);
      if (conditions.find((c) => c.type === "Ready")?.status !== "False") {
        const cs = setCondition(
          conditions,
          { type: "Ready", status: "False", lastProbeTime: null },
          ctx.stamp,
        );
        const containerStatuses = arr(st.containerStatuses).map((c) => ({ ...c, ready: false }));
        ctx.store.update(
          ctx.rt.pods,
          { ...pod, status: { ...st, conditions: cs, containerStatuses } },
          { subresource: "status" },
        );
        ctx.event(pod, "Warning", "NodeNotReady", "Node is not ready", { component: "node-controller" });
      }
      const toleration = arr(rec(pod.spec).tolerations).find(
        (t) =>
          (t.key === UNREACHABLE || (t.operator === "Exists" && !t.key)) &&
          (!t.effect || t.effect === "NoExecute"),
      );
      // Without a toleration the pod gets DefaultTolerationSeconds' 300 s; with one, its own (or forever).
      const seconds = !toleration
        ? EVICT_AFTER_MS / 1000
        : typeof toleration.tolerationSeconds === "number"
          ? toleration.tolerationSeconds
          : Infinity;
      if (ctx.nowMs - since >= seconds * 1000) {
        ctx.event(
          pod,
          "Normal",
          "TaintManagerEviction",
          `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`,
          {
            component: "taint-eviction-controller",
          },
        );
        ctx.store.delete(ctx.rt.pods, pod.metadata.namespace, pod.metadata.name ?? "");
      }
    }
  }
}
