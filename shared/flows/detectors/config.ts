// The analyzer's configuration: every threshold with its default, parsed with zod. Durations take
// milliseconds or a Prometheus-style duration (`30s`, `24h`).
import { z } from "zod";
import { parseDuration } from "../../duration.js";
import { DETECTOR_NAMES } from "./detector.js";

const duration = z.union([
  z.number().min(0),
  z.string().transform((text, ctx) => {
    const seconds = parseDuration(text);
    if (seconds === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `expected a duration like 30s or 24h, got ${JSON.stringify(text)}`,
      });
      return z.NEVER;
    }
    return seconds * 1000;
  }),
]);
const count = z.number().int().positive();

export const AnalyzerConfigSchema = z.object({
  /** Flow time an identity learns before detectors that need a baseline judge it. */
  learningPeriod: duration.default(24 * 3_600_000),
  /** Repeats of one detection key within this window are counted, not reported. */
  suppressFor: duration.default(10 * 60_000),
  /** Evidence flows kept per detection. */
  maxEvidence: count.max(1000).default(20),
  /** Detection keys remembered for suppression (oldest forgotten first). */
  maxSuppressedKeys: count.default(10_000),
  /** Detectors switched off. */
  disabled: z.array(z.enum(DETECTOR_NAMES)).default([]),
  /** Identities of the cluster DNS: DNS (port 53) to them is never new or lateral. */
  dnsServers: z.array(z.string()).default(["kube-system/kube-dns", "kube-system/coredns"]),
  baseline: z
    .object({
      maxIdentities: count.default(2_000),
      maxEdgesPerIdentity: count.default(256),
      maxDnsNamesPerIdentity: z.number().int().min(0).default(64),
      maxResolvedAddresses: z.number().int().min(0).default(8_192),
      rateAlpha: z.number().gt(0).max(1).default(0.1),
    })
    .prefault({}),
  lateral: z
    .object({
      /** A new east-west edge into these namespaces is lateral movement (the list replaces the default). */
      sensitiveNamespaces: z.array(z.string()).default(["kube-system"]),
    })
    .prefault({}),
  scan: z
    .object({
      window: duration.default(30_000),
      /** Distinct destination addresses / ports in the window before it is a scan … */
      minAddresses: count.default(64),
      minPorts: count.default(32),
      /** … and this many times the identity's normal fan-out. */
      fanOutFactor: z.number().min(1).default(3),
    })
    .prefault({}),
  dropStorm: z
    .object({
      /** Policy drops per minute from/to one identity before it is a storm … */
      minPerMinute: count.default(50),
      /** … and this many times its learnt drop rate. */
      factor: z.number().min(1).default(10),
    })
    .prefault({}),
  dnsExfil: z
    .object({
      /** A label longer than this is suspicious on its own (DNS allows 63). */
      maxLabelLength: count.max(63).default(40),
      /** Labels at least this long are checked for entropy … */
      entropyMinLength: count.default(24),
      /** … and suspicious at or above this many bits per character. */
      entropyBits: z.number().positive().default(4),
      /** Distinct names under one registered domain per minute from one identity. */
      subdomainsPerMinute: count.default(100),
      /** DNS queries per minute from one identity before the rate counts … */
      minQueriesPerMinute: count.default(1_200),
      /** … and this many times its learnt query rate (when it has one). */
      rateFactor: z.number().min(1).default(10),
      /** Domains never judged (cluster-internal names, reverse lookups). */
      ignoreDomains: z.array(z.string()).default(["cluster.local", "in-addr.arpa", "ip6.arpa"]),
    })
    .prefault({}),
});

export type AnalyzerConfig = z.infer<typeof AnalyzerConfigSchema>;
export type AnalyzerConfigInput = z.input<typeof AnalyzerConfigSchema>;
