// Deployment → ReplicaSet → Pod reconciliation over the object store (see README.md).
import { createHash } from "node:crypto";
import { KubeApiError } from "../errors.js";
import { isPodReady } from "../disruption.js";
import type { ResourceType } from "../resources.js";
import type { ObjectStore, StoreEvent } from "../store.js";
import { isRecord, kubeTime, type KubeObject, type OwnerReference } from "../types.js";

export interface WorkloadControllerOptions {
  /** Pods are created Running and Ready (a stand-in for scheduler + kubelet). Default false. */
  podsBecomeReady?: boolean;
  /** Unexpected reconcile failures (default: a process warning); the controller keeps running. */
  onError?: (err: unknown) => void;
}

export interface WorkloadController {
  /** Resolves once every queued reconcile has run and no new work was queued. */
  idle(): Promise<void>;
  stop(): void;
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (isRecord(v) ? v : {});
const REVISION = "deployment.kubernetes.io/revision";
const HASH = "pod-template-hash";

function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((o) => o.controller);
}

function ownerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? "",
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * Stable over key order and null fields (Go's zero values), like the pod-template-hash the real
 * controller derives, so a template copied back by `kubectl rollout undo` finds its old ReplicaSet.
 */
export function templateHash(template: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : isRecord(v)
        ? Object.fromEntries(
            Object.keys(v)
              .filter((k) => v[k] !== null && v[k] !== undefined)
              .sort()
              .map((k) => [k, canonical(v[k])]),
          )
        : v;
  const digest = createHash("sha256")
    .update(JSON.stringify(canonical(template)))
    .digest();
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return Array.from(digest.subarray(0, 10), (b) => alphabet[b % alphabet.length]).join("");
}

/** The template without the hash label, as `kubectl rollout undo` copies it back into the Deployment. */
function plainTemplate(template: unknown): Obj {
  const t = structuredClone(rec(template));
  const meta = rec(t.metadata);
  const labels = { ...rec(meta.labels) };
  delete labels[HASH];
  return { ...t, metadata: { ...meta, labels } };
}

export function startWorkloadController(
  store: ObjectStore,
  opts: WorkloadControllerOptions = {},
): WorkloadController {
  const deployRt = store.resource("deployments.apps");
  const rsRt = store.resource("replicasets.apps");
  const podRt = store.resource("pods");
  const queue = new Map<string, { rt: ResourceType; namespace: string; name: string }>();
  let scheduled = false;
  let waiters: (() => void)[] = [];

  const enqueue = (rt: ResourceType, namespace: string | undefined, name: string | undefined) => {
    if (!namespace || !name) return;
    queue.set(`${rt.storageKey}/${namespace}/${name}`, { rt, namespace, name });
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  };

  const onEvent = (e: StoreEvent) => {
    const obj = e.object;
    const ns = obj.metadata.namespace;
    if (e.storageKey === deployRt.storageKey) enqueue(deployRt, ns, obj.metadata.name);
    if (e.storageKey === rsRt.storageKey) enqueue(rsRt, ns, obj.metadata.name);
    const owner = controllerOf(obj);
    if (owner?.kind === "Deployment") enqueue(deployRt, ns, owner.name);
    if (owner?.kind === "ReplicaSet") enqueue(rsRt, ns, owner.name);
  };

  function drain(): void {
    for (let round = 0; queue.size && round < 1000; round++) {
      const [key, item] = queue.entries().next().value as [
        string,
        { rt: ResourceType; namespace: string; name: string },
      ];
      queue.delete(key);
      try {
        if (item.rt === deployRt) reconcileDeployment(item.namespace, item.name);
        else reconcileReplicaSet(item.namespace, item.name);
      } catch (err) {
        // A conflict means another writer got there first; the resulting event queues us again.
        if (!(err instanceof KubeApiError) || ![404, 409].includes(err.code)) {
          (opts.onError ?? ((e) => process.emitWarning(`workload controller: ${String(e)}`)))(err);
        }
      }
    }
    scheduled = false;
    if (queue.size) {
      scheduled = true;
      setImmediate(drain);
      return;
    }
    const done = waiters;
    waiters = [];
    for (const w of done) w();
  }

  function owned(rt: ResourceType, owner: KubeObject): KubeObject[] {
    return store
      .list(rt, { namespace: owner.metadata.namespace })
      .filter((o) => controllerOf(o)?.uid === owner.metadata.uid && !o.metadata.deletionTimestamp);
  }

  function reconcileDeployment(namespace: string, name: string): void {
    const d = store.get(deployRt, namespace, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const spec = rec(d.spec);
    const replicas = typeof spec.replicas === "number" ? spec.replicas : 1;
    const hash = templateHash(plainTemplate(spec.template));
    const sets = owned(rsRt, d);
    const revisions = sets.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0));
    let current = sets.find((rs) => rs.metadata.labels?.[HASH] === hash);
    const nextRevision = String(Math.max(0, ...revisions) + 1);
    if (!current) {
      const template = plainTemplate(spec.template);
      const meta = rec(template.metadata);
      const labels = { ...rec(meta.labels), [HASH]: hash } as Record<string, string>;
      const selector = rec(spec.selector);
      current = store.create(rsRt, {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `${name}-${hash}`,
          namespace,
          labels,
          annotations: { [REVISION]: nextRevision },
          ownerReferences: [ownerRef(d)],
        },
        spec: {
          replicas,
          selector: { ...selector, matchLabels: { ...rec(selector.matchLabels), [HASH]: hash } },
          template: { ...template, metadata: { ...meta, labels } },
        },
      });
    } else {
      const revision = current.metadata.annotations?.[REVISION];
      const isLatest = Number(revision) === Math.max(...revisions);
      const wantSpec = { ...rec(current.spec), replicas };
      const annotations = {
        ...current.metadata.annotations,
        [REVISION]: isLatest ? (revision ?? "1") : nextRevision,
      };
      const next = { ...current, metadata: { ...current.metadata, annotations }, spec: wantSpec };
      current = store.update(rsRt, next);
    }
    const currentUid = current.metadata.uid;
    const limit = typeof spec.revisionHistoryLimit === "number" ? spec.revisionHistoryLimit : 10;
    const old = sets
      .filter((rs) => rs.metadata.uid !== currentUid)
      .sort(
        (a, b) =>
          Number(b.metadata.annotations?.[REVISION] ?? 0) - Number(a.metadata.annotations?.[REVISION] ?? 0),
      );
    old.forEach((rs, i) => {
      if (rec(rs.spec).replicas !== 0) store.update(rsRt, { ...rs, spec: { ...rec(rs.spec), replicas: 0 } });
      else if (i >= limit && !rec(rs.status).replicas) store.delete(rsRt, namespace, rs.metadata.name ?? "");
    });
    const all = owned(rsRt, d);
    const sum = (key: string, sets: KubeObject[]) =>
      sets.reduce((n, rs) => n + Number(rec(rs.status)[key] ?? 0), 0);
    const cur = all.filter((rs) => rs.metadata.uid === currentUid);
    const total = sum("replicas", all);
    const ready = sum("readyReplicas", all);
    const updated = sum("replicas", cur);
    const available = sum("availableReplicas", all);
    const now = kubeTime(store.now());
    const previous = rec(d.status);
    const condition = (type: string, ok: boolean, reason: string, message: string) => {
      const before = (Array.isArray(previous.conditions) ? previous.conditions : [])
        .map(rec)
        .find((c) => c.type === type);
      const status = ok ? "True" : "False";
      const same = before?.status === status && before.reason === reason;
      return {
        type,
        status,
        lastUpdateTime: same ? before.lastUpdateTime : now,
        lastTransitionTime: same ? before.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const complete = updated === replicas && total === replicas && available === replicas;
    const status: Obj = {
      observedGeneration: d.metadata.generation,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      conditions: [
        condition(
          "Available",
          available >= replicas,
          available >= replicas ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
          available >= replicas
            ? "Deployment has minimum availability."
            : "Deployment does not have minimum availability.",
        ),
        condition(
          "Progressing",
          true,
          complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
          complete
            ? `ReplicaSet "${current.metadata.name}" has successfully progressed.`
            : `ReplicaSet "${current.metadata.name}" is progressing.`,
        ),
      ],
    };
    for (const k of ["readyReplicas", "availableReplicas", "unavailableReplicas", "updatedReplicas"])
      if (!status[k]) delete status[k];
    const annotations = {
      ...d.metadata.annotations,
      [REVISION]: current.metadata.annotations?.[REVISION] ?? "1",
    };
    let latest = d;
    if (d.metadata.annotations?.[REVISION] !== annotations[REVISION]) {
      latest = store.update(deployRt, { ...d, metadata: { ...d.metadata, annotations } });
    }
    store.update(deployRt, { ...latest, status }, { subresource: "status" });
  }

  function reconcileReplicaSet(namespace: string, name: string): void {
    const rs = store.get(rsRt, namespace, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const spec = rec(rs.spec);
    const want = typeof spec.replicas === "number" ? spec.replicas : 1;
    const pods = owned(podRt, rs);
    const template = rec(spec.template);
    const meta = rec(template.metadata);
    for (let i = pods.length; i < want; i++) {
      const pod: KubeObject = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          generateName: `${name}-`,
          namespace,
          labels: { ...(rec(meta.labels) as Record<string, string>) },
          ...(isRecord(meta.annotations) ? { annotations: meta.annotations as Record<string, string> } : {}),
          ownerReferences: [ownerRef(rs)],
        },
        spec: structuredClone(rec(template.spec)),
      };
      if (opts.podsBecomeReady) pod.status = runningStatus(pod, kubeTime(store.now()));
      pods.push(store.create(podRt, pod));
    }
    if (pods.length > want) {
      // Delete the least useful first: not ready before ready, newest before oldest.
      const victims = [...pods]
        .sort(
          (a, b) =>
            Number(isPodReady(a)) - Number(isPodReady(b)) ||
            String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
        )
        .slice(0, pods.length - want);
      for (const p of victims) store.delete(podRt, namespace, p.metadata.name ?? "");
    }
    const live = owned(podRt, rs);
    const ready = live.filter(isPodReady).length;
    const status: Obj = {
      replicas: live.length,
      fullyLabeledReplicas: live.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    for (const k of ["readyReplicas", "availableReplicas"]) if (!status[k]) delete status[k];
    store.update(rsRt, { ...rs, status }, { subresource: "status" });
  }

  const unsubscribe = [deployRt, rsRt, podRt].map((rt) => store.subscribe(rt.storageKey, onEvent));
  for (const d of store.list(deployRt)) enqueue(deployRt, d.metadata.namespace, d.metadata.name);
  for (const rs of store.list(rsRt)) enqueue(rsRt, rs.metadata.namespace, rs.metadata.name);

  return {
    idle: () =>
      new Promise<void>((resolve) => {
        if (!scheduled && !queue.size) resolve();
        else waiters.push(resolve);
      }),
    stop: () => {
      for (const u of unsubscribe) u();
      queue.clear();
    },
  };
}

function runningStatus(pod: KubeObject, now: string): Obj {
  const containers = (
    Array.isArray(rec(pod.spec).containers) ? (rec(pod.spec).containers as unknown[]) : []
  ).map(rec);
  return {
    phase: "Running",
    startTime: now,
    conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
      type,
      status: "True",
      lastProbeTime: null,
      lastTransitionTime: now,
    })),
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: "",
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
    })),
  };
}
