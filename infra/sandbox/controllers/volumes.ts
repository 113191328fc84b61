// PersistentVolumeClaim binding: Immediate claims get a dynamically provisioned PV at once;
// WaitForFirstConsumer claims are provisioned in the zone of the node the scheduler picks.
// Bound claims whose request grew are expanded (PV and claim capacity) when their class allows it.
import type { KubeObject } from "../apiserver/types.js";
import { arr, rec, type SimContext } from "./context.js";
import { parseQuantity } from "./quantity.js";

const ZONE = "topology.kubernetes.io/zone";

export type ClaimCheck = { ok: true; zone?: string; waiting: KubeObject[] } | { ok: false; message: string };

function bindingMode(ctx: SimContext, claim: KubeObject): string {
  const cls = rec(claim.spec).storageClassName;
  const sc = typeof cls === "string" ? ctx.store.get(ctx.rt.storageclasses, undefined, cls) : undefined;
  return String(sc?.volumeBindingMode ?? "Immediate");
}

/** The scheduler's VolumeBinding PreFilter: a missing or unbound Immediate claim blocks every node. */
export function checkClaims(ctx: SimContext, pod: KubeObject): ClaimCheck {
  const ns = pod.metadata.namespace;
  let zone: string | undefined;
  const waiting: KubeObject[] = [];
  for (const v of arr(rec(pod.spec).volumes)) {
    const name = rec(v.persistentVolumeClaim).claimName;
    if (typeof name !== "string") continue;
    const claim = ctx.store.get(ctx.rt.pvcs, ns, name);
    if (!claim) return { ok: false, message: `persistentvolumeclaim "${name}" not found` };
    if (rec(claim.status).phase !== "Bound") {
      if (bindingMode(ctx, claim) === "WaitForFirstConsumer") waiting.push(claim);
      else return { ok: false, message: "pod has unbound immediate PersistentVolumeClaims" };
      continue;
    }
    const pv = ctx.store.get(ctx.rt.pvs, undefined, String(rec(claim.spec).volumeName ?? ""));
    const terms = arr(rec(rec(rec(pv?.spec).nodeAffinity).required).nodeSelectorTerms);
    const z = arr(terms[0]?.matchExpressions).find((e) => e.key === ZONE);
    if (z && Array.isArray(z.values)) zone = String(z.values[0]);
  }
  return { ok: true, ...(zone ? { zone } : {}), waiting };
}

