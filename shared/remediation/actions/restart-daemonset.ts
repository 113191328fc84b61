// restart_daemonset: a rolling restart of a DaemonSet's pods, one node at a time.
import { z } from "zod";
import { defineAction } from "../action.js";
import {
  cannotWrite,
  describeTarget,
  readTarget,
  rolloutRestart,
  targetMissing,
  verifyRestart,
} from "./workload-helpers.js";

const params = z.strictObject({});

type Params = z.infer<typeof params>;

export const restartDaemonset = defineAction<Params>({
  name: "restart_daemonset",
  description: "Restarts a DaemonSet's pods node by node (kubectl rollout restart daemonset).",
  whenToUse:
    "Node agents (log shippers, exporters, CNI/CSI daemons) wedged or leaking on several nodes while their spec is fine.",
  whenNotToUse:
    "A single node's agent (restart_pod on that pod); a bad image or config (the new pods fail the same way); Deployments/StatefulSets (rollout_restart).",
  targetKinds: ["DaemonSet"],
  scope: "workload",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t) {
    const ds = await readTarget(ctx, t, ["DaemonSet"]);
    if (!ds) return targetMissing(t);
    const strategy = ((ds.spec ?? {}) as { updateStrategy?: { type?: string } }).updateStrategy?.type;
    if (strategy === "OnDelete")
      return {
        ok: false,
        failure: "precondition",
        detail: `${describeTarget(t)} uses updateStrategy OnDelete: a template change restarts nothing`,
      };
    return cannotWrite(ctx, "patch") ?? { ok: true, detail: `rolling restart of ${describeTarget(t)}` };
  },
  execute: (ctx, t) => rolloutRestart(ctx, t, "restart_daemonset"),
  verify: (ctx, t, _p, result) => verifyRestart(ctx, t, result),
});
