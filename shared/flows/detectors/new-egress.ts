// new-egress: an enforcing identity sends traffic out of the cluster to a destination (DNS name,
// or /24 · /64 when unnamed) and port its baseline never showed. An IP the identity reached by
// name before counts as known under either key (names come and go with Hubble's FQDN cache).
import { isWorld, learnt, peerKind, peerName, portLabel } from "../baseline.js";
import type { AnalyzerConfig } from "./config.js";
import type { FlowDetector } from "./detector.js";
import { actor, address, Suppressor, who } from "./report.js";

export function newEgressDetector(config: AnalyzerConfig): FlowDetector {
  const suppressor = new Suppressor(config.suppressFor, config.maxEvidence, config.maxSuppressedKeys);
  return {
    name: "new-egress",
    needsBaseline: true,
    observe(v, { baseline }) {
      const flow = v.flow;
      if (flow.verdict !== "FORWARDED" || flow.isReply || !isWorld(flow.dst)) return undefined;
      const src = v.src;
      if (src === undefined || src.enforcingSinceMs === undefined) return undefined;
      if (learnt(v.outEdge)) return undefined;
      const ip = flow.dst.ip;
      if (
        ip !== undefined &&
        v.dstKey.startsWith("dns:") &&
        baseline.knowsOut(src, baseline.addressKey(ip), v.portProto)
      )
        return undefined;
      const peerKnown = src.out.has(v.dstKey);
      const key = `new-egress|${src.identity}|${v.dstKey}|${portLabel(v.portProto)}`;
      return suppressor.offer(key, flow, () => {
        const named = peerKind(v.dstKey) === "dns";
        const target = named
          ? `${peerName(v.dstKey)} (${address(flow)})`
          : `${address(flow)} in ${peerName(v.dstKey)}`;
        return {
          detector: "new-egress",
          ...actor(flow),
          score: named ? 0.7 : 0.85,
          reason: peerKnown ? "new_external_port" : "new_external_destination",
          message: `${who(flow.src)} sent traffic to ${target}, ${
            peerKnown ? "a port it never used there" : "a destination never seen in its baseline"
          }`,
          evidence: [flow],
          key,
        };
      });
    },
  };
}
