// Detection quality on the sandbox: seeded runs of normal traffic, and runs where a compromised
// pod scans, calls out to an unknown address:port or tunnels through DNS after the analyzer has
// learnt. Flows go from the sandbox's exporter lines through the JSONL reader's normaliser into a
// FlowAnalyzer, as they would from the exporter file. Used by `npm run bench:flows` and by
// test/flows/sandbox-detection.test.ts.
import { FlowAnalyzer, type Detection } from "../../shared/flows/analyzer.js";
import { emptyResult, FlowLineReader } from "../../shared/flows/jsonl.js";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import { loadScenario, ScenarioSchema, type Scenario } from "../../infra/sandbox/scenario.js";

/** No analyzer setting defines one: a detection at or above this score would propose a quarantine. */
export const QUARANTINE_SCORE = 0.8;

export type IntrusionKind = "scan" | "egress" | "dns-tunnel";
export const INTRUSION_KINDS: readonly IntrusionKind[] = ["scan", "egress", "dns-tunnel"];

/** The detector(s) each intrusion is meant to be caught by. */
export const EXPECTED_DETECTOR: Record<IntrusionKind, Detection["detector"]> = {
  scan: "scan",
  egress: "new-egress",
  "dns-tunnel": "dns-exfil",
};

// The compromised workload, and an address:port it learnt (api.stripe.com, which the sandbox's DNS
// answers with this address): the fault always makes one egress connection, so runs that are not
// about egress point it there, where it is ordinary traffic.
export const ATTACKER = "payments/checkout";
const LEARNT_EGRESS = { egressIp: "54.187.174.169", egressPort: 443 };

/** The fault's parameters that make only one kind of intrusion. */
export function intrusionParams(kind: IntrusionKind): Record<string, string | number> {
  switch (kind) {
    case "scan":
      return { ...LEARNT_EGRESS, tunnelDomain: "" };
    case "egress":
      return { scanPerSecond: 0, tunnelDomain: "" };
    case "dns-tunnel":
      return { ...LEARNT_EGRESS, scanPerSecond: 0 };
  }
}

/**
 * The default scenario (the demo shop, payments and monitoring) plus `extra` Deployments of three
 * replicas in three more namespaces, each with a Service, so the service graph has a few dozen
 * workloads and about a hundred pods.
 */
export function benchScenario(extra = 24): Scenario {
  const base = loadScenario();
  const teams = ["team-a", "team-b", "team-c"];
  return ScenarioSchema.parse({
    ...base,
    namespaces: [...base.namespaces, ...teams],
    workloads: [
      ...base.workloads,
      ...Array.from({ length: extra }, (_, i) => ({
        kind: "Deployment",
        namespace: teams[i % teams.length],
        name: `svc-${i}`,
        image: `ghcr.io/prophet-demo/svc-${i}:1.0.0`,
        replicas: 3,
        cpu: "50m",
        memory: "64Mi",
        port: 8080,
        readinessProbe: true,
      })),
    ],
  });
}

export interface RunOptions {
  seed: number;
  /** Simulated hours of normal traffic before the first intrusion (the analyzer learns first). */
  normalHours: number;
  /** The analyzer's learning period. */
  learnHours: number;
  /** Injected one after another after the normal traffic, each reverted before the next. */
  intrusions?: readonly IntrusionKind[];
  intrusionMinutes?: number;
  /** Normal traffic after each intrusion (default 60 min: longer than the detectors' suppression). */
  gapMinutes?: number;
  scenario?: Scenario;
}

export interface IntrusionWindow {
  kind: IntrusionKind;
  /** Flow time, [start, end) in ms. */
  start: number;
  end: number;
}

export interface RunResult {
  options: RunOptions;
  flows: number;
  rejected: number;
  /** DNS answers whose `l7.dns.ips` the normaliser left out of `Flow.dnsIps` (filled in here). */
  dnsIpsFilled: number;
  detections: Detection[];
  windows: IntrusionWindow[];
  simulatedMs: number;
}

