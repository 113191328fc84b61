// reset_service_mesh: restarts a workload's pods so their mesh sidecars (Istio, Linkerd) start fresh.
import { z } from "zod";
import type { KubeObject } from "../../diagnosis/objects.js";
import { defineAction } from "../action.js";
import {
  cannotWrite,
  containersOf,
  describeTarget,
  podsOf,
  readTarget,
  rolloutRestart,
  targetMissing,
  templateOf,
  verifyRestart,
  workloadKinds,
} from "./workload-helpers.js";

const params = z.strictObject({});

type Params = z.infer<typeof params>;

const sidecarContainers = ["istio-proxy", "linkerd-proxy"];
const sidecarAnnotations = ["sidecar.istio.io/status", "linkerd.io/proxy-version"];

/** The mesh sidecar a pod (or pod template) carries, as "container x" or "annotation y". */
export function meshSidecarOf(pod: {
  metadata?: { annotations?: Record<string, string> };
  spec?: unknown;
}): string | undefined {
  const containers = (pod.spec ?? {}) as {
    containers?: { name: string }[];
    initContainers?: { name: string }[];
  };
  const names = [...(containers.containers ?? []), ...(containers.initContainers ?? [])].map((c) => c.name);
  const container = names.find((n) => sidecarContainers.includes(n));
  if (container) return `container ${container}`;
  const annotation = sidecarAnnotations.find((a) => pod.metadata?.annotations?.[a] !== undefined);
  return annotation ? `annotation ${annotation}` : undefined;
}

async function sidecarOf(ctx: Parameters<typeof podsOf>[0], obj: KubeObject): Promise<string | undefined> {
  for (const pod of await podsOf(ctx, obj)) {
    const found = meshSidecarOf(pod);
    if (found) return `pod ${pod.metadata.name} has ${found}`;
  }
  const tpl = meshSidecarOf({ metadata: templateOf(obj).metadata, spec: { containers: containersOf(obj) } });
  return tpl ? `the pod template has ${tpl}` : undefined;
}

export const resetServiceMesh = defineAction<Params>({
  name: "reset_service_mesh",
  description:
    "Rolling-restarts a meshed workload so every pod gets a fresh Istio/Linkerd sidecar (new certificates, config and connections).",
  whenToUse:
    "Mesh-level failures of one workload: 503 UC/UF from the proxy, mTLS handshake or expired-certificate errors, stale endpoints in the sidecar, a proxy stuck after a control-plane upgrade.",
  whenNotToUse:
    "Workloads without a sidecar (refused); application errors the proxy only relays; mesh-wide control-plane outages (restarting workloads does not fix istiod).",
  targetKinds: workloadKinds,
  scope: "workload",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t) {
    const obj = await readTarget(ctx, t);
    if (!obj) return targetMissing(t);
    const sidecar = await sidecarOf(ctx, obj);
    if (!sidecar)
      return {
        ok: false,
        failure: "precondition",
        detail: `${describeTarget(t)} has no service-mesh sidecar (no istio-proxy/linkerd-proxy container or mesh annotation)`,
      };
    return cannotWrite(ctx, "patch") ?? { ok: true, detail: `${sidecar}; rolling restart` };
  },
  execute: (ctx, t) => rolloutRestart(ctx, t, "reset_service_mesh"),
  verify: (ctx, t, _p, result) => verifyRestart(ctx, t, result),
});
