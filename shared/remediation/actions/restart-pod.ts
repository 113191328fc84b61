// restart_pod: delete one pod so its controller creates a fresh one.
import { z } from "zod";
import type { KubeObject, OwnerReference } from "../../diagnosis/objects.js";
import { defineAction, type ActionContext } from "../action.js";
import { cannotWrite, isPodReady, targetMissing } from "./workload-helpers.js";

const params = z.strictObject({});

type Params = z.infer<typeof params>;

const controllerOf = (pod: KubeObject): OwnerReference | undefined =>
  pod.metadata.ownerReferences?.find((o) => o.controller);

/** Live pods with the same controller (uid), the given pod included. */
async function siblingsOf(ctx: ActionContext, pod: KubeObject, owner: OwnerReference): Promise<KubeObject[]> {
  const pods = await ctx.cluster.list("Pod", pod.metadata.namespace);
  return pods.filter(
    (p) =>
      !p.metadata.deletionTimestamp &&
      p.metadata.ownerReferences?.some((o) => o.controller && o.uid === owner.uid && o.name === owner.name),
  );
}

export const restartPod = defineAction<Params>({
  name: "restart_pod",
  description:
    "Deletes one pod owned by a controller (ReplicaSet, StatefulSet, DaemonSet, Job) so it is recreated fresh.",
  whenToUse:
    "A single pod misbehaves (stuck, leaking, wedged, on a bad node) while its siblings from the same template are healthy.",
  whenNotToUse:
    "All pods of a workload fail the same way (the replacement will too: roll back or fix the spec); bare pods without a controller (refused: nothing recreates them).",
  targetKinds: ["Pod"],
  scope: "pod",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t) {
    const pod = await ctx.cluster.get("Pod", t.namespace, t.name);
    if (!pod) return targetMissing(t);
    const owner = controllerOf(pod);
    if (!owner)
      return {
        ok: false,
        failure: "precondition",
        detail: `Pod ${t.namespace}/${t.name} has no owning controller: deleted, it would not come back`,
      };
    if (pod.metadata.deletionTimestamp)
      return {
        ok: false,
        failure: "precondition",
        detail: `Pod ${t.namespace}/${t.name} is already terminating`,
      };
    if (isPodReady(pod)) {
      const otherReady = (await siblingsOf(ctx, pod, owner)).filter(
        (p) => p.metadata.uid !== pod.metadata.uid && isPodReady(p),
      ).length;
      if (otherReady < ctx.limits.minHealthyReplicas)
        return {
          ok: false,
          failure: "blast_radius",
          detail: `Pod ${t.namespace}/${t.name} is ready and ${owner.kind} ${owner.name} would keep only ${otherReady} ready pod(s), below the minimum of ${ctx.limits.minHealthyReplicas}`,
        };
    }
    return cannotWrite(ctx, "delete") ?? { ok: true, detail: `${owner.kind} ${owner.name} will recreate it` };
  },
  async execute(ctx, t) {
    const pod = await ctx.cluster.get("Pod", t.namespace, t.name);
    const owner = pod && controllerOf(pod);
    const before = pod && owner ? await siblingsOf(ctx, pod, owner) : [];
    const deleted = await ctx.cluster.delete!("Pod", t.namespace, t.name);
    return {
      changes: [
        deleted
          ? `deleted Pod ${t.namespace}/${t.name} (owned by ${owner?.kind} ${owner?.name})`
          : `Pod ${t.namespace}/${t.name} was already gone`,
      ],
      // Not reversible; verify needs the old uid (StatefulSet pods come back under the same name).
      undo: {
        uid: pod?.metadata.uid,
        existing: before.map((p) => p.metadata.uid),
        owner: owner ? { kind: owner.kind, name: owner.name, uid: owner.uid } : null,
      },
    };
  },
  async verify(ctx, t, _p, result) {
    const old = result.undo as
      { uid?: string; existing?: string[]; owner?: OwnerReference | null } | undefined;
    if (!old?.owner) return { ok: false, detail: "the pod's controller is unknown" };
    const pods = await ctx.cluster.list("Pod", t.namespace);
    if (pods.some((p) => p.metadata.uid === old.uid))
      return { ok: false, detail: `Pod ${t.namespace}/${t.name} still exists` };
    const replacements = pods.filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        !old.existing?.includes(p.metadata.uid ?? "") &&
        p.metadata.ownerReferences?.some((o) => o.uid === old.owner?.uid),
    );
    const ready = replacements.find(isPodReady);
    if (ready) return { ok: true, detail: `replacement Pod ${t.namespace}/${ready.metadata.name} is ready` };
    return replacements.length
      ? {
          ok: false,
          detail: `replacement Pod ${t.namespace}/${replacements[0]?.metadata.name} is not ready yet`,
        }
      : { ok: false, detail: `${old.owner.kind} ${old.owner.name} has not created a replacement yet` };
  },
});
