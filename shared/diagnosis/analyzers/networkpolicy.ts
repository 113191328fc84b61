// NetworkPolicies: a policy whose pod selector matches no pod (usually a renamed label). An empty
// selector applies to every pod in the namespace (default deny, allow-all) and is intended.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { LabelSelector } from "../objects.js";
import { describeSelector, selectorIsEmpty, specOf } from "../objects.js";

export const networkPolicyAnalyzer: Analyzer = {
  kind: "NetworkPolicy",
  analyze(view) {
    return view.list("NetworkPolicy").flatMap((np) => {
      const selector = specOf<{ podSelector?: LabelSelector }>(np).podSelector;
      if (selectorIsEmpty(selector)) return [];
      const ns = np.metadata.namespace ?? "";
      if (view.podsMatching(ns, selector!).length > 0) return [];
      return [
        makeFinding(
          view,
          np,
          "NoPodsSelected",
          `policy selects no pod: pod selector ${describeSelector(selector!)} matches nothing in namespace ${ns}, so it has no effect`,
        ),
      ];
    });
  },
};
