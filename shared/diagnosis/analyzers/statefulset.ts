// StatefulSets: the governing (headless) Service is missing, a volume claim template names a
// StorageClass that does not exist, or replicas are not ready (naming the pods and why).
import type { Analyzer } from "../analyzer.js";
import { listOf, makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import { specOf, statusOf } from "../objects.js";
import { failingPodsOf } from "./workload-pods.js";

interface StatefulSetSpec {
  replicas?: number;
  serviceName?: string;
  volumeClaimTemplates?: { metadata?: { name?: string }; spec?: { storageClassName?: string } }[];
}
interface StatefulSetStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}

export const statefulSetAnalyzer: Analyzer = {
  kind: "StatefulSet",
  analyze(view) {
    return view.list("StatefulSet").flatMap((sts) => {
      const ns = sts.metadata.namespace ?? "";
      const spec = specOf<StatefulSetSpec>(sts);
      const status = statusOf<StatefulSetStatus>(sts);
      const out: Finding[] = [];
      if (spec.serviceName && !view.has("Service", ns, spec.serviceName)) {
        out.push(
          makeFinding(
            view,
            sts,
            "ServiceNotFound",
            `governing Service ${spec.serviceName} does not exist, so the pods get no stable DNS names (create a headless Service ${spec.serviceName})`,
          ),
        );
      }
      for (const t of spec.volumeClaimTemplates ?? []) {
        const sc = t.spec?.storageClassName;
        if (sc && !view.has("StorageClass", undefined, sc))
          out.push(
            makeFinding(
              view,
              sts,
              "StorageClassNotFound",
              `volume claim template ${t.metadata?.name ?? ""} uses StorageClass ${sc}, which does not exist`,
            ),
          );
      }
      const desired = spec.replicas ?? 1;
      const ready = status.readyReplicas ?? 0;
      if (ready < desired) {
        const pods = view.podsOf(sts);
        const failing = failingPodsOf(view, pods);
        const missing: string[] = [];
        for (let i = 0; i < desired; i++) {
          const name = `${sts.metadata.name}-${i}`;
          const pod = pods.find((p) => p.metadata.name === name);
          if (!pod) missing.push(name);
        }
        const notReady = pods
          .filter((p) => {
            const cs = (p.status as { containerStatuses?: { ready?: boolean }[] } | undefined)
              ?.containerStatuses;
            return !cs || cs.some((c) => !c.ready);
          })
          .map((p) => p.metadata.name);
        if (failing.length > 0 || missing.length > 0)
          out.push(
            makeFinding(
              view,
              sts,
              "ReplicasNotReady",
              `only ${ready}/${desired} replicas are ready` +
                (notReady.length > 0 ? `; not ready: ${listOf(notReady)}` : "") +
                (missing.length > 0 ? `; not created: ${listOf(missing)}` : "") +
                (failing.length > 0 ? `; ${failing.join("; ")}` : ""),
            ),
          );
      }
      return out;
    });
  },
};
