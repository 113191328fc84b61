// HorizontalPodAutoscalers: a scale target that does not exist (naming it), an autoscaler pinned
// at its maximum while it would scale further, and metrics it cannot read. Sitting at the
// minimum is the quiet state of a well-sized workload and is never reported.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import type { Condition } from "../objects.js";
import { condition, specOf, statusOf } from "../objects.js";

interface HpaSpec {
  scaleTargetRef?: { kind?: string; name?: string; apiVersion?: string };
  minReplicas?: number;
  maxReplicas?: number;
}
interface HpaStatus {
  currentReplicas?: number;
  desiredReplicas?: number;
  conditions?: Condition[];
}

const scalableKinds = new Set(["Deployment", "StatefulSet", "ReplicaSet"]);

export const horizontalPodAutoscalerAnalyzer: Analyzer = {
  kind: "HorizontalPodAutoscaler",
  analyze(view) {
    return view.list("HorizontalPodAutoscaler").flatMap((hpa) => {
      const ns = hpa.metadata.namespace ?? "";
      const spec = specOf<HpaSpec>(hpa);
      const status = statusOf<HpaStatus>(hpa);
      const out: Finding[] = [];
      const target = spec.scaleTargetRef;
      if (target?.name && target.kind) {
        const known = scalableKinds.has(target.kind);
        if (known && !view.has(target.kind, ns, target.name)) {
          out.push(
            makeFinding(
              view,
              hpa,
              "ScaleTargetNotFound",
              `scale target ${target.kind}/${target.name} does not exist in namespace ${ns}, so nothing is autoscaled`,
            ),
          );
          return out;
        }
      }
      const max = spec.maxReplicas;
      const current = status.currentReplicas ?? 0;
      const limited = condition(status.conditions, "ScalingLimited");
      if (max !== undefined && current >= max && (status.desiredReplicas ?? current) >= max) {
        const wantsMore = limited?.status === "True" && limited.reason === "TooManyReplicas";
        out.push(
          makeFinding(
            view,
            hpa,
            "AtMaxReplicas",
            `autoscaler is at its maximum of ${max} replicas${wantsMore ? " and wants more" : ""}: load beyond this is not absorbed (raise maxReplicas or add capacity)${limited?.message ? ` (${limited.message.trim()})` : ""}`,
          ),
        );
      }
      const active = condition(status.conditions, "ScalingActive");
      if (active?.status === "False" && active.reason !== "ScalingDisabled")
        out.push(
          makeFinding(
            view,
            hpa,
            active.reason ?? "ScalingInactive",
            `autoscaler cannot compute a replica count: ${(active.message ?? "").trim()}`,
          ),
        );
      return out;
    });
  },
};
