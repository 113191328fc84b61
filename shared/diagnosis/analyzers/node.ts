// Nodes: NotReady (with the kubelet's reason, e.g. CNI not initialised), the standard pressure
// conditions, NetworkUnavailable, and node-problem-detector conditions that are actually firing.
// NPD conditions report problems as status True; a healthy one (False) is never reported, and
// neither is a condition whose status is Unknown without a Ready problem.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import type { Condition } from "../objects.js";
import { statusOf } from "../objects.js";

const pressure: Record<string, string> = {
  MemoryPressure: "memory pressure",
  DiskPressure: "disk pressure",
  PIDPressure: "PID pressure (too many processes)",
  NetworkUnavailable: "network unavailable",
};

/** Condition types whose True status is good news, besides Ready. */
const positive = /^(Ready|.*Healthy|.*Available|.*Ok|.*OK)$/;

export const nodeAnalyzer: Analyzer = {
  kind: "Node",
  analyze(view) {
    return view.list("Node").flatMap((node) => {
      const conditions = statusOf<{ conditions?: Condition[] }>(node).conditions ?? [];
      const out: Finding[] = [];
      for (const c of conditions) {
        const detail = `${c.reason ? `${c.reason}: ` : ""}${(c.message ?? "").trim()}`;
        if (c.type === "Ready") {
          if (c.status !== "True")
            out.push(
              makeFinding(
                view,
                node,
                "NodeNotReady",
                `node is NotReady (Ready=${c.status})${detail ? `: ${detail}` : ""}`,
              ),
            );
          continue;
        }
        const label = pressure[c.type];
        if (label) {
          if (c.status === "True")
            out.push(
              makeFinding(
                view,
                node,
                c.type,
                `node has ${label} (${c.type}=True)${detail ? `: ${detail}` : ""}`,
              ),
            );
          continue;
        }
        if (positive.test(c.type)) {
          if (c.status === "False")
            out.push(
              makeFinding(
                view,
                node,
                c.type,
                `node condition ${c.type} is False${detail ? `: ${detail}` : ""}`,
              ),
            );
          continue;
        }
        if (c.status === "True")
          out.push(
            makeFinding(view, node, c.type, `node condition ${c.type} is True${detail ? `: ${detail}` : ""}`),
          );
      }
      return out;
    });
  },
};
