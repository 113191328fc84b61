// rollout_restart: `kubectl rollout restart` — a new pod template annotation replaces every pod.
import { z } from "zod";
import { defineAction } from "../action.js";
import {
  cannotWrite,
  describeTarget,
  readTarget,
  rolloutRestart as restart,
  targetMissing,
  verifyRestart,
  workloadKinds,
} from "./workload-helpers.js";

const params = z.strictObject({});

type Params = z.infer<typeof params>;

export const rolloutRestart = defineAction<Params>({
  name: "rollout_restart",
  description:
    "Restarts every pod of a Deployment, StatefulSet or DaemonSet by a rolling update (kubectl rollout restart).",
  whenToUse:
    "Pods stuck in a bad runtime state a fresh start clears (leaked connections, stale DNS or config read at start, a wedged process) while the spec itself is fine.",
  whenNotToUse:
    "A bad image, a crashing command or a missing ConfigMap/Secret (new pods fail the same way — roll back or fix the reference); one bad pod (restart_pod); OOM kills (increase_resources).",
  targetKinds: workloadKinds,
  scope: "workload",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t) {
    const obj = await readTarget(ctx, t);
    if (!obj) return targetMissing(t);
    const spec = (obj.spec ?? {}) as { paused?: boolean; replicas?: number };
    if (spec.paused)
      return {
        ok: false,
        failure: "precondition",
        detail: `${describeTarget(t)} is paused; resume it first`,
      };
    if (spec.replicas === 0)
      return {
        ok: false,
        failure: "precondition",
        detail: `${describeTarget(t)} has 0 replicas: nothing to restart`,
      };
    return cannotWrite(ctx, "patch") ?? { ok: true, detail: `rolling restart of ${describeTarget(t)}` };
  },
  execute: (ctx, t) => restart(ctx, t, "rollout_restart"),
  verify: (ctx, t, _p, result) => verifyRestart(ctx, t, result),
});