type Line = { flow?: { l7?: { dns?: { ips?: string[] } } } };

/**
 * One seeded run: the sandbox's flows through a FlowAnalyzer, every detection kept. The sandbox
 * ticks every 10 simulated seconds with sparse flow sampling and a slow metrics scrape, so a
 * simulated day takes about 20 s on one core.
 */
export async function runSandbox(opts: RunOptions): Promise<RunResult> {
  const scenario = { ...(opts.scenario ?? benchScenario()), tickMs: 10_000 };
  const sb: Sandbox = await startSandbox({
    scenario,
    seed: opts.seed,
    flowLog: false,
    metrics: { scrapeIntervalMs: 600_000 },
    flows: { sampleRate: 0.005, maxCallsPerStep: 12 },
  });
  const analyzer = new FlowAnalyzer({ learningPeriod: opts.learnHours * 3_600_000 });
  const reader = new FlowLineReader();
  const result: RunResult = {
    options: opts,
    flows: 0,
    rejected: 0,
    dnsIpsFilled: 0,
    detections: [],
    windows: [],
    simulatedMs: 0,
  };
  let seq = 0;
  const stop = sb.flows.subscribe((line) => {
    const out = emptyResult();
    reader.value(line, ++seq, out);
    result.rejected += out.rejected.length;
    for (const flow of out.flows) {
      // Guard: the normaliser copies l7.dns.ips into Flow.dnsIps; a regression is counted (and
      // printed by bench:flows) and mended here so the quality figures stay about the detectors.
      const ips = (line as Line).flow?.l7?.dns?.ips;
      if (flow.dnsQuery !== undefined && flow.isReply && !flow.dnsIps && ips?.length) {
        flow.dnsIps = ips;
        result.dnsIpsFilled++;
      }
      result.flows++;
      for (const d of analyzer.observe(flow)) result.detections.push(d);
    }
  });
  const t0 = sb.clock.now().getTime();
  try {
    sb.clock.advance(opts.normalHours * 3_600_000);
    for (const kind of opts.intrusions ?? []) {
      const start = sb.clock.now().getTime();
      const fault = sb.inject({ kind: "network-intrusion", target: ATTACKER, params: intrusionParams(kind) });
      sb.clock.advance((opts.intrusionMinutes ?? 10) * 60_000);
      sb.revert(fault.id);
      result.windows.push({ kind, start, end: sb.clock.now().getTime() });
      sb.clock.advance((opts.gapMinutes ?? 60) * 60_000);
    }
    return result;
  } finally {
    stop();
    result.simulatedMs = sb.clock.now().getTime() - t0;
    await sb.close();
  }
}

/** The intrusion window a detection belongs to: it names the attacker (identity or pod) during it. */
export function windowOf(d: Detection, run: RunResult): IntrusionWindow | undefined {
  if (d.identity !== ATTACKER) return undefined;
  // A step's flows carry times inside the step: one tick of slack at the end.
  return run.windows.find((w) => d.lastMs >= w.start && d.firstMs < w.end + 10_000);
}

export interface DetectorQuality {
  detector: string;
  detections: number;
  truePositives: number;
  /** Intrusions of the kind this detector is meant for, and how many it caught. */
  expected: number;
  caught: number;
}

export interface IntrusionQuality {
  kind: IntrusionKind;
  runs: number;
  caughtByExpected: number;
  caughtAny: number;
  /** Caught with a score ≥ QUARANTINE_SCORE. */
  quarantine: number;
}

export interface QualityReport {
  perDetector: DetectorQuality[];
  perIntrusion: IntrusionQuality[];
  simulatedDays: number;
  /** Detections with score ≥ QUARANTINE_SCORE outside every intrusion (or naming someone else). */
  falseProposals: Detection[];
}

