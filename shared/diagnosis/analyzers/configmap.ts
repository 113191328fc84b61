// ConfigMaps: a key that a pod reads (env configMapKeyRef, not optional) and the ConfigMap lacks.
// Unused or empty ConfigMaps are not problems (kube-root-ca.crt is in every namespace).
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import type { PodSpec } from "../objects.js";
import { specOf } from "../objects.js";

export const configMapAnalyzer: Analyzer = {
  kind: "ConfigMap",
  analyze(view) {
    const out: Finding[] = [];
    const seen = new Set<string>();
    for (const pod of view.list("Pod")) {
      const ns = pod.metadata.namespace ?? "";
      const spec = specOf<PodSpec>(pod);
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
        for (const e of c.env ?? []) {
          const r = e.valueFrom?.configMapKeyRef;
          if (!r || r.optional) continue;
          const cm = view.get("ConfigMap", ns, r.name);
          if (!cm) continue; // a missing ConfigMap is the pod's finding
          const binary = (cm as { binaryData?: Record<string, string> }).binaryData ?? {};
          if (Object.hasOwn(cm.data ?? {}, r.key) || Object.hasOwn(binary, r.key)) continue;
          const k = `${ns}/${r.name}/${r.key}`;
          if (seen.has(k)) continue;
          seen.add(k);
          out.push(
            makeFinding(
              view,
              cm,
              "KeyNotFound",
              `key ${r.key} is missing, but pod ${pod.metadata.name} (container ${c.name}, env ${e.name}) requires it`,
            ),
          );
        }
    }
    return out;
  },
};
