// Metric evidence for a diagnosis: what Prometheus saw around the alert, added to the findings it
// explains — the working set against the memory limit before an OOM kill, restarts in the last
// hour, the 5xx ratio before and after a rollout, CPU throttling behind failing probes. One query
// per signal covers every finding of that signal (at most five per diagnosis), all run at once
// under one deadline; a failed or late query only leaves its readings out, never the diagnosis.
import { MetricsError, type MetricsPort, type Sample, type Series } from "../ports/metrics.js";
import type { Finding, MetricReading } from "./finding.js";

export interface MetricEvidenceInput {
  findings: readonly Finding[];
  /** When the alert started; windows "before the alert" are measured from here. */
  alertStartsAt?: Date | undefined;
  /** The diagnosis' time: the end of every window. */
  now: Date;
  /** Services in the incident's scope (their http_requests_total), for rollouts and Services. */
  services?: readonly { namespace: string; name: string }[];
}

export interface MetricEvidenceOptions {
  /** Deadline of the whole step; queries still running then count as timed out. */
  timeoutMs?: number;
  /** Most containers or Services one query names (the first findings in order). */
  maxTargets?: number;
}

export interface MetricEvidence {
  /** The input findings in the same order, with readings and metric values added where found. */
  findings: Finding[];
  queries: number;
  readings: number;
  durationMs: number;
  /** Why (some) metric evidence is missing: failed or timed-out queries. */
  note?: string;
}

type Signal = "memory_vs_limit" | "restarts" | "error_ratio" | "cpu_throttling";

/** Reasons whose findings get each container signal. */
const memoryReasons = new Set(["OOMKilled"]);
const restartReasons = new Set([
  "OOMKilled",
  "CrashLoopBackOff",
  "RunContainerError",
  "ContainerFailed",
  "LivenessProbeFailed",
  "StartupProbeFailed",
]);
// A throttled container answers its probes late: throttling is a cause worth ruling in or out.
const throttlingReasons = new Set(["LivenessProbeFailed", "ReadinessProbeFailed", "StartupProbeFailed"]);

const MEMORY_WINDOW_S = 30 * 60;
const MAX_RANGE_S = 60 * 60;
const BEFORE_OFFSET_S = 30 * 60;
const MiB = 2 ** 20;

interface ContainerRef {
  finding: number;
  namespace: string;
  pod: string;
  container: string;
}

const keyOf = (namespace: string, pod: string, container: string) => `${namespace}/${pod}/${container}`;

