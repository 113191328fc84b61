// FlowAnalyzer: the baseline and every detector behind one `observe(flow)`. Per flow the baseline
// resolves both sides (no learning yet), each detector judges the flow against what was learnt
// before it, then the baseline learns from it. Detectors that need a baseline (new-egress,
// lateral, drop-storm) stay silent for identities still learning; scan, dns-exfil and
// quarantined-traffic judge from the first flow.
import { ProphetError } from "../errors.js";
import { Baseline, type BaselineOptions } from "./baseline.js";
import {
  AnalyzerConfigSchema,
  createDetectors,
  type AnalyzerConfig,
  type AnalyzerConfigInput,
  type Detection,
  type DetectorContext,
  type FlowDetector,
  type QuarantineSet,
} from "./detectors/index.js";
import type { Flow } from "./types.js";

export { AnalyzerConfigSchema, type AnalyzerConfig, type AnalyzerConfigInput, type Detection };

const NO_DETECTIONS: readonly Detection[] = Object.freeze([]);

/** Parse a configuration (an invalid one is an `invalid_config` error naming each field). */
export function parseAnalyzerConfig(input: unknown = {}): AnalyzerConfig {
  const res = AnalyzerConfigSchema.safeParse(input ?? {});
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  throw new ProphetError(
    "invalid_config",
    `invalid flow analyzer configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    issues,
  );
}

/** The baseline options a configuration implies. */
export function baselineOptions(config: AnalyzerConfig): Partial<BaselineOptions> {
  return { ...config.baseline, learningMs: config.learningPeriod, fanOutWindowMs: config.scan.window };
}

export class FlowAnalyzer {
  readonly config: AnalyzerConfig;
  readonly baseline: Baseline;
  readonly detectors: readonly FlowDetector[];
  private readonly context: DetectorContext;

  /**
   * `baseline`: a stored one (`Baseline.toJSON()` output; the configuration's limits and learning
   * period apply to it) or a live instance used as is; a fresh one when absent.
   */
  constructor(config: AnalyzerConfigInput | AnalyzerConfig = {}, baseline?: Baseline | unknown) {
    this.config = parseAnalyzerConfig(config);
    const options = baselineOptions(this.config);
    this.baseline =
      baseline instanceof Baseline
        ? baseline
        : baseline !== undefined && baseline !== null
          ? Baseline.fromJSON(baseline, options)
          : new Baseline(options);
    this.detectors = createDetectors(this.config);
    this.context = { baseline: this.baseline, quarantine: { identities: new Set(), pods: new Map() } };
  }

  /** Detections this flow raises (usually none: a shared empty array, do not mutate). */
  observe(flow: Flow): readonly Detection[] {
    const v = this.baseline.resolve(flow);
    let found: Detection[] | undefined;
    for (const d of this.detectors) {
      const x = d.observe(v, this.context);
      if (x !== undefined) (found ??= []).push(x);
    }
    this.baseline.record(v);
    return found ?? NO_DETECTIONS;
  }

  /** Every detection of a batch, in flow order. */
  observeAll(flows: Iterable<Flow>): Detection[] {
    const all: Detection[] = [];
    for (const f of flows) for (const d of this.observe(f)) all.push(d);
    return all;
  }

  /** Replace the quarantined set: identities (`shop/cart`) and pods (`shop/cart-7d9f-x2`). */
  setQuarantined(q: { identities?: Iterable<string>; pods?: Iterable<string> }): void {
    const pods = new Map<string, Set<string>>();
    for (const p of q.pods ?? []) {
      const slash = p.indexOf("/");
      if (slash <= 0) continue;
      const ns = p.slice(0, slash);
      let set = pods.get(ns);
      if (!set) pods.set(ns, (set = new Set()));
      set.add(p.slice(slash + 1));
    }
    const quarantine: QuarantineSet = { identities: new Set(q.identities ?? []), pods };
    this.context.quarantine = quarantine;
  }
}
