// drop-storm: policy drops (DROPPED with a POLICY_* reason) from or to an enforcing identity in the
// current minute reach max(minimum, factor × its learnt per-minute drop rate). The baseline counts
// the minute; this detector only keeps recent drops as evidence.
import { isPolicyDrop, learnedRate, type IdentityState } from "../baseline.js";
import type { Flow } from "../types.js";
import type { AnalyzerConfig } from "./config.js";
import type { Detection, FlowDetector } from "./detector.js";
import { address, FlowRing, overScore, stateFor, Suppressor } from "./report.js";

export function dropStormDetector(config: AnalyzerConfig): FlowDetector {
  const { minPerMinute, factor } = config.dropStorm;
  const suppressor = new Suppressor(config.suppressFor, config.maxEvidence, config.maxSuppressedKeys);
  const recent = new Map<string, FlowRing>();
  const maxStates = config.baseline.maxIdentities;
  const ring = () => new FlowRing(config.maxEvidence);

  function judge(flow: Flow, s: IdentityState | undefined, role: "from" | "to"): Detection | undefined {
    if (s === undefined) return undefined;
    const r = stateFor(recent, s.identity, maxStates, ring);
    r.push(flow);
    if (s.enforcingSinceMs === undefined) return undefined;
    const minute = Math.floor(flow.timeMs / 60_000);
    const n = (s.policyDrops.minute === minute ? s.policyDrops.count : 0) + 1;
    const normal = learnedRate(s.policyDrops);
    const bar = Math.max(minPerMinute, factor * normal);
    if (n < bar) return undefined;
    const key = `drop-storm|${s.identity}`;
    const peer = role === "from" ? flow.src : flow.dst;
    return suppressor.offer(key, flow, () => ({
      detector: "drop-storm",
      identity: s.identity,
      namespace: s.namespace,
      ...(peer.pod !== undefined ? { pod: peer.pod } : {}),
      score: overScore(n, bar),
      reason: "policy_drop_spike",
      message:
        `${n} policy drops ${role} ${s.identity} in the current minute (normal ${normal.toFixed(1)}/min); latest ${flow.src.identity} → ${flow.dst.identity} ${address(flow)} ${flow.dropReason ?? ""}`.trimEnd(),
      evidence: r.toArray(),
      key,
    }));
  }

  return {
    name: "drop-storm",
    needsBaseline: true,
    observe(v) {
      const flow = v.flow;
      if (!isPolicyDrop(flow)) return undefined;
      const fromSrc = judge(flow, v.src, "from");
      const toDst = v.dst !== v.src ? judge(flow, v.dst, "to") : undefined;
      return fromSrc ?? toDst;
    },
  };
}
