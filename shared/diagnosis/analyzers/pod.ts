// Pods: scheduling (taints, resources, selectors, gates, claims), evictions, image pulls, crashes
// (OOM with the limit, exit codes, probes), missing config, readiness. See ../pod-problems.ts.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import { podProblems } from "../pod-problems.js";

export const podAnalyzer: Analyzer = {
  kind: "Pod",
  analyze(view) {
    return view.list("Pod").flatMap((pod) =>
      podProblems(view, pod).map((p) =>
        makeFinding(view, pod, p.reason, p.message, {
          logs: p.logs,
          ...(p.metrics ? { metrics: p.metrics } : {}),
          ...(p.events && p.events.length > 0 ? { events: p.events } : {}),
        }),
      ),
    );
  },
};
