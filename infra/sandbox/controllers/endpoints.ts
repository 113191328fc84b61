// Endpoints and EndpointSlices for every Service with a selector, from the pods it selects:
// ready pods as ready addresses, the rest as not ready, as the endpoint controllers publish them.
import type { KubeObject } from "../apiserver/types.js";
import { arr, isTerminal, rec, type Obj, type SimContext } from "./context.js";
import { isPodReady } from "../apiserver/disruption.js";

const SERVICE_NAME = "kubernetes.io/service-name";

function targetPort(port: Obj, pod: KubeObject): number | undefined {
  const t = port.targetPort ?? port.port;
  if (typeof t === "number") return t;
  for (const c of arr(rec(pod.spec).containers))
    for (const p of arr(c.ports)) if (p.name === t) return Number(p.containerPort);
  return undefined;
}

export function reconcileEndpoints(ctx: SimContext): void {
  for (const svc of ctx.store.list(ctx.rt.services))
    reconcileService(ctx, svc, podsByNamespace(ctx), zones(ctx));
}

/** Reconciles only when pods, services or nodes changed since the last run. */
export class EndpointsController {
  private readonly changed: () => boolean;
  constructor(private readonly ctx: SimContext) {
    this.changed = ctx.changes(["pods", "services", "nodes", "endpoints", "endpointslices.discovery.k8s.io"]);
  }
  step(): void {
    if (!this.changed()) return;
    const pods = podsByNamespace(this.ctx);
    const z = zones(this.ctx);
    for (const svc of this.ctx.store.list(this.ctx.rt.services)) reconcileService(this.ctx, svc, pods, z);
    this.changed(); // our own writes are not news
  }
}

function podsByNamespace(ctx: SimContext): Map<string, KubeObject[]> {
  const podsByNs = new Map<string, KubeObject[]>();
  for (const p of ctx.store.list(ctx.rt.pods)) {
    const ns = p.metadata.namespace ?? "";
    if (!podsByNs.has(ns)) podsByNs.set(ns, []);
    podsByNs.get(ns)?.push(p);
  }
  return podsByNs;
}

function zones(ctx: SimContext): Map<string, string | undefined> {
  return new Map(
    ctx.store
      .list(ctx.rt.nodes)
      .map((n) => [n.metadata.name ?? "", n.metadata.labels?.["topology.kubernetes.io/zone"]]),
  );
}

function reconcileService(
  ctx: SimContext,
  svc: KubeObject,
  podsByNs: Map<string, KubeObject[]>,
  nodeZone: Map<string, string | undefined>,
): void {
  {
    const spec = rec(svc.spec);
    const selector = rec(spec.selector) as Record<string, string>;
    if (!Object.keys(selector).length) return;
    const ns = svc.metadata.namespace ?? "";
    const name = svc.metadata.name ?? "";
    const pods = (podsByNs.get(ns) ?? []).filter(
      (p) =>
        !isTerminal(p) &&
        rec(p.status).podIP &&
        Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v),
    );
    const ports = arr(spec.ports);
    const ref = (p: KubeObject) => ({
      kind: "Pod",
      namespace: ns,
      name: p.metadata.name,
      uid: p.metadata.uid,
    });
    const addr = (p: KubeObject) => ({
      ip: rec(p.status).podIP,
      nodeName: rec(p.spec).nodeName,
      targetRef: ref(p),
    });
    const ready = pods.filter(isPodReady);
    const notReady = pods.filter((p) => !isPodReady(p));
    const first = pods[0];
    const epPorts = ports.map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: first ? targetPort(p, first) : Number(p.port),
      protocol: p.protocol ?? "TCP",
    }));
    const subsets = pods.length
      ? [
          {
            ...(ready.length ? { addresses: ready.map(addr) } : {}),
            ...(notReady.length ? { notReadyAddresses: notReady.map(addr) } : {}),
            ports: epPorts,
          },
        ]
      : undefined;
    const ep: KubeObject = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: {
        name,
        namespace: ns,
        labels: { ...(svc.metadata.labels ?? {}) },
        annotations: { "endpoints.kubernetes.io/last-change-trigger-time": ctx.stamp },
      },
      ...(subsets ? { subsets } : {}),
    };
    const current = ctx.store.get(ctx.rt.endpoints, ns, name);
    if (!current) ctx.store.create(ctx.rt.endpoints, ep);
    else if (JSON.stringify(current.subsets) !== JSON.stringify(ep.subsets))
      ctx.store.update(ctx.rt.endpoints, {
        ...current,
        metadata: { ...current.metadata, annotations: ep.metadata.annotations },
        subsets: ep.subsets,
      } as KubeObject);

    const endpoints = pods.map((p) => ({
      addresses: [rec(p.status).podIP],
      conditions: { ready: isPodReady(p), serving: isPodReady(p), terminating: false },
      nodeName: rec(p.spec).nodeName,
      targetRef: ref(p),
      ...(nodeZone.get(String(rec(p.spec).nodeName))
        ? { zone: nodeZone.get(String(rec(p.spec).nodeName)) }
        : {}),
    }));
    const slicePorts = ports.map((p) => ({
      name: p.name ?? "",
      port: first ? targetPort(p, first) : Number(p.port),
      protocol: p.protocol ?? "TCP",
    }));
    const existing = ctx.store
      .list(ctx.rt.endpointslices, { namespace: ns })
      .find((s) => s.metadata.labels?.[SERVICE_NAME] === name);
    if (!existing) {
      ctx.store.create(ctx.rt.endpointslices, {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
          name: `${name}-${ctx.suffix(5)}`,
          namespace: ns,
          labels: {
            [SERVICE_NAME]: name,
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
          },
          ownerReferences: [
            {
              apiVersion: "v1",
              kind: "Service",
              name,
              uid: svc.metadata.uid ?? "",
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        addressType: "IPv4",
        endpoints,
        ports: slicePorts,
      });
    } else if (
      JSON.stringify(existing.endpoints) !== JSON.stringify(endpoints) ||
      JSON.stringify(existing.ports) !== JSON.stringify(slicePorts)
    ) {
      ctx.store.update(ctx.rt.endpointslices, { ...existing, endpoints, ports: slicePorts });
    }
  }
}