/**
 * Precision per detector over every detection of every run; recall of each intrusion kind's own
 * detector; false quarantine proposals per simulated day (all simulated time counts, the
 * intrusion windows included: a wrong proposal there is still wrong).
 */
export function quality(runs: RunResult[]): QualityReport {
  const perDetector = new Map<string, DetectorQuality>();
  const row = (detector: string): DetectorQuality => {
    let r = perDetector.get(detector);
    if (!r)
      perDetector.set(detector, (r = { detector, detections: 0, truePositives: 0, expected: 0, caught: 0 }));
    return r;
  };
  for (const kind of INTRUSION_KINDS) row(EXPECTED_DETECTOR[kind]);
  const perIntrusion: IntrusionQuality[] = INTRUSION_KINDS.map((kind) => ({
    kind,
    runs: 0,
    caughtByExpected: 0,
    caughtAny: 0,
    quarantine: 0,
  }));
  const falseProposals: Detection[] = [];
  let simulatedMs = 0;
  for (const run of runs) {
    simulatedMs += run.simulatedMs;
    const hits = new Map<IntrusionWindow, Detection[]>(run.windows.map((w) => [w, []]));
    for (const d of run.detections) {
      const r = row(d.detector);
      r.detections++;
      const w = windowOf(d, run);
      if (w) {
        r.truePositives++;
        hits.get(w)?.push(d);
      } else if (d.score >= QUARANTINE_SCORE) falseProposals.push(d);
    }
    for (const [w, found] of hits) {
      const own = EXPECTED_DETECTOR[w.kind];
      const caught = found.some((d) => d.detector === own);
      const expected = row(own);
      expected.expected++;
      if (caught) expected.caught++;
      const p = perIntrusion.find((x) => x.kind === w.kind);
      if (!p) continue;
      p.runs++;
      if (caught) p.caughtByExpected++;
      if (found.length) p.caughtAny++;
      if (found.some((d) => d.score >= QUARANTINE_SCORE)) p.quarantine++;
    }
  }
  return {
    perDetector: [...perDetector.values()].sort((a, b) => a.detector.localeCompare(b.detector)),
    perIntrusion,
    simulatedDays: simulatedMs / 86_400_000,
    falseProposals,
  };
}

const pct = (n: number, d: number): string => (d ? `${((100 * n) / d).toFixed(1)} %` : "n/a");

/** False quarantine proposals per simulated day. */
export const proposalsPerDay = (q: QualityReport): number =>
  q.simulatedDays ? q.falseProposals.length / q.simulatedDays : 0;

/** The report as the lines the bench prints. */
export function formatQuality(q: QualityReport): string[] {
  const lines = ["detector             detections  true pos.  precision  recall on its own intrusion"];
  for (const r of q.perDetector)
    lines.push(
      `${r.detector.padEnd(20)}${String(r.detections).padStart(11)}${String(r.truePositives).padStart(11)}` +
        `${pct(r.truePositives, r.detections).padStart(11)}  ` +
        (r.expected ? `${pct(r.caught, r.expected)} (${r.caught}/${r.expected})` : "-"),
    );
  for (const p of q.perIntrusion)
    lines.push(
      `intrusion ${p.kind.padEnd(11)} ${p.runs} injected: caught by ${EXPECTED_DETECTOR[p.kind]} ${p.caughtByExpected}, ` +
        `by any detector ${p.caughtAny}, with score ≥ ${QUARANTINE_SCORE} ${p.quarantine}`,
    );
  lines.push(
    `false quarantine proposals (score ≥ ${QUARANTINE_SCORE}): ${q.falseProposals.length} in ` +
      `${q.simulatedDays.toFixed(2)} simulated days = ${proposalsPerDay(q).toFixed(2)}/day`,
  );
  for (const d of q.falseProposals.slice(0, 5))
    lines.push(`  ${d.detector} ${d.score.toFixed(2)} ${d.message}`);
  return lines;
}
