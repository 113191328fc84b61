// SLO evaluation through the metrics port: error ratios over Sloth's windows (5m … 3d) and the
// period, burn rates, the remaining error budget and the four multiwindow alert tiers, for any
// number of SLOs in a handful of batched queries (batch.ts).
//
// The arithmetic is Sloth's, operation for operation, so the numbers equal what its recording
// rules hold at the same instant: ratio = error / total (one division of the two query values),
// burn = ratio / (1 − target), budget remaining = 1 − period ratio / (1 − target), a tier fires
// when both windows' ratios are > factor × (1 − target). The period ratio is the exact one
// (errors over the whole period / events over the whole period, Sloth's unoptimised form), not
// the average of 5-minute ratios, which overweights quiet hours.
//
// NaN-safe: 0/0, a missing series or ±Inf never becomes a number that fires or passes; it is
// `null` ("no data") and the window does not count.
import type { MetricsPort, Sample, Series } from "../ports/metrics.js";
import { batchInstant, batchRange, type BatchOptions, type TaggedQuery } from "./batch.js";
import {
  burnFactor,
  burnTiers,
  durationText,
  errorBudget,
  sliWindowsSeconds,
  withWindow,
  type BurnTier,
  type SloSpec,
} from "./model.js";

export interface WindowResult {
  seconds: number;
  /** Prometheus duration text: 5m, 1h, 30d, or e.g. 317s for a since-rollout window. */
  window: string;
  /** Bad / all over the window; null when unknown (no traffic, no series, NaN). */
  errorRatio: number | null;
  /** Events in the window (total rate × seconds); slices (points) for Timeslices and threshold
   * SLIs; null for raw SLIs. */
  events: number | null;
  /** errorRatio / (1 − target). */
  burnRate: number | null;
  /** Fewer events than the SLO's minEvents: the window does not count for alerting. */
  lowTraffic: boolean;
}

export interface TierResult {
  name: BurnTier["name"];
  severity: BurnTier["severity"];
  factor: number;
  long: WindowResult;
  short: WindowResult;
  firing: boolean;
  /** Why a tier whose ratios are over the factor does not fire (low traffic), if so. */
  suppressed?: string;
}

export interface SloEvaluation {
  id: string;
  at: string;
  /** 5m … 3d, in that order. */
  windows: WindowResult[];
  period: WindowResult;
  /** Fraction of the period's budget left: 1 = untouched, 0 = spent, < 0 = overspent; null = unknown. */
  budgetRemaining: number | null;
  /** Burn over 5m (Sloth's slo:current_burn_rate:ratio). */
  currentBurnRate: number | null;
  /** Burn over the period (slo:period_burn_rate:ratio). */
  periodBurnRate: number | null;
  tiers: TierResult[];
  /** The most severe firing tier's severity, or null. */
  firing: "page" | "ticket" | null;
  /** Queries the metrics API refused, with its reason. Non-empty = the evaluation is incomplete. */
  problems: string[];
}

export interface EvaluateOptions extends BatchOptions {
  /**
   * Per SLO id: seconds since the serving workload last rolled out, when shorter than an hour
   * (the caller keeps it at least 3 minutes: rate() needs several scrapes). The page-fast tier
   * then also looks at the window since the rollout: the burn of the new version alone, not
   * diluted by the hour before it. See docs/decisions/0007-slo.md.
   */
  sinceChange?: Map<string, number>;
}

export interface BatchEvaluation {
  results: Map<string, SloEvaluation>;
  /** HTTP requests issued to the metrics API. */
  requests: number;
}

const finite = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;

function sumOf(samples: Sample[] | undefined): number | null {
  if (!samples || samples.length === 0) return null;
  let s = 0;
  for (const x of samples) s += x.value;
  return s;
}

/** The windows one SLO needs, in seconds: Sloth's, the period, and a since-rollout window. */
function windowsOf(slo: SloSpec, since?: number): number[] {
  const out: number[] = [...sliWindowsSeconds, slo.periodSeconds];
  if (since !== undefined) out.push(since);
  return [...new Set(out)];
}

/** PromQL range text of a window: whole minutes/hours/days as Sloth writes them, else seconds. */
function rangeText(seconds: number): string {
  return durationText(seconds);
}

interface Plan {
  slo: SloSpec;
  windows: number[];
}

