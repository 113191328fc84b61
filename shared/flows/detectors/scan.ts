// scan: one identity opening connections (TCP SYNs, first packets of other protocols, dropped
// attempts included) to many distinct addresses or ports within a sliding window, beyond
// max(minimum, factor × its normal fan-out). The normal fan-out is the baseline's: the second
// largest per-window count seen while learning, so one scan during learning does not become normal.
// Needs no baseline: an identity still learning is held to `fanOutFactor` × the minimums (its normal
// fan-out is not known yet) or what it showed so far, whichever is higher.
import { isAttempt } from "../baseline.js";
import type { Flow } from "../types.js";
import type { AnalyzerConfig } from "./config.js";
import type { FlowDetector } from "./detector.js";
import { actor, FlowRing, overScore, stateFor, Suppressor, who } from "./report.js";

/**
 * Distinct keys seen in the last `windowMs`, O(1) amortised per add: the queue holds each key once;
 * a key seen again is re-queued when it reaches the front instead of being queued on every sighting.
 */
export class DistinctWindow<K> {
  private readonly lastSeen = new Map<K, number>();
  private keys: K[] = [];
  private times: number[] = [];
  private head = 0;
  constructor(
    private readonly windowMs: number,
    private readonly cap: number,
  ) {}

  /** Adds a key at time t; true when it was not in the window. */
  add(key: K, t: number): boolean {
    this.expire(t);
    const seen = this.lastSeen.get(key);
    if (seen !== undefined) {
      if (t > seen) this.lastSeen.set(key, t);
      return false;
    }
    if (this.lastSeen.size >= this.cap) return false;
    this.lastSeen.set(key, t);
    this.keys.push(key);
    this.times.push(t);
    return true;
  }

  get size(): number {
    return this.lastSeen.size;
  }

  private expire(t: number): void {
    const before = t - this.windowMs;
    while (this.head < this.keys.length && this.times[this.head]! <= before) {
      const key = this.keys[this.head]!;
      this.head++;
      const seen = this.lastSeen.get(key)!;
      if (seen <= before) this.lastSeen.delete(key);
      else {
        this.keys.push(key);
        this.times.push(seen);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}

interface ScanState {
  addresses: DistinctWindow<string>;
  ports: DistinctWindow<number>;
  recent: FlowRing;
}

export function scanDetector(config: AnalyzerConfig): FlowDetector {
  const { window, minAddresses, minPorts, fanOutFactor } = config.scan;
  const suppressor = new Suppressor(config.suppressFor, config.maxEvidence, config.maxSuppressedKeys);
  const states = new Map<string, ScanState>();
  const maxStates = config.baseline.maxIdentities;
  const cap = Math.max(minAddresses, minPorts) * fanOutFactor * 64;
  const create = (): ScanState => ({
    addresses: new DistinctWindow(window, cap),
    ports: new DistinctWindow(window, cap),
    recent: new FlowRing(config.maxEvidence),
  });
  const seconds = `${Math.round(window / 1000)} s`;

  return {
    name: "scan",
    needsBaseline: false,
    observe(v) {
      const flow = v.flow;
      if (flow.src.namespace === undefined || !isAttempt(flow)) return undefined;
      if (flow.verdict !== "FORWARDED" && flow.verdict !== "DROPPED") return undefined;
      const s = stateFor(states, flow.src.identity, maxStates, create);
      s.recent.push(flow);
      const t = flow.timeMs;
      const newAddress = s.addresses.add(flow.dst.ip ?? flow.dst.identity, t);
      const newPort = flow.dstPort !== undefined && s.ports.add(flow.dstPort, t);
      if (!newAddress && !newPort) return undefined;
      const normal = v.src?.fanOut;
      // While learning the normal fan-out is not known yet: the minimums count `fanOutFactor` times.
      const floor = v.src?.enforcingSinceMs !== undefined ? 1 : fanOutFactor;
      const addressBar = Math.max(minAddresses * floor, fanOutFactor * (normal?.addresses[1] ?? 0));
      const portBar = Math.max(minPorts * floor, fanOutFactor * (normal?.ports[1] ?? 0));
      if (newPort && s.ports.size >= portBar)
        return report(flow, s, "port_scan", "ports", s.ports.size, portBar, normal?.ports[1] ?? 0);
      if (newAddress && s.addresses.size >= addressBar)
        return report(
          flow,
          s,
          "address_sweep",
          "addresses",
          s.addresses.size,
          addressBar,
          normal?.addresses[1] ?? 0,
        );
      return undefined;
    },
  };

  function report(
    flow: Flow,
    s: ScanState,
    reason: string,
    what: string,
    n: number,
    bar: number,
    normal: number,
  ) {
    const key = `scan|${flow.src.identity}|${what}`;
    return suppressor.offer(key, flow, () => {
      const evidence = s.recent.toArray();
      const targets = [
        ...new Set(
          evidence.map((f) => (what === "ports" ? String(f.dstPort) : (f.dst.ip ?? f.dst.identity))),
        ),
      ];
      const hosts = [...new Set(evidence.map((f) => f.dst.ip ?? f.dst.identity))];
      const on = what === "ports" && hosts.length <= 3 ? ` on ${hosts.join(", ")}` : "";
      return {
        detector: "scan" as const,
        ...actor(flow),
        score: overScore(n, bar),
        reason,
        message: `${who(flow.src)} tried ${n} distinct destination ${what}${on} within ${seconds} (normal fan-out ${normal}); latest: ${targets.slice(-5).join(", ")}`,
        evidence,
        key,
      };
    });
  }
}
