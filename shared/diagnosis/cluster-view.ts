// A read-only view of a cluster: every object of the diagnosed kinds, indexed by kind, namespace
// and name, with owner chains, events per object and (when read live) container log tails. It is
// built from a snapshot List or from a live cluster (shared/kube/snapshot.ts); analyzers only
// ever see this view, so both paths give the same diagnosis.
import { z } from "zod";
import { ProphetError, describeIssues, issuesFromZod } from "../errors.js";
import type { KubeEvent, KubeObject, LabelSelector, OwnerReference } from "./objects.js";
import { ref, selectorMatches } from "./objects.js";

/** The kinds `kubectl get … -A -o json` lists for a diagnosis, in that order. */
export const diagnosedKinds = [
  "Pod",
  "Deployment",
  "ReplicaSet",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "CronJob",
  "Service",
  "Endpoints",
  "EndpointSlice",
  "Ingress",
  "IngressClass",
  "PersistentVolumeClaim",
  "StorageClass",
  "Node",
  "HorizontalPodAutoscaler",
  "PodDisruptionBudget",
  "NetworkPolicy",
  "ConfigMap",
  "Secret",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "Event",
] as const;
export type DiagnosedKind = (typeof diagnosedKinds)[number];

const objectSchema = z
  .object({
    kind: z.string().min(1),
    metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
  })
  .loose();
const listSchema = z.object({ items: z.array(objectSchema) }).loose();

/** Container log tails, keyed by logKey(namespace, pod, container). */
export type LogTails = ReadonlyMap<string, readonly string[]>;

