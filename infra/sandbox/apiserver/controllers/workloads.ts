// Deployment → ReplicaSet → Pod reconciliation over the object store (see README.md).
import { createHash } from "node:crypto";
import { KubeApiError } from "../errors.js";
import { isPodReady } from "../disruption.js";
import { matcherFromSpec, type LabelSelectorSpec } from "../selectors.js";
import type { ResourceType } from "../resources.js";
import type { ObjectStore, StoreEvent } from "../store.js";
import { isRecord, kubeTime, type KubeObject, type OwnerReference } from "../types.js";

export interface WorkloadControllerOptions {
  /** Pods are created Running and Ready (a stand-in for scheduler + kubelet). Default false. */
  podsBecomeReady?: boolean;
  /** Unexpected reconcile failures (default: a process warning); the controller keeps running. */
  onError?: (err: unknown) => void;
  /** Reconcile only when `flush()` is called (a simulation loop drives it deterministically). */
  manual?: boolean;
}

export interface WorkloadController {
  /** Resolves once every queued reconcile has run and no new work was queued. */
  idle(): Promise<void>;
  /** Runs every queued reconcile now, synchronously. */
  flush(): void;
  /** Queues every Deployment (a periodic resync: progress deadlines pass without any event). */
  resync(): void;
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
    if (!scheduled && !opts.manual) {
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
    if (queue.size && !opts.manual) {
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
    const currentHash = current?.metadata.uid;
    const others = sets.filter((rs) => rs.metadata.uid !== currentHash);
    const newReplicas = rolloutTarget(spec, replicas, current, others);
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
          replicas: newReplicas,
          selector: { ...selector, matchLabels: { ...rec(selector.matchLabels), [HASH]: hash } },
          template: { ...template, metadata: { ...meta, labels } },
        },
      });
    } else {
      const revision = current.metadata.annotations?.[REVISION];
      const isLatest = Number(revision) === Math.max(...revisions);
      const wantSpec = { ...rec(current.spec), replicas: newReplicas };
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
    const oldTargets = scaleDownOld(spec, replicas, current, old);
    old.forEach((rs, i) => {
      const want = oldTargets.get(rs.metadata.uid ?? "") ?? 0;
      if (rec(rs.spec).replicas !== want)
        store.update(rsRt, { ...rs, spec: { ...rec(rs.spec), replicas: want } });
      else if (want === 0 && i >= limit && !rec(rs.status).replicas)
        store.delete(rsRt, namespace, rs.metadata.name ?? "");
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
    const condition = (type: string, ok: boolean, reason: string, message: string, touched = false) => {
      const before = (Array.isArray(previous.conditions) ? previous.conditions : [])
        .map(rec)
        .find((c) => c.type === type);
      const status = ok ? "True" : "False";
      const same = before?.status === status && before.reason === reason;
      return {
        type,
        status,
        lastUpdateTime: same && !touched ? before.lastUpdateTime : now,
        lastTransitionTime: same ? before.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const complete = updated === replicas && total === replicas && available === replicas;
    // Available means at least replicas - maxUnavailable pods serve (all of them for Recreate).
    const minAvailable =
      rec(spec.strategy).type === "Recreate"
        ? replicas
        : replicas - rollingLimits(spec, replicas).unavailable;
    // Progress is a change in updated or available pods; none for progressDeadlineSeconds stalls the rollout.
    const progressed =
      Number(previous.updatedReplicas ?? 0) !== updated ||
      Number(previous.availableReplicas ?? 0) !== available ||
      previous.observedGeneration !== d.metadata.generation;
    const prevProgressing = (Array.isArray(previous.conditions) ? previous.conditions : [])
      .map(rec)
      .find((c) => c.type === "Progressing");
    const deadlineMs = Number(spec.progressDeadlineSeconds ?? 600) * 1000;
    const stalled =
      !complete &&
      !progressed &&
      prevProgressing !== undefined &&
      prevProgressing.reason !== "NewReplicaSetAvailable" &&
      store.now().getTime() - Date.parse(String(prevProgressing.lastUpdateTime)) > deadlineMs;
    const progressing = complete
      ? condition(
          "Progressing",
          true,
          "NewReplicaSetAvailable",
          `ReplicaSet "${current.metadata.name}" has successfully progressed.`,
        )
      : stalled || (prevProgressing?.reason === "ProgressDeadlineExceeded" && !progressed)
        ? condition(
            "Progressing",
            false,
            "ProgressDeadlineExceeded",
            `ReplicaSet "${current.metadata.name}" has timed out progressing.`,
          )
        : condition(
            "Progressing",
            true,
            "ReplicaSetUpdated",
            `ReplicaSet "${current.metadata.name}" is progressing.`,
            progressed,
          );
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
          available >= minAvailable,
          available >= minAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
          available >= minAvailable
            ? "Deployment has minimum availability."
            : "Deployment does not have minimum availability.",
        ),
        progressing,
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
    // A pod relabelled out of the selector is released (its ownerReference dropped), as the real
    // controller does; the ReplicaSet then creates a replacement (quarantine relies on this).
    const matches = matcherFromSpec(spec.selector as LabelSelectorSpec | undefined);
    const pods = owned(podRt, rs).filter((p) => {
      if (matches(p.metadata.labels)) return true;
      const { ownerReferences = [], ...meta } = p.metadata;
      const others = ownerReferences.filter((o) => o.uid !== rs.metadata.uid);
      store.update(podRt, { ...p, metadata: others.length ? { ...meta, ownerReferences: others } : meta });
      return false;
    });
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
        if (opts.manual) drain();
        if (!scheduled && !queue.size) resolve();
        else waiters.push(resolve);
      }),
    resync: () => {
      for (const d of store.list(deployRt)) enqueue(deployRt, d.metadata.namespace, d.metadata.name);
    },
    flush: () => {
      // drain() stops after 1000 reconciles; a large cluster may need several rounds.
      for (let i = 0; i < 100 && queue.size && !scheduled; i++) drain();
    },
    stop: () => {
      for (const u of unsubscribe) u();
      queue.clear();
    },
  };
}

