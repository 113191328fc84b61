// Alert → objects: from the object an alert names, walk owners up (Pod → ReplicaSet →
// Deployment) and down (Deployment → its ReplicaSets' pods), then sideways to what those pods
// depend on (their node, claims, the Services selecting them, autoscalers). Findings about any
// of these belong to the alert's incident.
import type { ClusterView } from "./cluster-view.js";
import type { Finding } from "./finding.js";
import type { KubeObject, LabelSelector, PodSpec } from "./objects.js";
import { selectorMatches, specOf } from "./objects.js";

export interface AlertTarget {
  namespace?: string | undefined;
  kind?: string | undefined;
  name?: string | undefined;
  node?: string | undefined;
  instance?: string | undefined;
}

export interface Scope {
  /** "Kind/namespace/name" of every related object ("Kind//name" when cluster-scoped). */
  objects: Set<string>;
  /** What the scope was built from, for the diagnosis' message. */
  basis: "object" | "node" | "namespace" | "none";
  /** Set when the alert named an object the cluster does not have. */
  missing?: string;
}

export function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ""}/${name}`;
}
const keyOf = (o: KubeObject) => objectKey(o.kind, o.metadata.namespace, o.metadata.name);

function descendants(view: ClusterView, obj: KubeObject): KubeObject[] {
  const out: KubeObject[] = [];
  const childKinds: Record<string, string[]> = {
    Deployment: ["ReplicaSet"],
    ReplicaSet: ["Pod"],
    StatefulSet: ["Pod"],
    DaemonSet: ["Pod"],
    Job: ["Pod"],
    CronJob: ["Job"],
  };
  for (const kind of childKinds[obj.kind] ?? [])
    for (const child of view.owned(obj, kind)) out.push(child, ...descendants(view, child));
  return out;
}

function addPodNeighbours(view: ClusterView, pod: KubeObject, into: Map<string, KubeObject>): void {
  const ns = pod.metadata.namespace ?? "";
  const spec = specOf<PodSpec>(pod);
  if (spec.nodeName) {
    const node = view.get("Node", undefined, spec.nodeName);
    if (node) into.set(keyOf(node), node);
  }
  for (const v of spec.volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName;
    const pvc = claim ? view.get("PersistentVolumeClaim", ns, claim) : undefined;
    if (pvc) into.set(keyOf(pvc), pvc);
  }
  for (const svc of view.list("Service", ns)) {
    const sel = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
    if (sel && Object.keys(sel).length > 0 && selectorMatches({ matchLabels: sel }, pod.metadata.labels))
      into.set(keyOf(svc), svc);
  }
  const configMaps = new Set<string>();
  for (const v of spec.volumes ?? []) if (v.configMap) configMaps.add(v.configMap.name);
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const e of c.env ?? [])
      if (e.valueFrom?.configMapKeyRef) configMaps.add(e.valueFrom.configMapKeyRef.name);
    for (const f of c.envFrom ?? []) if (f.configMapRef) configMaps.add(f.configMapRef.name);
  }
  for (const name of configMaps) {
    const cm = view.get("ConfigMap", ns, name);
    if (cm) into.set(keyOf(cm), cm);
  }
  for (const pdb of view.list("PodDisruptionBudget", ns)) {
    const sel = (pdb.spec as { selector?: LabelSelector } | undefined)?.selector;
    if (sel && selectorMatches(sel, pod.metadata.labels)) into.set(keyOf(pdb), pdb);
  }
}

/** The objects an alert's target relates to. */
export function scopeOf(view: ClusterView, target: AlertTarget): Scope {
  const related = new Map<string, KubeObject>();
  const ns = target.namespace;
  if (target.kind && target.name) {
    const clusterScoped = target.kind === "Node";
    const obj = view.get(target.kind, clusterScoped ? undefined : ns, target.name);
    if (obj) {
      related.set(keyOf(obj), obj);
      for (const o of view.ownerChain(obj)) related.set(keyOf(o), o);
      const roots = [obj, ...view.ownerChain(obj)];
      for (const r of roots) for (const d of descendants(view, r)) related.set(keyOf(d), d);
      if (obj.kind === "Service") {
        const sel = (obj.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {};
        if (Object.keys(sel).length > 0)
          for (const p of view.podsMatching(ns ?? "", { matchLabels: sel })) {
            related.set(keyOf(p), p);
            for (const o of view.ownerChain(p)) related.set(keyOf(o), o);
          }
        for (const ing of view.list("Ingress", ns)) related.set(keyOf(ing), ing);
      }
      if (obj.kind === "Node")
        for (const p of view.list("Pod"))
          if (specOf<PodSpec>(p).nodeName === obj.metadata.name) related.set(keyOf(p), p);
      for (const o of [...related.values()]) if (o.kind === "Pod") addPodNeighbours(view, o, related);
      // Autoscalers and budgets aimed at any workload in scope.
      for (const hpa of view.list("HorizontalPodAutoscaler", ns)) {
        const t = (hpa.spec as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)
          ?.scaleTargetRef;
        if (t?.kind && t.name && related.has(objectKey(t.kind, ns, t.name))) related.set(keyOf(hpa), hpa);
      }
      return { objects: new Set(related.keys()), basis: "object" };
    }
    // The named object is gone or was never there: look at its namespace instead.
    const missing = `${target.kind} ${ns ? `${ns}/` : ""}${target.name}`;
    if (ns) return { ...namespaceScope(view, ns), missing };
    return { objects: new Set(), basis: "none", missing };
  }
  if (target.node) {
    const node = view.get("Node", undefined, target.node);
    if (node) return scopeOf(view, { kind: "Node", name: target.node });
  }
  if (ns) return namespaceScope(view, ns);
  return { objects: new Set(), basis: "none" };
}

function namespaceScope(view: ClusterView, ns: string): Scope {
  const objects = new Set<string>();
  for (const kind of namespacedKinds) for (const o of view.list(kind, ns)) objects.add(keyOf(o));
  return { objects, basis: "namespace" };
}

const namespacedKinds = [
  "Pod",
  "Deployment",
  "ReplicaSet",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "CronJob",
  "Service",
  "Ingress",
  "PersistentVolumeClaim",
  "HorizontalPodAutoscaler",
  "PodDisruptionBudget",
  "NetworkPolicy",
  "ConfigMap",
];

export function inScope(findings: readonly Finding[], scope: Scope): Finding[] {
  return findings.filter((f) => scope.objects.has(objectKey(f.kind, f.namespace || undefined, f.name)));
}
