// DaemonSets: fewer ready pods than nodes that should run one (naming the failing pods and
// their nodes), or pods running where they should not.
import type { Analyzer } from "../analyzer.js";
import { listOf, makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import type { PodSpec } from "../objects.js";
import { specOf, statusOf } from "../objects.js";
import { failingPodsOf } from "./workload-pods.js";

interface DaemonSetStatus {
  desiredNumberScheduled?: number;
  currentNumberScheduled?: number;
  numberReady?: number;
  numberUnavailable?: number;
  numberMisscheduled?: number;
}

export const daemonSetAnalyzer: Analyzer = {
  kind: "DaemonSet",
  analyze(view) {
    return view.list("DaemonSet").flatMap((ds) => {
      const s = statusOf<DaemonSetStatus>(ds);
      const out: Finding[] = [];
      const desired = s.desiredNumberScheduled ?? 0;
      const ready = s.numberReady ?? 0;
      if (ready < desired) {
        const pods = view.podsOf(ds);
        const notReady = pods
          .filter((p) => {
            const cs = (p.status as { containerStatuses?: { ready?: boolean }[] } | undefined)
              ?.containerStatuses;
            return !cs || cs.some((c) => !c.ready);
          })
          .map((p) => `${p.metadata.name} on ${specOf<PodSpec>(p).nodeName ?? "no node"}`);
        const failing = failingPodsOf(view, pods);
        out.push(
          makeFinding(
            view,
            ds,
            "PodsNotReady",
            `only ${ready}/${desired} scheduled pods are ready` +
              (notReady.length > 0 ? `; not ready: ${listOf(notReady)}` : "") +
              (failing.length > 0 ? `; ${failing.join("; ")}` : ""),
          ),
        );
      }
      if ((s.numberMisscheduled ?? 0) > 0)
        out.push(
          makeFinding(
            view,
            ds,
            "Misscheduled",
            `${s.numberMisscheduled} pods run on nodes that should not run them`,
          ),
        );
      return out;
    });
  },
};