function instantQueries(plans: Plan[]): TaggedQuery[] {
  const out: TaggedQuery[] = [];
  for (const { slo, windows } of plans) {
    const sli = slo.sli;
    if (slo.budgeting.method === "Timeslices" || sli.type === "threshold") continue;
    for (const w of windows) {
      if (sli.type === "events") {
        out.push({ key: `${slo.id}|e|${w}`, expr: withWindow(sli.errorQuery, w), group: slo.id });
        out.push({ key: `${slo.id}|t|${w}`, expr: withWindow(sli.totalQuery, w), group: slo.id });
      } else {
        out.push({ key: `${slo.id}|r|${w}`, expr: withWindow(sli.errorRatioQuery, w), group: slo.id });
      }
    }
  }
  return out;
}

function windowResult(slo: SloSpec, seconds: number, ratio: number | null, events: number | null) {
  const r = finite(ratio);
  const budget = errorBudget(slo);
  return {
    seconds,
    window: rangeText(seconds),
    errorRatio: r,
    events: finite(events),
    burnRate: r === null ? null : r / budget,
    lowTraffic: events !== null && Number.isFinite(events) ? events < slo.minEvents : false,
  } satisfies WindowResult;
}

/**
 * Slice-based SLIs (OpenSLO Timeslices budgeting, thresholdMetric): the per-slice (per-point)
 * error flag over the period from one range query, then each window's share of bad slices.
 * Prometheus caps a range query at 11,000 points; long periods are read in chunks.
 */
async function sliceWindows(
  metrics: MetricsPort,
  slo: SloSpec,
  windows: number[],
  at: Date,
  opts: BatchOptions,
): Promise<{ results: Map<number, WindowResult>; requests: number; problem?: string }> {
  const sli = slo.sli;
  let step: number;
  let expr: string;
  let bad: (v: number) => boolean;
  if (sli.type === "threshold") {
    step = sli.stepSeconds;
    expr = sli.query;
    const good = {
      lt: (v: number) => v < sli.value,
      lte: (v: number) => v <= sli.value,
      gt: (v: number) => v > sli.value,
      gte: (v: number) => v >= sli.value,
    }[sli.op];
    bad = (v) => !good(v);
  } else if (slo.budgeting.method === "Timeslices") {
    step = slo.budgeting.sliceSeconds;
    const target = slo.budgeting.sliceTarget;
    expr =
      sli.type === "events"
        ? `(${withWindow(sli.errorQuery, step)}) / (${withWindow(sli.totalQuery, step)})`
        : withWindow(sli.errorRatioQuery, step);
    bad = (ratio) => 1 - ratio < target;
  } else {
    throw new Error("sliceWindows: not a slice-based SLO");
  }
  const longest = Math.max(...windows);
  const end = Math.floor(at.getTime() / 1000 / step) * step;
  const start = end - longest + step;
  const flags: [number, boolean][] = [];
  let requests = 0;
  const maxPoints = 10_000;
  for (let s = start; s <= end; s += maxPoints * step) {
    const e = Math.min(end, s + (maxPoints - 1) * step);
    const r = await batchRange(
      metrics,
      [{ key: "q", expr }],
      new Date(s * 1000),
      new Date(e * 1000),
      step,
      opts,
    );
    requests += r.requests;
    const err = r.errors.get("q");
    if (err) return { results: new Map(), requests, problem: err };
    const series: Series[] = r.values.get("q") ?? [];
    // One series expected; several (a `by` clause) are counted point by point.
    for (const ser of series)
      for (const [t, v] of ser.points) if (Number.isFinite(v)) flags.push([t, bad(v)]);
  }
  const results = new Map<number, WindowResult>();
  for (const w of windows) {
    let n = 0;
    let b = 0;
    for (const [t, f] of flags)
      if (t > end - w) {
        n++;
        if (f) b++;
      }
    // `events` counts slices (points) here; they are not traffic, so the low-traffic guard,
    // meant for a handful of requests, does not apply.
    results.set(w, { ...windowResult(slo, w, n === 0 ? null : b / n, n), lowTraffic: false });
  }
  return { results, requests };
}

/**
 * The metrics server's own "now" (`time()`), so windows end where its data ends even when the
 * caller's clock differs (clock skew; the sandbox's simulated time). `fallback` when it cannot say.
 */
export async function serverNow(metrics: MetricsPort, fallback: Date): Promise<Date> {
  try {
    const [s] = await metrics.instant("time()");
    if (s && Number.isFinite(s.value)) return new Date(Math.round(s.value * 1000));
  } catch {
    // the evaluation itself reports an unreachable server
  }
  return fallback;
}