/** The container a Pod finding is about: pod-problems.ts starts its messages "container <name> …". */
function containerOf(f: Finding, index: number): ContainerRef | undefined {
  const m = /^container ([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\b/.exec(f.message);
  return f.kind === "Pod" && m
    ? { finding: index, namespace: f.namespace, pod: f.name, container: m[1]! }
    : undefined;
}

/** RE2 alternation matching exactly these values. */
function anyOf(values: Iterable<string>): string {
  const escaped = [...new Set(values)].map((v) => v.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&"));
  return JSON.stringify(escaped.join("|"));
}

function containerMatchers(refs: readonly ContainerRef[]): string {
  return [
    `namespace=~${anyOf(refs.map((r) => r.namespace))}`,
    `pod=~${anyOf(refs.map((r) => r.pod))}`,
    `container=~${anyOf(refs.map((r) => r.container))}`,
  ].join(", ");
}

function bytes(b: number): string {
  return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)}Gi` : `${Math.round(b / MiB)}Mi`;
}

function percent(ratio: number): string {
  const p = ratio * 100;
  return `${p >= 10 ? Math.round(p) : p >= 0.1 ? p.toFixed(1) : p.toFixed(2)} %`;
}

const clock = (d: Date) => `${d.toISOString().slice(11, 16)} UTC`;
const iso = (d: Date) => d.toISOString();

/**
 * Bytes per minute over the rising run that ends at the peak: a leak's climb, without the flat
 * stretch before it or the drop of an earlier kill.
 */
function growthPerMinute(points: readonly [number, number][], peak: number): number | undefined {
  let start = peak;
  while (start > 0 && points[start - 1]![1] <= points[start]![1] && points[start - 1]![1] > 0) start--;
  // A step shorter than the scrape interval repeats values; only the flat lead-in is dropped.
  while (start < peak && points[start + 1]![1] === points[start]![1]) start++;
  const run = points.slice(start, peak + 1);
  if (run.length < 3 || run.at(-1)![0] - run[0]![0] < 60) return undefined;
  const n = run.length;
  const mx = run.reduce((s, [t]) => s + t, 0) / n;
  const my = run.reduce((s, [, v]) => s + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of run) {
    num += (t - mx) * (v - my);
    den += (t - mx) ** 2;
  }
  return den > 0 ? (num / den) * 60 : undefined;
}

/** One query, its result kept for the readings that need it. */
interface Planned {
  signal: Signal | "memory_limit";
  query: string;
  run(port: MetricsPort): Promise<Sample[] | Series[]>;
}

/** Finding index → what to add to it. */
type Additions = Map<number, { readings: MetricReading[]; metrics: Record<string, number> }>;

function add(
  into: Additions,
  finding: number,
  reading: MetricReading,
  metrics: Record<string, number>,
): void {
  const a = into.get(finding) ?? { readings: [], metrics: {} };
  a.readings.push(reading);
  for (const [k, v] of Object.entries(metrics)) if (Number.isFinite(v)) a.metrics[k] = v;
  into.set(finding, a);
}

function sampleKey(labels: Record<string, string>): string {
  return keyOf(labels.namespace ?? "", labels.pod ?? "", labels.container ?? "");
}

/** Reads the metric evidence of a diagnosis' findings; never throws for a metrics failure. */
export async function readMetricEvidence(
  port: MetricsPort,
  input: MetricEvidenceInput,
  opts: MetricEvidenceOptions = {},
): Promise<MetricEvidence> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 2000;
  const maxTargets = opts.maxTargets ?? 20;
  const { findings, now } = input;
  const alertAt = input.alertStartsAt && input.alertStartsAt <= now ? input.alertStartsAt : now;
  const from = new Date(
    Math.max(alertAt.getTime() - MEMORY_WINDOW_S * 1000, now.getTime() - MAX_RANGE_S * 1000),
  );
  const containers = findings.map(containerOf);
  const pick = (want: (f: Finding, c: ContainerRef) => boolean) =>
    containers.filter((c): c is ContainerRef => !!c && want(findings[c.finding]!, c)).slice(0, maxTargets);

  const memory = pick((f) => memoryReasons.has(f.reason));
  const restarts = pick((f) => restartReasons.has(f.reason) || f.evidence.metrics?.restarts !== undefined);
  const throttled = pick((f) => throttlingReasons.has(f.reason));
  const specLimit = (c: ContainerRef) => findings[c.finding]!.evidence.metrics?.memoryLimitBytes;
  const noLimit = memory.filter((c) => specLimit(c) === undefined);

  // Services: a Service finding is about itself; a rollout about the Services in its namespace.
  const serviceFindings = new Map<number, { namespace: string; name: string }[]>();
  findings.forEach((f, i) => {
    if (f.kind === "Service") serviceFindings.set(i, [{ namespace: f.namespace, name: f.name }]);
    else if (f.reason === "RecentRollout") {
      const own = (input.services ?? []).filter((s) => s.namespace === f.namespace);
      if (own.length > 0) serviceFindings.set(i, own);
    }
  });
  const services = [
    ...new Map([...serviceFindings.values()].flat().map((s) => [`${s.namespace}/${s.name}`, s])).values(),
  ].slice(0, maxTargets);

  const plan: Planned[] = [];
  if (memory.length > 0) {
    const span = (now.getTime() - from.getTime()) / 1000;
    const step = Math.max(15, Math.ceil(span / 120));
    const query = `max by (namespace, pod, container) (container_memory_working_set_bytes{${containerMatchers(memory)}})`;
    plan.push({ signal: "memory_vs_limit", query, run: (p) => p.range(query, from, now, step) });
  }
  if (noLimit.length > 0) {
    const query = `max by (namespace, pod, container) (kube_pod_container_resource_limits{resource="memory", ${containerMatchers(noLimit)}})`;
    plan.push({ signal: "memory_limit", query, run: (p) => p.instant(query, now) });
  }
  if (restarts.length > 0) {
    const query = `max by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{${containerMatchers(restarts)}}[1h]))`;
    plan.push({ signal: "restarts", query, run: (p) => p.instant(query, now) });
  }
  let beforeOffsetS = 0;
  if (services.length > 0) {
    const m = `namespace=~${anyOf(services.map((s) => s.namespace))}, service=~${anyOf(services.map((s) => s.name))}`;
    const window = (range: string, offsetS?: number) => `[${range}]${offsetS ? ` offset ${offsetS}s` : ""}`;
    const ratio = (w: string) =>
      `sum by (namespace, service) (rate(http_requests_total{code=~"5..", ${m}}${w}))` +
      ` / sum by (namespace, service) (rate(http_requests_total{${m}}${w}))`;
    // "Before": the ten minutes ending half an hour before the alert, in the same query as "now".
    beforeOffsetS = Math.round((now.getTime() - alertAt.getTime()) / 1000) + BEFORE_OFFSET_S;
    const query =
      `label_replace(${ratio(window("5m"))}, "window", "now", "", "")` +
      ` or label_replace(${ratio(window("10m", beforeOffsetS))}, "window", "before", "", "")`;
    plan.push({ signal: "error_ratio", query, run: (p) => p.instant(query, now) });
  }
  if (throttled.length > 0) {
    const m = containerMatchers(throttled);
    const query =
      `sum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total{${m}}[15m]))` +
      ` / sum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total{${m}}[15m]))`;
    plan.push({ signal: "cpu_throttling", query, run: (p) => p.instant(query, now) });
  }
  if (plan.length === 0) return { findings: [...findings], queries: 0, readings: 0, durationMs: 0 };

  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new MetricsError("timeout", `${port.name} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const settled = await Promise.allSettled(
    plan.map((q) => Promise.race([Promise.resolve().then(() => q.run(port)), expired])),
  );
  clearTimeout(timer);

  const results = new Map<string, Sample[] | Series[]>();
  const failures: string[] = [];
  settled.forEach((s, i) => {
    if (s.status === "fulfilled") results.set(plan[i]!.signal, s.value);
    else {
      const e = s.reason as unknown;
      failures.push(e instanceof MetricsError ? `${e.code}: ${e.message}` : `error: ${String(e)}`);
    }
  });

  const additions: Additions = new Map();
  const at = iso(now);

  const usage = results.get("memory_vs_limit") as Series[] | undefined;
  if (usage) {
    const limits = new Map(
      ((results.get("memory_limit") ?? []) as Sample[]).map((s) => [sampleKey(s.labels), s.value]),
    );
    const query = plan.find((q) => q.signal === "memory_vs_limit")!.query;
    const byKey = new Map(usage.map((s) => [sampleKey(s.labels), s.points]));
    for (const c of memory) {
      const points = byKey.get(keyOf(c.namespace, c.pod, c.container))?.filter(([, v]) => Number.isFinite(v));
      if (!points || points.length === 0) continue;
      let peak = 0;
      points.forEach(([, v], i) => {
        if (v > points[peak]![1]) peak = i;
      });
      const [t, value] = points[peak]!;
      const limit = specLimit(c) ?? limits.get(keyOf(c.namespace, c.pod, c.container));
      const growth = growthPerMinute(points, peak);
      const rising = growth !== undefined && growth >= MiB / 10 ? `, rising ${bytes(growth)}/min` : "";
      const when = clock(new Date(t * 1000));
      const summary =
        limit && limit > 0
          ? `working set peaked at ${bytes(value)} of the ${bytes(limit)} memory limit (${percent(value / limit)}) at ${when}${rising}`
          : `working set peaked at ${bytes(value)} at ${when}${rising}; no memory limit is known`;
      add(
        additions,
        c.finding,
        { signal: "memory_vs_limit", summary, query, at },
        {
          workingSetPeakBytes: value,
          ...(limit && limit > 0 ? { memoryLimitBytes: limit, workingSetPeakRatio: value / limit } : {}),
          ...(growth !== undefined ? { workingSetGrowthBytesPerMinute: Math.round(growth) } : {}),
        },
      );
    }
  }

  const restarted = results.get("restarts") as Sample[] | undefined;
  if (restarted) {
    const query = plan.find((q) => q.signal === "restarts")!.query;
    const byKey = new Map(restarted.map((s) => [sampleKey(s.labels), s.value]));
    for (const c of restarts) {
      const v = byKey.get(keyOf(c.namespace, c.pod, c.container));
      if (v === undefined || !Number.isFinite(v)) continue;
      const n = Math.round(v);
      add(
        additions,
        c.finding,
        {
          signal: "restarts",
          summary: `restarted ${n} time${n === 1 ? "" : "s"} in the hour before ${clock(now)}`,
          query,
          at,
        },
        { restartsLastHour: n },
      );
    }
  }

  const ratios = results.get("error_ratio") as Sample[] | undefined;
  if (ratios) {
    const query = plan.find((q) => q.signal === "error_ratio")!.query;
    const of = (s: { namespace: string; name: string }, window: string) =>
      ratios.find(
        (r) =>
          r.labels.namespace === s.namespace && r.labels.service === s.name && r.labels.window === window,
      )?.value;
    for (const [finding, svcs] of serviceFindings) {
      // Several Services: the worst one now speaks for the workload.
      const measured = svcs
        .map((s) => ({ now: of(s, "now"), before: of(s, "before") }))
        .filter(
          (r): r is { now: number; before: number | undefined } =>
            r.now !== undefined && Number.isFinite(r.now),
        )
        .sort((a, b) => b.now - a.now);
      const worst = measured[0];
      if (!worst) continue;
      const before = worst.before !== undefined && Number.isFinite(worst.before) ? worst.before : undefined;
      const many = svcs.length > 1 ? ` (worst of its ${svcs.length} Services)` : "";
      const summary =
        `5xx ratio ${percent(worst.now)} at ${clock(now)}` +
        (before !== undefined
          ? `, ${percent(before)} ${Math.round(beforeOffsetS / 60)} min earlier`
          : "; no traffic measured before it") +
        many;
      add(
        additions,
        finding,
        { signal: "error_ratio", summary, query, at },
        { errorRatio: worst.now, ...(before !== undefined ? { errorRatioBefore: before } : {}) },
      );
    }
  }

  const throttling = results.get("cpu_throttling") as Sample[] | undefined;
  if (throttling) {
    const query = plan.find((q) => q.signal === "cpu_throttling")!.query;
    const byKey = new Map(throttling.map((s) => [sampleKey(s.labels), s.value]));
    for (const c of throttled) {
      const v = byKey.get(keyOf(c.namespace, c.pod, c.container));
      if (v === undefined || !Number.isFinite(v)) continue;
      add(
        additions,
        c.finding,
        {
          signal: "cpu_throttling",
          summary: `CPU throttled in ${percent(v)} of its CFS periods in the 15 min before ${clock(now)}`,
          query,
          at,
        },
        { cpuThrottledRatio: v },
      );
    }
  }

  let readings = 0;
  const out = findings.map((f, i) => {
    const a = additions.get(i);
    if (!a) return f;
    readings += a.readings.length;
    return {
      ...f,
      evidence: {
        ...f.evidence,
        metrics: { ...f.evidence.metrics, ...a.metrics },
        readings: [...(f.evidence.readings ?? []), ...a.readings],
      },
    };
  });
  const durationMs = Math.round((performance.now() - started) * 100) / 100;
  const note =
    failures.length > 0
      ? `${failures.length} of ${plan.length} metric ${plan.length === 1 ? "query" : "queries"} failed, so findings lack that metric evidence (${failures[0]})`
      : undefined;
  return { findings: out, queries: plan.length, readings, durationMs, ...(note ? { note } : {}) };
}
