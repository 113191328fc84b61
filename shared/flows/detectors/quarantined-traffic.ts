// quarantined-traffic: any flow from an identity or pod under quarantine. Forwarded = the
// quarantine leaks (score 1); dropped = it holds, but the workload keeps trying (score 0.5).
import { peerName, portLabel } from "../baseline.js";
import type { AnalyzerConfig } from "./config.js";
import type { FlowDetector } from "./detector.js";
import { actor, address, Suppressor, who } from "./report.js";

export function quarantinedTrafficDetector(config: AnalyzerConfig): FlowDetector {
  const suppressor = new Suppressor(config.suppressFor, config.maxEvidence, config.maxSuppressedKeys);
  return {
    name: "quarantined-traffic",
    needsBaseline: false,
    observe(v, { quarantine }) {
      if (quarantine.identities.size === 0 && quarantine.pods.size === 0) return undefined;
      const flow = v.flow;
      const src = flow.src;
      const byIdentity = quarantine.identities.has(src.identity);
      if (
        !byIdentity &&
        !(
          src.namespace !== undefined &&
          src.pod !== undefined &&
          quarantine.pods.get(src.namespace)?.has(src.pod)
        )
      )
        return undefined;
      const leaked = flow.verdict === "FORWARDED";
      const key = `quarantined-traffic|${byIdentity ? src.identity : `${src.namespace}/${src.pod}`}|${v.dstKey}|${portLabel(v.portProto)}|${leaked ? "forwarded" : "blocked"}`;
      return suppressor.offer(key, flow, () => ({
        detector: "quarantined-traffic",
        ...actor(flow),
        score: leaked ? 1 : 0.5,
        reason: leaked ? "quarantine_breach" : "quarantine_attempt",
        message: `quarantined ${who(src)} ${leaked ? "reached" : "tried to reach"} ${peerName(v.dstKey)} (${address(flow)})${
          leaked ? ": the quarantine is not holding" : `; ${flow.verdict.toLowerCase()}`
        }`,
        evidence: [flow],
        key,
      }));
    },
  };
}