/** Evaluates every SLO at `at` with as few requests as the batch limits allow. */
export async function evaluateSlos(
  metrics: MetricsPort,
  slos: SloSpec[],
  at: Date,
  opts: EvaluateOptions = {},
): Promise<BatchEvaluation> {
  const plans: Plan[] = slos.map((slo) => ({
    slo,
    windows: windowsOf(slo, opts.sinceChange?.get(slo.id)),
  }));
  const batch = await batchInstant(metrics, instantQueries(plans), at, opts);
  let requests = batch.requests;
  const results = new Map<string, SloEvaluation>();
  for (const { slo, windows } of plans) {
    const problems: string[] = [];
    const byWindow = new Map<number, WindowResult>();
    const sli = slo.sli;
    if (slo.budgeting.method === "Timeslices" || sli.type === "threshold") {
      const r = await sliceWindows(metrics, slo, windows, at, opts);
      requests += r.requests;
      if (r.problem) problems.push(r.problem);
      for (const [w, v] of r.results) byWindow.set(w, v);
    } else {
      for (const w of windows) {
        if (sli.type === "events") {
          const ek = `${slo.id}|e|${w}`;
          const tk = `${slo.id}|t|${w}`;
          for (const k of [ek, tk]) {
            const e = batch.errors.get(k);
            if (e && !problems.includes(e)) problems.push(e);
          }
          if (problems.length > 0) continue;
          const total = sumOf(batch.values.get(tk));
          // No error series while there is traffic = no errors (a `code=~"5.."` selector
          // matches nothing until the first 5xx).
          const errors = sumOf(batch.values.get(ek)) ?? (total !== null ? 0 : null);
          const ratio = total === null || errors === null ? null : errors / total;
          byWindow.set(w, windowResult(slo, w, ratio, total === null ? null : total * w));
        } else {
          const rk = `${slo.id}|r|${w}`;
          const e = batch.errors.get(rk);
          if (e && !problems.includes(e)) problems.push(e);
          const samples = batch.values.get(rk);
          const ratio = samples && samples.length === 1 ? samples[0]!.value : null;
          if (samples && samples.length > 1)
            problems.push(
              `${durationText(w)} error ratio query returned ${samples.length} series, expected 1`,
            );
          byWindow.set(w, windowResult(slo, w, ratio, null));
        }
      }
    }
    results.set(slo.id, assemble(slo, at, byWindow, problems, opts.sinceChange?.get(slo.id)));
  }
  return { results, requests };
}

function assemble(
  slo: SloSpec,
  at: Date,
  byWindow: Map<number, WindowResult>,
  problems: string[],
  since: number | undefined,
): SloEvaluation {
  const budget = errorBudget(slo);
  const get = (s: number) => byWindow.get(s) ?? windowResult(slo, s, null, null);
  const period = get(slo.periodSeconds);
  const tiers: TierResult[] = burnTiers.map((tier) => {
    const factor = burnFactor(tier, slo.periodSeconds);
    const threshold = factor * budget;
    let long = get(tier.longSeconds);
    let short = get(tier.shortSeconds);
    // Change-aware page: right after a rollout the hour is mostly the old version; the window
    // since the rollout measures the new one. It stands in for the long window when it burns
    // faster, and for the short window while the rollout is younger than it (the 5 minutes
    // would still hold the old version). Both must exceed the factor and carry enough events.
    if (tier.name === "page-fast" && since !== undefined && since < tier.longSeconds) {
      const changed = get(since);
      if ((changed.errorRatio ?? -1) > (long.errorRatio ?? -1)) long = changed;
      if (since < tier.shortSeconds) short = changed;
    }
    const over = (w: WindowResult) => w.errorRatio !== null && w.errorRatio > threshold;
    const over2 = over(long) && over(short);
    const low = [long, short].filter((w) => w.lowTraffic);
    return {
      name: tier.name,
      severity: tier.severity,
      factor,
      long,
      short,
      firing: over2 && low.length === 0,
      ...(over2 && low.length > 0
        ? {
            suppressed: `low traffic: ${low.map((w) => `${Math.round(w.events ?? 0)} events in ${w.window}`).join(", ")} (< ${slo.minEvents})`,
          }
        : {}),
    };
  });
  const firing = tiers.some((t) => t.firing && t.severity === "page")
    ? "page"
    : tiers.some((t) => t.firing)
      ? "ticket"
      : null;
  const periodBurnRate = period.burnRate;
  return {
    id: slo.id,
    at: at.toISOString(),
    windows: sliWindowsSeconds.map(get),
    period,
    budgetRemaining: periodBurnRate === null ? null : 1 - periodBurnRate,
    currentBurnRate: get(300).burnRate,
    periodBurnRate,
    tiers,
    firing,
    problems,
  };
}