export function logKey(namespace: string, pod: string, container: string): string {
  return `${namespace}/${pod}/${container}`;
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

export class ClusterView {
  private readonly byKind = new Map<string, Map<string, KubeObject>>();
  private readonly eventsByObject = new Map<string, KubeEvent[]>();
  private readonly lists = new Map<string, KubeObject[]>();
  private readonly children = new Map<string, Map<string, KubeObject[]>>();

  constructor(
    items: readonly KubeObject[],
    private readonly logTails: LogTails = new Map(),
  ) {
    for (const obj of items) {
      let m = this.byKind.get(obj.kind);
      if (!m) this.byKind.set(obj.kind, (m = new Map()));
      m.set(key(obj.metadata.namespace, obj.metadata.name), obj);
      if (obj.kind === "Event") {
        const e = obj as KubeEvent;
        const io = e.involvedObject;
        if (!io?.kind || !io.name) continue;
        const k = `${io.kind}/${key(io.namespace, io.name)}`;
        const list = this.eventsByObject.get(k) ?? [];
        list.push(e);
        this.eventsByObject.set(k, list);
      }
    }
    for (const list of this.eventsByObject.values())
      list.sort((a, b) => (a.lastTimestamp ?? "").localeCompare(b.lastTimestamp ?? ""));
  }

  /** Every object of a kind (optionally in one namespace), in namespace/name order. */
  list<T extends KubeObject = KubeObject>(kind: string, namespace?: string): T[] {
    // The view never changes, so each (kind, namespace) list is sorted once; callers get a copy.
    const cacheKey = `${kind}|${namespace ?? "*"}`;
    let out = this.lists.get(cacheKey);
    if (!out) {
      const all = [...(this.byKind.get(kind)?.values() ?? [])];
      out = (
        namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? "") === namespace)
      ).sort((a, b) =>
        key(a.metadata.namespace, a.metadata.name).localeCompare(key(b.metadata.namespace, b.metadata.name)),
      );
      this.lists.set(cacheKey, out);
    }
    return [...out] as T[];
  }

  get<T extends KubeObject = KubeObject>(
    kind: string,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    return this.byKind.get(kind)?.get(key(namespace, name)) as T | undefined;
  }

  has(kind: string, namespace: string | undefined, name: string): boolean {
    return this.get(kind, namespace, name) !== undefined;
  }

  /** Events whose involvedObject is this object (matched by kind, namespace and name). */
  events(obj: Pick<KubeObject, "kind" | "metadata">): KubeEvent[] {
    return this.eventsByObject.get(`${obj.kind}/${key(obj.metadata.namespace, obj.metadata.name)}`) ?? [];
  }

  warnings(obj: Pick<KubeObject, "kind" | "metadata">): KubeEvent[] {
    return this.events(obj).filter((e) => e.type === "Warning");
  }

  logs(namespace: string, pod: string, container: string): readonly string[] | undefined {
    return this.logTails.get(logKey(namespace, pod, container));
  }

  /** The object's controlling owner (or first owner), if it is in the view. */
  owner(obj: KubeObject): KubeObject | undefined {
    const refs = obj.metadata.ownerReferences ?? [];
    const o: OwnerReference | undefined = refs.find((r) => r.controller) ?? refs[0];
    return o ? this.get(o.kind, obj.metadata.namespace, o.name) : undefined;
  }

  /** Owners from the direct one up to the top (Pod → ReplicaSet → Deployment). */
  ownerChain(obj: KubeObject): KubeObject[] {
    const chain: KubeObject[] = [];
    let cur = this.owner(obj);
    while (cur && chain.length < 8) {
      chain.push(cur);
      cur = this.owner(cur);
    }
    return chain;
  }

  /**
   * The top owner as "Kind/namespace/name". An owner missing from the view is still named from
   * the reference, since a pod's ReplicaSet name alone already points at its Deployment.
   */
  parentOf(obj: KubeObject): string | undefined {
    const top = this.ownerChain(obj).at(-1) ?? obj;
    const refs = top.metadata.ownerReferences ?? [];
    const dangling = refs.find((r) => r.controller) ?? refs[0];
    if (dangling)
      // Static pods are owned by their (cluster-scoped) Node; a cluster-scoped object (a Node
      // owned by a Karpenter NodeClaim) has a cluster-scoped owner.
      return dangling.kind === "Node" || !obj.metadata.namespace
        ? `${dangling.kind}/${dangling.name}`
        : `${dangling.kind}/${obj.metadata.namespace}/${dangling.name}`;
    return top === obj ? undefined : ref(top);
  }

  /** Objects directly owned by obj (a Deployment's ReplicaSets, a ReplicaSet's Pods). */
  owned(obj: KubeObject, kind: string): KubeObject[] {
    const ownerKey = `${obj.kind}/${key(obj.metadata.namespace, obj.metadata.name)}`;
    return (this.childrenIndex(kind).get(ownerKey) ?? []).filter((o) =>
      (o.metadata.ownerReferences ?? []).some(
        (r) =>
          r.kind === obj.kind &&
          r.name === obj.metadata.name &&
          (!r.uid || !obj.metadata.uid || r.uid === obj.metadata.uid),
      ),
    );
  }

  /** Objects of a kind grouped by each owner they name, built once per kind. */
  private childrenIndex(kind: string): Map<string, KubeObject[]> {
    let index = this.children.get(kind);
    if (!index) {
      index = new Map();
      for (const o of this.list(kind))
        for (const r of o.metadata.ownerReferences ?? []) {
          const k = `${r.kind}/${key(o.metadata.namespace, r.name)}`;
          const list = index.get(k) ?? [];
          list.push(o);
          index.set(k, list);
        }
      this.children.set(kind, index);
    }
    return index;
  }

  /** Pods in a namespace whose labels match the selector. */
  podsMatching(namespace: string, selector: LabelSelector): KubeObject[] {
    return this.list("Pod", namespace).filter((p) => selectorMatches(selector, p.metadata.labels));
  }

  /** Pods belonging to a workload: owned directly, or through its ReplicaSets. */
  podsOf(workload: KubeObject): KubeObject[] {
    if (workload.kind === "Deployment")
      return this.owned(workload, "ReplicaSet").flatMap((rs) => this.owned(rs, "Pod"));
    if (workload.kind === "CronJob") return this.owned(workload, "Job").flatMap((j) => this.owned(j, "Pod"));
    return this.owned(workload, "Pod");
  }

  namespaces(): string[] {
    const set = new Set<string>();
    for (const m of this.byKind.values())
      for (const o of m.values()) if (o.metadata.namespace) set.add(o.metadata.namespace);
    return [...set].sort();
  }
}

/** Builds a view from a Kubernetes List (what `kubectl get … -o json` prints). */
export function viewFromList(list: unknown, logs?: LogTails): ClusterView {
  const parsed = listSchema.safeParse(list);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error.issues);
    throw new ProphetError("bad_request", `not a Kubernetes List: ${describeIssues(issues)}`, issues);
  }
  return new ClusterView(parsed.data.items as unknown as KubeObject[], logs);
}
