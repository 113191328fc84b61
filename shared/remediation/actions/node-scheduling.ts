// What cordon_node, uncordon_node and drain_node share: reading a node's schedulability and the
// node blast radius (how many nodes Prophet already made unschedulable, and whether any
// schedulable node would be left).
import type { KubeObject } from "../../diagnosis/objects.js";
import {
  remediationAnnotations,
  type ActionContext,
  type ActionTarget,
  type CheckResult,
} from "../action.js";

export const actionAnnotation = "aiops.prophet.io/remediation-action";

export const isUnschedulable = (node: KubeObject) =>
  (node.spec as { unschedulable?: boolean } | undefined)?.unschedulable === true;

/** Nodes that are unschedulable and carry Prophet's action annotation. */
export function cordonedByProphet(nodes: KubeObject[]): KubeObject[] {
  return nodes.filter((n) => isUnschedulable(n) && n.metadata.annotations?.[actionAnnotation]);
}

export async function readNode(ctx: ActionContext, t: ActionTarget) {
  return ctx.cluster.get("Node", undefined, t.name);
}

export const nodeMissing = (t: ActionTarget): CheckResult => ({
  ok: false,
  failure: "target_missing",
  detail: `Node ${t.name} not found`,
});

/**
 * Taking `t` out of scheduling must keep Prophet's cordoned nodes within maxNodesDrained and
 * leave at least one other schedulable node in the cluster.
 */
export async function checkNodeBlastRadius(ctx: ActionContext, t: ActionTarget): Promise<CheckResult> {
  const nodes = await ctx.cluster.list("Node");
  const others = cordonedByProphet(nodes).filter((n) => n.metadata.name !== t.name);
  if (others.length + 1 > ctx.limits.maxNodesDrained)
    return {
      ok: false,
      failure: "blast_radius",
      detail: `Prophet already keeps ${others.length} node(s) unschedulable (${others
        .map((n) => n.metadata.name)
        .join(", ")}); the limit is ${ctx.limits.maxNodesDrained}`,
    };
  const schedulable = nodes.filter((n) => !isUnschedulable(n) && n.metadata.name !== t.name);
  if (schedulable.length === 0)
    return {
      ok: false,
      failure: "blast_radius",
      detail: `Node ${t.name} is the last schedulable node of the cluster`,
    };
  return { ok: true };
}

/** Sets spec.unschedulable (true: cordon; false: removes the field, as `kubectl uncordon` does). */
export async function setUnschedulable(
  ctx: ActionContext,
  name: string,
  unschedulable: boolean,
  action: string,
): Promise<KubeObject> {
  return ctx.cluster.patch!("Node", undefined, name, {
    metadata: { annotations: remediationAnnotations(ctx, action) },
    spec: { unschedulable: unschedulable ? true : null },
  });
}