/** Provisions a PV for the claim (in `zone` when given) and binds both sides. */
export function provisionClaim(ctx: SimContext, claim: KubeObject, zone?: string): void {
  const spec = rec(claim.spec);
  const name = `pvc-${claim.metadata.uid}`;
  const size = rec(rec(spec.resources).requests).storage ?? "1Gi";
  if (!ctx.store.get(ctx.rt.pvs, undefined, name)) {
    ctx.store.create(ctx.rt.pvs, {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: {
        name,
        annotations: { "pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com" },
      },
      spec: {
        accessModes: spec.accessModes ?? ["ReadWriteOnce"],
        capacity: { storage: size },
        claimRef: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          name: claim.metadata.name,
          namespace: claim.metadata.namespace,
          uid: claim.metadata.uid,
        },
        persistentVolumeReclaimPolicy: "Delete",
        storageClassName: spec.storageClassName,
        volumeMode: "Filesystem",
        csi: {
          driver: "ebs.csi.aws.com",
          volumeHandle: `vol-${claim.metadata.uid?.replace(/-/g, "").slice(0, 17)}`,
        },
        ...(zone
          ? {
              nodeAffinity: {
                required: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: "In", values: [zone] }] }],
                },
              },
            }
          : {}),
      },
      status: { phase: "Bound" },
    });
  }
  const bound = ctx.store.update(ctx.rt.pvcs, {
    ...claim,
    metadata: {
      ...claim.metadata,
      annotations: { ...claim.metadata.annotations, "pv.kubernetes.io/bind-completed": "yes" },
    },
    spec: { ...spec, volumeName: name },
  });
  ctx.store.update(
    ctx.rt.pvcs,
    {
      ...bound,
      status: {
        phase: "Bound",
        accessModes: spec.accessModes ?? ["ReadWriteOnce"],
        capacity: { storage: size },
      },
    },
    { subresource: "status" },
  );
  ctx.event(claim, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${name}`, {
    component: "ebs.csi.aws.com",
  });
}

/** A storageClassName that names no StorageClass ("" and unset mean static/default binding). */
export function missingStorageClass(ctx: SimContext, claim: KubeObject): string | undefined {
  const cls = rec(claim.spec).storageClassName;
  if (typeof cls !== "string" || cls === "") return undefined;
  return ctx.store.get(ctx.rt.storageclasses, undefined, cls) ? undefined : cls;
}

/** The PV controller retries a failed provisioning with back-off; one event per 15 s is close. */
const provisioningRetryMs = 15_000;
const lastProvisioningFailure = new WeakMap<SimContext, Map<string, number>>();

function reportMissingClass(ctx: SimContext, claim: KubeObject, cls: string): void {
  if (rec(claim.status).phase !== "Pending")
    ctx.store.update(ctx.rt.pvcs, { ...claim, status: { phase: "Pending" } }, { subresource: "status" });
  let seen = lastProvisioningFailure.get(ctx);
  if (!seen) lastProvisioningFailure.set(ctx, (seen = new Map()));
  const key = claim.metadata.uid ?? `${claim.metadata.namespace}/${claim.metadata.name}`;
  const now = ctx.now.getTime();
  if (now - (seen.get(key) ?? -Infinity) < provisioningRetryMs) return;
  seen.set(key, now);
  // The persistentvolume-controller's wording when the class does not exist.
  ctx.event(claim, "Warning", "ProvisioningFailed", `storageclass.storage.k8s.io "${cls}" not found`, {
    component: "persistentvolume-controller",
  });
}

/** Binds claims whose class binds Immediately; WaitForFirstConsumer claims wait for the scheduler. */
export function reconcileVolumes(ctx: SimContext): void {
  for (const claim of ctx.store.list(ctx.rt.pvcs)) {
    if (claim.metadata.deletionTimestamp) continue;
    if (rec(claim.status).phase === "Bound") {
      expandClaim(ctx, claim);
      continue;
    }
    const missing = missingStorageClass(ctx, claim);
    if (missing) {
      reportMissingClass(ctx, claim, missing);
      continue;
    }
    if (bindingMode(ctx, claim) === "WaitForFirstConsumer") {
      if (rec(claim.status).phase !== "Pending")
        ctx.store.update(ctx.rt.pvcs, { ...claim, status: { phase: "Pending" } }, { subresource: "status" });
      continue;
    }
    provisionClaim(ctx, claim);
  }
}

/**
 * The external-resizer and the kubelet's filesystem resize in one step: a bound claim whose
 * request exceeds its capacity gets a PV and a claim status of the new size, if its class has
 * allowVolumeExpansion (otherwise the claim stays as it is, with a warning event).
 */
function expandClaim(ctx: SimContext, claim: KubeObject): void {
  const want = rec(rec(rec(claim.spec).resources).requests).storage;
  const have = rec(rec(claim.status).capacity).storage;
  if (typeof want !== "string" || parseQuantity(want) <= parseQuantity(have)) return;
  const cls = rec(claim.spec).storageClassName;
  const sc = typeof cls === "string" ? ctx.store.get(ctx.rt.storageclasses, undefined, cls) : undefined;
  if (sc?.allowVolumeExpansion !== true) {
    ctx.event(
      claim,
      "Warning",
      "ExternalExpanding",
      `storageclass "${String(cls ?? "")}" does not allow volume expansion`,
      { component: "volume_expand" },
    );
    return;
  }
  const pv = ctx.store.get(ctx.rt.pvs, undefined, String(rec(claim.spec).volumeName ?? ""));
  if (pv) ctx.store.update(ctx.rt.pvs, { ...pv, spec: { ...rec(pv.spec), capacity: { storage: want } } });
  ctx.store.update(
    ctx.rt.pvcs,
    {
      ...claim,
      status: { ...rec(claim.status), capacity: { ...rec(rec(claim.status).capacity), storage: want } },
    },
    { subresource: "status" },
  );
  ctx.event(
    claim,
    "Normal",
    "FileSystemResizeSuccessful",
    `MountVolume.NodeExpandVolume succeeded for volume "${String(rec(claim.spec).volumeName ?? "")}"`,
    {
      component: "kubelet",
    },
  );
}
