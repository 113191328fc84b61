// Effectiveness of an executed action after its stabilization window:
//   score = 0.40 health + 0.35 alert resolved + 0.25 metric improvement,
// with the weight of a part that cannot be assessed (no metrics port, a read-only action with no
// health to read) shared out over the others. Drift compares the target's spec hash now with the
// hashes recorded before and after the action: "reverted" means someone (a GitOps controller, a
// human) undid it, which the next decision should know.
import type { KubeObject } from "../diagnosis/objects.js";
import type { ClusterPort } from "../ports/cluster.js";
import type { MetricsPort } from "../ports/metrics.js";
import { metricImprovement } from "./assess-metrics.js";
import { specHash } from "./action.js";
import type { Remediation } from "./store.js";

export interface Assessment {
  score: number | null;
  health: number | null;
  alertResolved: number | null;
  metricImprovement: number | null;
  drift: "none" | "changed" | "reverted" | "unknown";
  notes: string[];
}

export const weights = { health: 0.4, alertResolved: 0.35, metricImprovement: 0.25 };

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (typeof v === "object" && v !== null ? (v as Obj) : {});

function ratio(ready: number, desired: number): number {
  return desired <= 0 ? 1 : Math.max(0, Math.min(1, ready / desired));
}

async function workloadHealth(kube: ClusterPort, kind: string, ns: string, name: string) {
  const obj = await kube.get(kind, ns, name);
  if (!obj) return { health: 0, note: `${kind} ${ns}/${name} is gone` };
  const spec = rec(obj.spec);
  const st = rec(obj.status);
  if (kind === "DaemonSet") {
    const h = ratio(Number(st.numberReady ?? 0), Number(st.desiredNumberScheduled ?? 0));
    return {
      health: h,
      note: `${Number(st.numberReady ?? 0)}/${Number(st.desiredNumberScheduled ?? 0)} ready`,
    };
  }
  const desired = Number(spec.replicas ?? 1);
  const ready = Number(st.readyReplicas ?? 0);
  return { health: ratio(ready, desired), note: `${ready}/${desired} replicas ready` };
}

function nodeReady(node: KubeObject): boolean {
  const conds = (rec(node.status).conditions ?? []) as Obj[];
  return conds.some((c) => c.type === "Ready" && c.status === "True");
}

async function healthOf(
  kube: ClusterPort,
  rem: Remediation,
): Promise<{ health: number | null; note: string }> {
  const t = rem.target!;
  switch (t.kind) {
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
      return workloadHealth(kube, t.kind, t.namespace, t.name);
    case "HorizontalPodAutoscaler": {
      const hpa = await kube.get(t.kind, t.namespace, t.name);
      if (!hpa) return { health: 0, note: "the autoscaler is gone" };
      const ref = rec(rec(hpa.spec).scaleTargetRef);
      const w = await workloadHealth(kube, String(ref.kind), t.namespace, String(ref.name));
      const current = Number(rec(hpa.status).currentReplicas ?? 0);
      const max = Number(rec(hpa.spec).maxReplicas ?? 0);
      const headroom = current < max ? 1 : 0.5;
      return {
        health: w.health * headroom,
        note: `${w.note}; ${current}/${max} replicas${current >= max ? " (still at its maximum)" : ""}`,
      };
    }
    case "Node": {
      const node = await kube.get("Node", undefined, t.name);
      if (!node) return { health: 1, note: "the node is gone (replaced)" };
      if (rem.action === "drain_node" || rem.action === "cordon_node") {
        const pods = (await kube.list("Pod")).filter(
          (p) =>
            rec(p.spec).nodeName === t.name &&
            !(p.metadata.ownerReferences ?? []).some((o) => o.kind === "DaemonSet"),
        );
        const cordoned = rec(node.spec).unschedulable === true;
        const h = (cordoned ? 0.5 : 0) + (rem.action === "cordon_node" || pods.length === 0 ? 0.5 : 0);
        return {
          health: h,
          note: `node ${cordoned ? "cordoned" : "schedulable"}, ${pods.length} workload pods left on it`,
        };
      }
      return { health: nodeReady(node) ? 1 : 0, note: `node ${nodeReady(node) ? "Ready" : "not Ready"}` };
    }
    case "PersistentVolumeClaim": {
      const pvc = await kube.get(t.kind, t.namespace, t.name);
      if (!pvc) return { health: 0, note: "the claim is gone" };
      const want = String(rec(rec(rec(pvc.spec).resources).requests).storage ?? "");
      const have = String(rec(rec(pvc.status).capacity).storage ?? "");
      return { health: want === have ? 1 : 0.5, note: `capacity ${have || "?"} (requested ${want})` };
    }
    case "Pod": {
      const pod = await kube.get("Pod", t.namespace, t.name);
      if (!pod) return { health: 1, note: "the pod was replaced" };
      const conds = (rec(pod.status).conditions ?? []) as Obj[];
      const ready = conds.some((c) => c.type === "Ready" && c.status === "True");
      return { health: ready ? 1 : 0, note: `pod ${ready ? "Ready" : "not Ready"}` };
    }
    default:
      return { health: null, note: `no health model for ${t.kind}` };
  }
}

export async function assessRemediation(
  kube: ClusterPort | undefined,
  rem: Remediation,
  incidentStatus: "firing" | "resolved",
  metrics?: MetricsPort,
  now: Date = new Date(),
): Promise<Assessment> {
  const notes: string[] = [];
  let health: number | null = null;
  let drift: Assessment["drift"] = "unknown";
  if (
    kube &&
    rem.target &&
    !["notify_only", "collect_diagnostics", "audit_logs"].includes(rem.action ?? "")
  ) {
    try {
      const h = await healthOf(kube, rem);
      health = h.health;
      notes.push(h.note);
      const now = specHash(
        await kube.get(rem.target.kind, rem.target.namespace || undefined, rem.target.name),
      );
      if (now && rem.specHashAfter) {
        drift = now === rem.specHashAfter ? "none" : now === rem.specHashBefore ? "reverted" : "changed";
        if (drift !== "none")
          notes.push(drift === "reverted" ? "the change was reverted" : "the spec changed since");
      }
    } catch (err) {
      notes.push(`health not read: ${(err as Error).message}`);
    }
  } else notes.push("no health to assess for this action");
  const alertResolved = incidentStatus === "resolved" ? 1 : 0;
  notes.push(incidentStatus === "resolved" ? "alert resolved" : "alert still firing");
  let metric: number | null = null;
  if (!metrics) notes.push("metrics not assessed (no metrics port): weights redistributed");
  else {
    const m = await metricImprovement(metrics, rem, now);
    metric = m.value;
    notes.push(m.value === null ? `metrics not assessed (${m.note}): weights redistributed` : m.note);
  }
  const metricImprovementValue = metric;
  const parts: [number | null, number][] = [
    [health, weights.health],
    [alertResolved, weights.alertResolved],
    [metricImprovementValue, weights.metricImprovement],
  ];
  const used = parts.filter(([v]) => v !== null) as [number, number][];
  const total = used.reduce((s, [, w]) => s + w, 0);
  const score =
    total > 0 ? Math.round((used.reduce((s, [v, w]) => s + v * w, 0) / total) * 1000) / 1000 : null;
  return { score, health, alertResolved, metricImprovement: metricImprovementValue, drift, notes };
}
