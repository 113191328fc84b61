// lateral: a new east-west edge (never in the baseline) into a sensitive namespace, or to a port the
// destination identity never served. Judged by the destination's baseline when it has one, so a
// brand-new client workload is caught too, else by the source's; DNS to the cluster DNS is never
// lateral.
import { learnt, portLabel, unpackPort } from "../baseline.js";
import type { AnalyzerConfig } from "./config.js";
import type { FlowDetector } from "./detector.js";
import { actor, address, Suppressor, who } from "./report.js";

export function lateralDetector(config: AnalyzerConfig): FlowDetector {
  const suppressor = new Suppressor(config.suppressFor, config.maxEvidence, config.maxSuppressedKeys);
  const sensitive = new Set(config.lateral.sensitiveNamespaces);
  const dnsServers = new Set(config.dnsServers);
  return {
    name: "lateral",
    needsBaseline: true,
    observe(v) {
      const flow = v.flow;
      if (flow.verdict !== "FORWARDED" || flow.isReply || flow.src.namespace === undefined) return undefined;
      const dstNs = flow.dst.namespace;
      if (dstNs === undefined) return undefined;
      const { src, dst } = v;
      const dstLearnt = dst !== undefined && dst.enforcingSinceMs !== undefined;
      const srcLearnt = src !== undefined && src.enforcingSinceMs !== undefined;
      if (!dstLearnt && !srcLearnt) return undefined;
      if (flow.dstPort === 53 && dnsServers.has(flow.dst.identity)) return undefined;
      // The destination's baseline judges when it has one; a destination still learning (e.g. new
      // in kube-system) is judged by the source's.
      if (learnt(dstLearnt ? v.inEdge : v.outEdge)) return undefined;
      const intoSensitive = sensitive.has(dstNs);
      const newPort = dstLearnt && !dst.served.has(v.portProto);
      if (!intoSensitive && !newPort) return undefined;
      const target = flow.dst.identity;
      const port = portLabel(v.portProto);
      // One finding per source and destination namespace while it lasts: a scan opening hundreds
      // of new edges is one lateral-movement finding (its count and evidence grow), not hundreds.
      const key = `lateral|${flow.src.identity}|${dstNs}|${intoSensitive ? "sensitive" : "new-port"}`;
      return suppressor.offer(key, flow, () => ({
        detector: "lateral",
        ...actor(flow),
        score: intoSensitive && newPort ? 0.9 : intoSensitive ? 0.8 : 0.6,
        reason: intoSensitive ? "new_edge_into_sensitive_namespace" : "new_port_on_destination",
        message:
          `${who(flow.src)} opened a new connection to ${target} (${address(flow)})` +
          (intoSensitive ? ` in sensitive namespace ${dstNs}` : "") +
          (newPort ? `; ${target} never served ${unpackPort(v.portProto).port ? port : flow.protocol}` : ""),
        evidence: [flow],
        key,
      }));
    },
  };
}
