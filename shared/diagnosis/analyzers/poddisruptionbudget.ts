// PodDisruptionBudgets: a budget that currently blocks every voluntary disruption because too
// few selected pods are healthy (drains and upgrades will hang). A budget without conditions or
// with disruptions allowed is fine.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Condition, LabelSelector } from "../objects.js";
import { condition, describeSelector, specOf, statusOf } from "../objects.js";

interface PdbStatus {
  currentHealthy?: number;
  desiredHealthy?: number;
  disruptionsAllowed?: number;
  expectedPods?: number;
  conditions?: Condition[];
}

export const podDisruptionBudgetAnalyzer: Analyzer = {
  kind: "PodDisruptionBudget",
  analyze(view) {
    return view.list("PodDisruptionBudget").flatMap((pdb) => {
      const s = statusOf<PdbStatus>(pdb);
      const allowed = condition(s.conditions, "DisruptionAllowed");
      if (allowed?.status !== "False" || (s.disruptionsAllowed ?? 0) > 0) return [];
      const selector = specOf<{ selector?: LabelSelector }>(pdb).selector ?? {};
      if ((s.currentHealthy ?? 0) >= (s.desiredHealthy ?? 0) && (s.expectedPods ?? 0) > 0) return [];
      return [
        makeFinding(
          view,
          pdb,
          allowed.reason ?? "DisruptionBlocked",
          `budget blocks all voluntary disruptions: ${s.currentHealthy ?? 0} healthy of ${s.desiredHealthy ?? 0} required (${s.expectedPods ?? 0} pods match ${describeSelector(selector) || "everything"})${allowed.message ? `: ${allowed.message.trim()}` : ""}`,
        ),
      ];
    });
  },
};
