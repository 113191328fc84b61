// uncordon_node: make a cordoned node schedulable again (`kubectl uncordon`).
import { z } from "zod";
import { defineAction, specHash } from "../action.js";
import { isUnschedulable, nodeMissing, readNode, setUnschedulable } from "./node-scheduling.js";

const params = z.strictObject({});

type Params = z.infer<typeof params>;

export const uncordonNode = defineAction<Params>({
  name: "uncordon_node",
  description: "Makes an unschedulable (cordoned or drained) Node schedulable again. Undo cordons it again.",
  whenToUse:
    "A node that was cordoned or drained (by Prophet or a person) has recovered — Ready, no pressure conditions — and its capacity is needed again.",
  whenNotToUse:
    "The node is still NotReady or under pressure; the node is cordoned on purpose for maintenance or replacement (Karpenter disruption, an upgrade).",
  targetKinds: ["Node"],
  scope: "node",
  requiresApproval: true,
  readOnly: false,
  params,
  async check(ctx, t) {
    const node = await readNode(ctx, t);
    if (!node) return nodeMissing(t);
    if (!isUnschedulable(node))
      return { ok: false, failure: "precondition", detail: `Node ${t.name} is not cordoned` };
    return { ok: true, detail: `uncordon Node ${t.name}` };
  },
  async execute(ctx, t) {
    const before = await readNode(ctx, t);
    const after = await setUnschedulable(ctx, t.name, false, "uncordon_node");
    return {
      changes: [`Node ${t.name} uncordoned (spec.unschedulable removed)`],
      specHashBefore: specHash(before),
      specHashAfter: specHash(after),
      undo: { wasUnschedulable: before ? isUnschedulable(before) : true },
    };
  },
  async verify(ctx, t) {
    const node = await readNode(ctx, t);
    if (!node) return { ok: false, detail: `Node ${t.name} is gone` };
    return isUnschedulable(node)
      ? { ok: false, detail: `Node ${t.name} is still unschedulable` }
      : { ok: true, detail: `Node ${t.name} is schedulable` };
  },
  async undo(ctx, t, result) {
    if (result.undo?.wasUnschedulable === false)
      return { changes: [`Node ${t.name} was schedulable; left as is`] };
    await setUnschedulable(ctx, t.name, true, "uncordon_node");
    return { changes: [`Node ${t.name} cordoned again`] };
  },
});