const specReplicas = (rs: KubeObject) => Number(rec(rs.spec).replicas ?? 0);
// Capped by spec: a ReplicaSet just scaled down may still report its old available count.
const availableReplicas = (rs: KubeObject) =>
  Math.min(specReplicas(rs), Number(rec(rs.status).availableReplicas ?? 0));

/** intstr against a total: percentages round up for surge and down for unavailability, as the controller does. */
function intOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.endsWith("%")) {
    const exact = (Number(value.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  return Number(value ?? 0) || 0;
}

function rollingLimits(spec: Obj, replicas: number): { surge: number; unavailable: number } {
  const ru = rec(rec(spec.strategy).rollingUpdate);
  const surge = intOrPercent(ru.maxSurge ?? "25%", replicas, true);
  const unavailable = intOrPercent(ru.maxUnavailable ?? "25%", replicas, false);
  return { surge, unavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

/**
 * The new ReplicaSet's size for this sync. RollingUpdate grows it only as far as maxSurge allows
 * over the pods that still exist; Recreate waits until the old ReplicaSets are scaled to zero.
 */
function rolloutTarget(
  spec: Obj,
  replicas: number,
  current: KubeObject | undefined,
  others: KubeObject[],
): number {
  const oldTotal = others.reduce((n, rs) => n + specReplicas(rs), 0);
  if (oldTotal === 0) return replicas;
  const have = current ? specReplicas(current) : 0;
  if (rec(spec.strategy).type === "Recreate") return have;
  const { surge } = rollingLimits(spec, replicas);
  const room = replicas + surge - (oldTotal + have);
  return Math.min(replicas, Math.max(have, have + room));
}

/**
 * Old ReplicaSets' sizes: Recreate drops them at once; RollingUpdate first removes their
 * unavailable pods, then available ones only while maxUnavailable still holds.
 */
function scaleDownOld(
  spec: Obj,
  replicas: number,
  current: KubeObject,
  old: KubeObject[],
): Map<string, number> {
  const want = new Map(old.map((rs) => [rs.metadata.uid ?? "", specReplicas(rs)]));
  if (rec(spec.strategy).type === "Recreate") {
    for (const k of want.keys()) want.set(k, 0);
    return want;
  }
  const { unavailable } = rollingLimits(spec, replicas);
  const minAvailable = replicas - unavailable;
  const oldestFirst = [...old].sort((a, b) =>
    String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)),
  );
  const total = specReplicas(current) + old.reduce((n, rs) => n + specReplicas(rs), 0);
  const newUnavailable = Math.max(0, specReplicas(current) - availableReplicas(current));
  let budget = total - minAvailable - newUnavailable;
  for (const rs of oldestFirst) {
    if (budget <= 0) break;
    const unhealthy = Math.max(0, specReplicas(rs) - availableReplicas(rs));
    const cut = Math.min(budget, unhealthy);
    want.set(rs.metadata.uid ?? "", specReplicas(rs) - cut);
    budget -= cut;
  }
  const available = availableReplicas(current) + old.reduce((n, rs) => n + availableReplicas(rs), 0);
  let canScaleDown = available - minAvailable;
  for (const rs of oldestFirst) {
    if (canScaleDown <= 0) break;
    const key = rs.metadata.uid ?? "";
    const cut = Math.min(want.get(key) ?? 0, canScaleDown);
    want.set(key, (want.get(key) ?? 0) - cut);
    canScaleDown -= cut;
  }
  return want;
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
