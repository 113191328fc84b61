// What every detector is: it sees each flow once, in order, after the baseline resolved its sides
// and before the baseline learns from it, and returns at most one detection.
import type { Baseline, ResolvedFlow } from "../baseline.js";
import type { Flow } from "../types.js";

export const DETECTOR_NAMES = [
  "new-egress",
  "scan",
  "lateral",
  "drop-storm",
  "dns-exfil",
  "quarantined-traffic",
] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

export interface Detection {
  detector: DetectorName;
  /** The identity acting (the source of the traffic, or the identity drops pile up on). */
  identity: string;
  namespace?: string;
  pod?: string;
  /** 0..1; 1 = certainly an intrusion or a breached quarantine. */
  score: number;
  /** Machine-readable: `new_external_destination`, `port_scan`, … */
  reason: string;
  /** One line a person can act on, naming the concrete identity, address, domain or namespace. */
  message: string;
  /** Flows that show it (at most `maxEvidence`), oldest first. */
  evidence: Flow[];
  /** First occurrence of this key, and the flow that raised this detection. */
  firstMs: number;
  lastMs: number;
  /** Detector + identity + the concrete entity: the same key is the same finding. */
  key: string;
  /** Occurrences of this key so far, including the repeats suppressed since the last report. */
  count: number;
}

/** Identities and pods (`namespace/pod`) under quarantine; the caller updates it over time. */
export interface QuarantineSet {
  identities: ReadonlySet<string>;
  /** namespace → pod names. */
  pods: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface DetectorContext {
  baseline: Baseline;
  quarantine: QuarantineSet;
}

export interface FlowDetector {
  readonly name: DetectorName;
  /** Silent for identities still learning (the analyzer documents which ones do). */
  readonly needsBaseline: boolean;
  observe(v: ResolvedFlow, ctx: DetectorContext): Detection | undefined;
}
