// cordon_node: mark a node unschedulable (`kubectl cordon`); running pods stay where they are.
import { z } from "zod";
import { defineAction, specHash } from "../action.js";
import {
  checkNodeBlastRadius,
  isUnschedulable,
  nodeMissing,
  readNode,
  setUnschedulable,
} from "./node-scheduling.js";

const params = z.strictObject({});

type Params = z.infer<typeof params>;

export const cordonNode = defineAction<Params>({
  name: "cordon_node",
  description:
    "Marks a Node unschedulable (spec.unschedulable) so no new pods land on it; its running pods stay. Undo uncordons it.",
  whenToUse:
    "A node that is flapping, degraded (disk/memory pressure, kernel or network errors) or about to be replaced, where new pods should go elsewhere while it is investigated.",
  whenNotToUse:
    "Pod-level problems (crash loops, bad images) that follow the workload to any node; when the node is already NotReady (the control plane stops scheduling there anyway); to move running pods off (use drain_node).",
  targetKinds: ["Node"],
  scope: "node",
  requiresApproval: true,
  readOnly: false,
  params,
  async check(ctx, t) {
    const node = await readNode(ctx, t);
    if (!node) return nodeMissing(t);
    if (isUnschedulable(node))
      return { ok: false, failure: "precondition", detail: `Node ${t.name} is already cordoned` };
    const radius = await checkNodeBlastRadius(ctx, t);
    return radius.ok ? { ok: true, detail: `cordon Node ${t.name}` } : radius;
  },
  async execute(ctx, t) {
    const before = await readNode(ctx, t);
    const after = await setUnschedulable(ctx, t.name, true, "cordon_node");
    return {
      changes: [`Node ${t.name} cordoned (spec.unschedulable=true)`],
      specHashBefore: specHash(before),
      specHashAfter: specHash(after),
      undo: { wasUnschedulable: before ? isUnschedulable(before) : false },
    };
  },
  async verify(ctx, t) {
    const node = await readNode(ctx, t);
    if (!node) return { ok: false, detail: `Node ${t.name} is gone` };
    return isUnschedulable(node)
      ? { ok: true, detail: `Node ${t.name} is unschedulable` }
      : { ok: false, detail: `Node ${t.name} is still schedulable` };
  },
  async undo(ctx, t, result) {
    if (result.undo?.wasUnschedulable === true)
      return { changes: [`Node ${t.name} was already cordoned; left as is`] };
    await setUnschedulable(ctx, t.name, false, "cordon_node");
    return { changes: [`Node ${t.name} uncordoned`] };
  },
});
