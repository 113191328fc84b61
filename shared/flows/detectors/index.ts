// The detector registry: one detector per file. Adding one = one file and one line here.
import type { AnalyzerConfig } from "./config.js";
import type { DetectorName, FlowDetector } from "./detector.js";
import { dnsExfilDetector } from "./dns-exfil.js";
import { dropStormDetector } from "./drop-storm.js";
import { lateralDetector } from "./lateral.js";
import { newEgressDetector } from "./new-egress.js";
import { quarantinedTrafficDetector } from "./quarantined-traffic.js";
import { scanDetector } from "./scan.js";

export const detectorFactories: Record<DetectorName, (config: AnalyzerConfig) => FlowDetector> = {
  "quarantined-traffic": quarantinedTrafficDetector,
  "new-egress": newEgressDetector,
  lateral: lateralDetector,
  scan: scanDetector,
  "drop-storm": dropStormDetector,
  "dns-exfil": dnsExfilDetector,
};

/** The enabled detectors, in registry order. */
export function createDetectors(config: AnalyzerConfig): FlowDetector[] {
  const off = new Set(config.disabled);
  return Object.entries(detectorFactories)
    .filter(([name]) => !off.has(name as DetectorName))
    .map(([, create]) => create(config));
}

export * from "./config.js";
export * from "./detector.js";
