// Fault injection: each fault changes the cluster the way the real incident would (a rollout
// with a bad image, a deleted ConfigMap, a tainted pool) or changes what the simulated
// application/node does (a leak, failing probes, a dead kubelet), and each can be reverted.
import type { ResourceType } from "./apiserver/resources.js";
import type { KubeObject } from "./apiserver/types.js";
import { kubeTime } from "./apiserver/types.js";
import { arr, rec, type Obj, type SimContext } from "./controllers/context.js";
import { claimCapacity } from "./telemetry/volumes.js";
import { z } from "zod";

export const faultKinds = [
  "bad-image",
  "crash-loop",
  "memory-leak",
  "missing-configmap",
  "missing-secret",
  "readiness-failure",
  "liveness-failure",
  "node-not-ready",
  "disk-pressure",
  "insufficient-cpu",
  "untolerated-taint",
  "hpa-max",
  "traffic-spike",
  "pvc-filling",
  "network-intrusion",
  "bad-rollout",
] as const;

export type FaultKind = (typeof faultKinds)[number];

export const FaultRequestSchema = z.object({
  kind: z.enum(faultKinds),
  /**
   * "ns/name" of a Deployment/StatefulSet/DaemonSet (HPA for hpa-max; PersistentVolumeClaim or
   * StatefulSet for pvc-filling), or a node name.
   */
  target: z.string().optional(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});

export type FaultRequest = z.infer<typeof FaultRequestSchema>;

export interface ActiveFault {
  id: string;
  kind: FaultKind;
  target: string;
  injectedAt: string;
  description: string;
}

export class FaultError extends Error {
  constructor(
    readonly code: "not_found" | "bad_request",
    message: string,
  ) {
    super(message);
  }
}

const NODE_FAULTS = new Set<FaultKind>(["node-not-ready", "disk-pressure"]);

export class FaultInjector {
  private readonly active = new Map<string, { fault: ActiveFault; revert: () => void }>();
  private seq = 0;

  constructor(private readonly ctx: SimContext) {}

  list(): ActiveFault[] {
    return [...this.active.values()].map((a) => a.fault);
  }

  inject(raw: FaultRequest): ActiveFault {
    const req = FaultRequestSchema.parse(raw);
    const target = req.target ?? this.defaultTarget(req.kind);
    const { description, revert } = this.apply(req.kind, target, req.params ?? {});
    const fault: ActiveFault = {
      id: `fault-${++this.seq}`,
      kind: req.kind,
      target,
      injectedAt: this.ctx.stamp,
      description,
    };
    this.active.set(fault.id, { fault, revert });
    return fault;
  }

  revert(id: string): ActiveFault {
    const a = this.active.get(id);
    if (!a) throw new FaultError("not_found", `no active fault ${id}`);
    a.revert();
    this.active.delete(id);
    return a.fault;
  }

  private defaultTarget(kind: FaultKind): string {
    const ctx = this.ctx;
    if (NODE_FAULTS.has(kind)) {
      const node = ctx.store
        .list(ctx.rt.nodes)
        .map((n) => n.metadata.name ?? "")
        .sort()[0];
      if (!node) throw new FaultError("not_found", "the cluster has no nodes");
      return node;
    }
    if (kind === "hpa-max") {
      const h = ctx.store.list(ctx.rt.hpas)[0];
      if (!h) throw new FaultError("not_found", "the cluster has no HorizontalPodAutoscaler");
      return `${h.metadata.namespace}/${h.metadata.name}`;
    }
    if (kind === "pvc-filling") {
      const c = ctx.store
        .list(ctx.rt.pvcs)
        .filter((x) => rec(x.status).phase === "Bound")
        .map((x) => `${x.metadata.namespace}/${x.metadata.name}`)
        .sort()[0];
      if (!c) throw new FaultError("not_found", "the cluster has no bound PersistentVolumeClaim");
      return c;
    }
    if (kind === "bad-rollout") return this.servingDeployment();
    const d = ctx.store.list(ctx.rt.deployments).find((x) => !x.metadata.namespace?.startsWith("kube-"));
    if (!d) throw new FaultError("not_found", "the cluster has no Deployment");
    return `${d.metadata.namespace}/${d.metadata.name}`;
  }

  /**
   * bad-rollout's default: the errors show in a Service's request metrics, so a Service-fronted
   * Deployment with a readiness probe (an application behind a load balancer), the largest first.
   */
  private servingDeployment(): string {
    const ctx = this.ctx;
    const replicas = (d: KubeObject) => Number(rec(d.spec).replicas ?? 1);
    const key = (d: KubeObject) => `${d.metadata.namespace}/${d.metadata.name}`;
    const d = ctx.store
      .list(ctx.rt.deployments)
      .filter(
        (x) =>
          !x.metadata.namespace?.startsWith("kube-") &&
          ctx.store.get(ctx.rt.services, x.metadata.namespace, x.metadata.name ?? "") &&
          arr(rec(rec(rec(x.spec).template).spec).containers)[0]?.readinessProbe,
      )
      .sort((a, b) => replicas(b) - replicas(a) || key(a).localeCompare(key(b)))[0];
    if (!d)
      throw new FaultError(
        "not_found",
        "the cluster has no Service-fronted Deployment with a readinessProbe",
      );
    return key(d);
  }

  private workload(target: string): { rt: ResourceType; obj: KubeObject; key: string } {
    const [ns, name] = target.split("/");
    if (!ns || !name) throw new FaultError("bad_request", `target must be namespace/name, got "${target}"`);
    const ctx = this.ctx;
    for (const rt of [ctx.rt.deployments, ctx.rt.statefulsets, ctx.rt.daemonsets]) {
      const obj = ctx.store.get(rt, ns, name);
      if (obj) return { rt, obj, key: `${ns}/${rt.kind}/${name}` };
    }
    throw new FaultError("not_found", `no Deployment, StatefulSet or DaemonSet ${target}`);
  }

  private node(target: string): KubeObject {
    const node = this.ctx.store.get(this.ctx.rt.nodes, undefined, target);
    if (!node) throw new FaultError("not_found", `node "${target}" not found`);
    return node;
  }

  /** Rewrites the first container of the target's pod template (a rollout, as kubectl would do). */
  private patchContainer(target: string, change: (c: Obj) => Obj): () => void {
    const { rt, obj } = this.workload(target);
    const before = structuredClone(rec(rec(obj.spec).template));
    const write = (template: Obj) => {
      const current = this.ctx.store.get(rt, obj.metadata.namespace, obj.metadata.name ?? "");
      if (current) this.ctx.store.update(rt, { ...current, spec: { ...rec(current.spec), template } });
    };
    const tpl = structuredClone(before);
    const spec = rec(tpl.spec);
    const containers = arr(spec.containers);
    containers[0] = change(containers[0] ?? {});
    write({ ...tpl, spec: { ...spec, containers } });
    return () => write(before);
  }

  private restart(target: string): void {
    const { rt, obj } = this.workload(target);
    const tpl = structuredClone(rec(rec(obj.spec).template));
    const meta = rec(tpl.metadata);
    const annotations = { ...rec(meta.annotations), "kubectl.kubernetes.io/restartedAt": this.ctx.stamp };
    this.ctx.store.update(rt, {
      ...obj,
      spec: { ...rec(obj.spec), template: { ...tpl, metadata: { ...meta, annotations } } },
    });
  }

  private behaviour(key: string, change: (b: Obj) => void): () => void {
    const b = { ...(this.ctx.behaviour.get(key) ?? {}) };
    const before = { ...b };
    change(b);
    this.ctx.behaviour.set(key, b);
    return () => this.ctx.behaviour.set(key, before);
  }

  private apply(
    kind: FaultKind,
    target: string,
    params: Record<string, string | number>,
  ): { description: string; revert: () => void } {
    const ctx = this.ctx;
    switch (kind) {
      case "bad-image": {
        let image = "";
        const revert = this.patchContainer(target, (c) => {
          const current = String(c.image);
          const repo = current.replace(/:[^:/]+$/, "");
          image =
            typeof params.image === "string"
              ? params.image
              : `${repo}:${String(params.tag ?? "v0.0.0-does-not-exist")}`;
          ctx.missingImages.add(image);
          return { ...c, image };
        });
        return { description: `rolled out image ${image}, which the registry does not have`, revert };
      }
      case "crash-loop": {
        const code = Number(params.exitCode ?? 1);
        const message = String(
          params.message ?? "panic: runtime error: invalid memory address or nil pointer dereference",
        );
        const revert = this.patchContainer(target, (c) => ({
          ...c,
          command: ["sh", "-c", `echo '${message}'; exit ${code}`],
        }));
        return { description: `rolled out a command that exits with ${code}`, revert };
      }
      case "memory-leak": {
        const { key } = this.workload(target);
        const rate = Number(params.bytesPerMinute ?? 64 * 2 ** 20);
        const revert = this.behaviour(key, (b) => (b.memoryLeakBytesPerMinute = rate));
        return {
          description: `working set grows ${Math.round(rate / 2 ** 20)}Mi per minute until the memory limit`,
          revert,
        };
      }
      case "missing-configmap":
      case "missing-secret": {
        const secret = kind === "missing-secret";
        const { obj } = this.workload(target);
        const ns = obj.metadata.namespace ?? "";
        const name = typeof params.name === "string" ? params.name : referencedConfig(obj, secret);
        if (!name)
          throw new FaultError("bad_request", `${target} references no ${secret ? "Secret" : "ConfigMap"}`);
        const rt = secret ? ctx.rt.secrets : ctx.rt.configmaps;
        const saved = ctx.store.get(rt, ns, name);
        if (saved) ctx.store.delete(rt, ns, name);
        this.restart(target);
        return {
          description: `deleted ${secret ? "Secret" : "ConfigMap"} ${ns}/${name} and restarted ${target}`,
          revert: () => {
            if (!saved || ctx.store.get(rt, ns, name)) return;
            const {
              uid: _u,
              resourceVersion: _r,
              creationTimestamp: _c,
              generation: _g,
              ...meta
            } = saved.metadata;
            ctx.store.create(rt, { ...saved, metadata: meta });
          },
        };
      }
      case "readiness-failure": {
        const { key, obj } = this.workload(target);
        const c = arr(rec(rec(rec(obj.spec).template).spec).containers)[0];
        if (!c?.readinessProbe)
          throw new FaultError("bad_request", `${target} has no readinessProbe to fail`);
        const revert = this.behaviour(key, (b) => (b.readinessFailing = true));
        return { description: "readiness probes answer 503", revert };
      }
      case "liveness-failure": {
        const { key, obj } = this.workload(target);
        const c = arr(rec(rec(rec(obj.spec).template).spec).containers)[0];
        if (!c?.livenessProbe) throw new FaultError("bad_request", `${target} has no livenessProbe to fail`);
        const revert = this.behaviour(key, (b) => (b.livenessFailing = true));
        return { description: "liveness probes answer 500; the kubelet restarts the containers", revert };
      }
      case "node-not-ready":
      case "disk-pressure": {
        const name = this.node(target).metadata.name ?? "";
        const field = kind === "node-not-ready" ? "notReady" : "diskPressure";
        const h = ctx.nodeHealth.get(name) ?? {};
        ctx.nodeHealth.set(name, { ...h, [field]: true });
        return {
          description:
            kind === "node-not-ready"
              ? "the kubelet stopped posting node status"
              : "the node's disk is nearly full",
          revert: () => {
            const cur = { ...(ctx.nodeHealth.get(name) ?? {}) };
            delete cur[field];
            ctx.nodeHealth.set(name, cur);
          },
        };
      }
      case "insufficient-cpu": {
        const cpu = String(params.cpu ?? "96");
        const revert = this.patchContainer(target, (c) => {
          const res = rec(c.resources);
          return { ...c, resources: { ...res, requests: { ...rec(res.requests), cpu } } };
        });
        return { description: `requests ${cpu} CPU per pod, more than any node offers`, revert };
      }
      case "untolerated-taint":
        return this.taintPool(target, params);
      case "hpa-max": {
        const [ns, name] = target.split("/");
        const hpa = ctx.store.get(ctx.rt.hpas, ns, name ?? "");
        if (!hpa) throw new FaultError("not_found", `HorizontalPodAutoscaler ${target} not found`);
        const ref = rec(rec(hpa.spec).scaleTargetRef);
        const revert = this.behaviour(
          `${ns}/${String(ref.kind)}/${String(ref.name)}`,
          (b) => (b.demandFactor = Number(params.factor ?? 20)),
        );
        return { description: "demand far beyond what maxReplicas can serve", revert };
      }
      case "pvc-filling":
        return this.fillClaim(target, params);
      case "network-intrusion": {
        const { key } = this.workload(target);
        const egressIp = String(params.egressIp ?? "185.220.101.47");
        const egressPort = Number(params.egressPort ?? 4444);
        const ports =
          typeof params.ports === "string"
            ? params.ports
                .split(",")
                .map(Number)
                .filter((n) => n > 0 && n < 65536)
            : [
                21, 22, 23, 25, 53, 80, 110, 135, 139, 443, 445, 1433, 2379, 3306, 3389, 5432, 5900, 6379,
                8080, 8443, 9000, 9200, 10250, 27017,
              ];
        const revert = this.behaviour(
          key,
          (b) =>
            (b.networkIntrusion = {
              scanPerSecond: Number(params.scanPerSecond ?? 20),
              ports,
              egressIp,
              egressPort,
              tunnelDomain: String(params.tunnelDomain ?? "t.cdn-telemetry-sync.net"),
            }),
        );
        return {
          description: `a pod of ${target} scans peers on ${ports.length} ports and connects to ${egressIp}:${egressPort}`,
          revert,
        };
      }
      case "bad-rollout":
        return this.badRollout(target, params);
      case "traffic-spike": {
        const { key } = this.workload(target);
        const factor = Number(params.factor ?? 3);
        const revert = this.behaviour(key, (b) => (b.demandFactor = factor));
        return { description: `demand ×${factor}`, revert };
      }
    }
  }

  /**
   * Rolls out an image with a bug: the Deployment gets a new ReplicaSet whose pods replace the old
   * ones at maxSurge/maxUnavailable, and every ready pod running the image answers `errorRatio` of
   * its requests with 500 (default 0.015: 15× the budget burn of a 99.9 % objective). The bug
   * belongs to the image, not the Deployment, so rolling back (`kubectl rollout undo`) ends the
   * errors as the old pods return. Reverting the fault only fixes the image — it leaves the
   * Deployment on it: a revert removes the fault's cause, and the rollback is the remediation.
   */
  private badRollout(
    target: string,
    params: Record<string, string | number>,
  ): { description: string; revert: () => void } {
    const ctx = this.ctx;
    const { rt, obj } = this.workload(target);
    if (rt !== ctx.rt.deployments)
      throw new FaultError("bad_request", `bad-rollout targets a Deployment; ${target} is a ${rt.kind}`);
    const errorRatio = Number(params.errorRatio ?? 0.015);
    if (!(errorRatio > 0 && errorRatio <= 1))
      throw new FaultError("bad_request", `errorRatio must be in (0, 1], got ${String(params.errorRatio)}`);
    const current = String(arr(rec(rec(rec(obj.spec).template).spec).containers)[0]?.image ?? "");
    const image = typeof params.image === "string" ? params.image : badImageOf(current);
    if (image === current)
      throw new FaultError("bad_request", `${target} already runs ${image}: nothing would roll out`);
    this.patchContainer(target, (c) => ({ ...c, image }));
    const before = ctx.badImages.get(image);
    ctx.badImages.set(image, errorRatio);
    return {
      description: `rolled out ${image} (was ${current}); its pods answer ${+(errorRatio * 100).toFixed(4)} % of requests with 500. Revert fixes the image and leaves the Deployment on it (rolling back is the remediation)`,
      revert: () => {
        if (before === undefined) ctx.badImages.delete(image);
        else ctx.badImages.set(image, before);
      },
    };
  }

  /** Grows a claim's usage toward its capacity (target: a claim, or a StatefulSet's first claim). */
  private fillClaim(
    target: string,
    params: Record<string, string | number>,
  ): { description: string; revert: () => void } {
    const ctx = this.ctx;
    const [ns = "", name = ""] = target.split("/");
    let claim = ctx.store.get(ctx.rt.pvcs, ns, name);
    if (!claim && ctx.store.get(ctx.rt.statefulsets, ns, name))
      claim = ctx.store
        .list(ctx.rt.pvcs, { namespace: ns })
        .filter((c) => c.metadata.name?.endsWith(`-${name}-0`))
        .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))[0];
    if (!claim)
      throw new FaultError("not_found", `no PersistentVolumeClaim (or StatefulSet claim) ${target}`);
    const key = `${ns}/${claim.metadata.name}`;
    const capacity = claimCapacity(claim);
    const bytesPerMinute = Number(params.bytesPerMinute ?? Math.ceil(capacity / 8));
    ctx.volumeGrowth.set(key, { since: ctx.nowMs, bytesPerMinute });
    return {
      description: `PersistentVolumeClaim ${key} fills at ${Math.round(bytesPerMinute / 2 ** 20)}Mi per minute`,
      revert: () => ctx.volumeGrowth.delete(key),
    };
  }

  /** Taints the NodePool the target's pods run in (template and existing nodes) and restarts the target. */
  private taintPool(
    target: string,
    params: Record<string, string | number>,
  ): { description: string; revert: () => void } {
    const ctx = this.ctx;
    const { obj } = this.workload(target);
    const poolRt = ctx.store.catalog.forStorageKey("nodepools.karpenter.sh");
    const pods = ctx.store
      .list(ctx.rt.pods, { namespace: obj.metadata.namespace })
      .filter((p) => ctx.workloadOf(p)?.endsWith(`/${obj.metadata.name}`));
    const nodeName = pods.map((p) => rec(p.spec).nodeName).find((n) => typeof n === "string");
    const node = typeof nodeName === "string" ? ctx.store.get(ctx.rt.nodes, undefined, nodeName) : undefined;
    const pool = String(params.pool ?? node?.metadata.labels?.["karpenter.sh/nodepool"] ?? "general");
    const taint = {
      key: String(params.key ?? "maintenance"),
      value: String(params.value ?? "true"),
      effect: "NoSchedule",
    };
    const same = (t: Obj) => t.key === taint.key && t.effect === taint.effect;
    const setTaints = (add: boolean) => {
      for (const n of ctx.store.list(ctx.rt.nodes)) {
        if (n.metadata.labels?.["karpenter.sh/nodepool"] !== pool) continue;
        const taints = arr(rec(n.spec).taints).filter((t) => !same(t));
        if (add) taints.push(taint);
        ctx.store.update(ctx.rt.nodes, {
          ...n,
          spec: { ...rec(n.spec), taints: taints.length ? taints : undefined },
        });
      }
      const p = poolRt && ctx.store.get(poolRt, undefined, pool);
      if (poolRt && p) {
        const tpl = rec(rec(p.spec).template);
        const spec = rec(tpl.spec);
        const taints = arr(spec.taints).filter((t) => !same(t));
        if (add) taints.push(taint);
        ctx.store.update(poolRt, {
          ...p,
          spec: {
            ...rec(p.spec),
            template: { ...tpl, spec: { ...spec, taints: taints.length ? taints : undefined } },
          },
        });
      }
    };
    setTaints(true);
    this.restart(target);
    return {
      description: `tainted NodePool ${pool} and its nodes with ${taint.key}=${taint.value}:NoSchedule at ${kubeTime(ctx.now)}; restarted ${target}`,
      revert: () => setTaints(false),
    };
  }
}

/** The image with its tag replaced by `<tag>-bad` (`:bad` when it has none); a digest is dropped. */
export function badImageOf(image: string): string {
  const name = image.split("@")[0] ?? image;
  return /:[^:/]+$/.test(name) ? `${name}-bad` : `${name}:bad`;
}

function referencedConfig(obj: KubeObject, secret: boolean): string | undefined {
  for (const c of arr(rec(rec(rec(obj.spec).template).spec).containers)) {
    for (const e of arr(c.env)) {
      const ref = rec(rec(e.valueFrom)[secret ? "secretKeyRef" : "configMapKeyRef"]);
      if (typeof ref.name === "string") return ref.name;
    }
    for (const e of arr(c.envFrom)) {
      const ref = rec(e[secret ? "secretRef" : "configMapRef"]);
      if (typeof ref.name === "string") return ref.name;
    }
  }
  return undefined;
}
