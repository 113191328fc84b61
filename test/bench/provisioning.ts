// Provisioning simulation: `npx tsx test/bench/provisioning.ts [--series 12] [--days 10]`.
// Replays minute-level demand (daily cycle, a daily batch burst, noise, random surges) against
// node pools whose new nodes become ready `lead` minutes after they are requested (2, 5, 15 min),
// for five policies: reactive, Prometheus predict_linear over 1 h, Prometheus holt_winters
// (double exponential smoothing), Crane-style max of the last 3 days x 1.2, and this engine.
// Scored over the days after a 3-day warm-up:
//  - under-provisioned demand-minutes: sum over minutes of demand not covered by ready nodes (units x min);
//  - over-provisioned node-hours: ready nodes beyond ceil(demand / capacity), summed over time;
//  - scaling actions per day: changes of the requested node count (all policies get a 10-minute
//    scale-down stabilisation window, as the HPA applies);
//  - predictive scaling accuracy: share of demand peaks (each series-day's maximum minute, and every
//    surge start) whose demand was covered by nodes already ready when the peak arrived.

import { parseArgs } from "node:util";
import {
  fitForecaster,
  forecastFrom,
  updateForecaster,
  type Forecaster,
} from "../../shared/forecast/incremental.js";
import { createMissReserve, observeMiss, reserve, seasonalPeak } from "../../shared/forecast/capacity.js";
import { gaussian, seededRandom } from "./synthetic.js";

const { values: args } = parseArgs({
  options: { series: { type: "string", default: "12" }, days: { type: "string", default: "10" } },
});
const SERIES = Number(args.series);
const DAYS = Number(args.days);
const MIN_PER_DAY = 1440;
const WARMUP_DAYS = 3;
const CAPACITY = 10; // demand units one node serves
const BUCKET = 5; // minutes per point the engine forecasts on
const HORIZON = 6; // buckets ahead (30 min), enough for the 15-minute lead
const SCALE_DOWN_WINDOW = 10; // minutes

function demandSeries(rand: () => number): { demand: number[]; surges: number[] } {
  const n = DAYS * MIN_PER_DAY;
  const base = 100 + 300 * rand();
  const amp = base * (0.4 + 0.4 * rand());
  const batchAt = Math.floor(rand() * MIN_PER_DAY);
  const demand: number[] = [];
  const surges: number[] = [];
  let surge = 0;
  for (let t = 0; t < n; t++) {
    const phase = (2 * Math.PI * (t % MIN_PER_DAY)) / MIN_PER_DAY;
    const daily =
      base + amp * Math.sin(phase - Math.PI / 2) * (t % (7 * MIN_PER_DAY) >= 5 * MIN_PER_DAY ? 0.6 : 1);
    const minuteOfDay = t % MIN_PER_DAY;
    const batch = minuteOfDay >= batchAt && minuteOfDay < batchAt + 30 ? 0.5 * base : 0;
    if (surge <= 0 && rand() < 1 / (2 * MIN_PER_DAY)) {
      surge = 60;
      surges.push(t);
    }
    const extra = surge-- > 0 ? 0.4 * base : 0;
    demand.push(Math.max(0, daily + batch + extra + 0.03 * base * gaussian(rand)));
  }
  return { demand, surges };
}

type Policy = (history: readonly number[], t: number, lead: number) => number; // demand units to provision for

const reactive: Policy = (h, t) => h[t] ?? 0;

const predictLinear: Policy = (h, t, lead) => {
  const from = Math.max(0, t - 59);
  const n = t - from + 1;
  let sx = 0, sy = 0, sxx = 0, sxy = 0; // prettier-ignore
  for (let i = from; i <= t; i++) {
    const x = i - t;
    const y = h[i] ?? 0;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const slope = n > 1 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
  const intercept = (sy - slope * sx) / n;
  return Math.max(h[t] ?? 0, intercept + slope * lead);
};

function holtWinters(sf = 0.3, tf = 0.1): Policy {
  return (h, t, lead) => {
    // Prometheus holt_winters over the last hour, then extrapolated by the trend to the lead time.
    const from = Math.max(0, t - 59);
    let level = h[from] ?? 0;
    let trend = (h[from + 1] ?? level) - level;
    for (let i = from + 1; i <= t; i++) {
      const prev = level;
      level = sf * (h[i] ?? 0) + (1 - sf) * (level + trend);
      trend = tf * (level - prev) + (1 - tf) * trend;
    }
    return Math.max(h[t] ?? 0, level + lead * trend);
  };
}

const crane: Policy = (h, t) => {
  let max = 0;
  for (let i = Math.max(0, t - 3 * MIN_PER_DAY); i <= t; i++) max = Math.max(max, h[i] ?? 0);
  return 1.2 * max;
};

/**
 * The engine: 5-minute maxima, the incremental forecaster refitted hourly and updated every bucket;
 * it provisions for the upper 95 % bound at the lead time and for the seasonal peak memory (the
 * highest demand within 5 minutes of the target time on the last 3 days). With `withReserve`, the
 * largest shortfall of the last 7 days is added as headroom for surges.
 */
function engine(withReserve = false): Policy {
  const misses = createMissReserve(7 * MIN_PER_DAY);
  let lastTarget = 0;
  let forecaster: Forecaster | undefined;
  let bucketsSeen = 0;
  let upper: number[] = [];
  return (h, t, lead) => {
    const complete = Math.floor((t + 1) / BUCKET);
    if (complete > bucketsSeen) {
      const buckets: number[] = [];
      for (let b = 0; b < complete; b++) {
        let m = 0;
        for (let i = b * BUCKET; i < (b + 1) * BUCKET; i++) m = Math.max(m, h[i] ?? 0);
        buckets.push(m);
      }
      const recent = buckets.slice(-7 * (MIN_PER_DAY / BUCKET));
      if (!forecaster || complete % 12 === 0)
        forecaster = fitForecaster(recent, MIN_PER_DAY / BUCKET, HORIZON);
      else forecaster = updateForecaster(forecaster, buckets.slice(bucketsSeen));
      bucketsSeen = complete;
      upper = forecaster ? forecastFrom(forecaster, HORIZON).upper95 : [];
    }
    // Cover the forecast bucket the lead time reaches, and the one before it, and never less than now.
    const minutesAhead = (t + 1) % BUCKET === 0 ? lead : lead + ((t + 1) % BUCKET);
    const k = Math.min(HORIZON - 1, Math.floor((minutesAhead - 1) / BUCKET));
    // How far demand now exceeds what was planned for it (the target computed `lead` minutes ago is
    // close enough: plans change slowly).
    observeMiss(misses, t, h[t] ?? 0, lastTarget);
    const peak = seasonalPeak(h, t, t + lead, { period: MIN_PER_DAY, halfWidth: 5, cycles: 3 });
    const base = Math.max(h[t] ?? 0, upper[k] ?? 0, upper[Math.max(0, k - 1)] ?? 0, peak);
    lastTarget = base;
    return withReserve ? base + reserve(misses) : base;
  };
}

interface Outcome {
  underDemandMinutes: number;
  overNodeHours: number;
  actions: number;
  peaks: number;
  peaksCovered: number;
}

function simulate(
  demand: readonly number[],
  surges: readonly number[],
  policy: Policy,
  lead: number,
): Outcome {
  const n = demand.length;
  const start = WARMUP_DAYS * MIN_PER_DAY;
  let requested = Math.ceil((demand[0] ?? 0) / CAPACITY);
  let ready = requested;
  const out: Outcome = { underDemandMinutes: 0, overNodeHours: 0, actions: 0, peaks: 0, peaksCovered: 0 };
  const readyNodes: number[] = [];
  const recommendations: number[] = [];
  const pending: { at: number; nodes: number }[] = [];
  for (let t = 0; t < n; t++) {
    // Nodes that finished booting join; scale-down is immediate.
    while (pending.length && (pending[0]?.at ?? Infinity) <= t)
      ready = Math.max(ready, pending.shift()!.nodes);
    const d = demand[t] ?? 0;
    readyNodes.push(ready);
    if (t >= start) {
      out.underDemandMinutes += Math.max(0, d - ready * CAPACITY);
      out.overNodeHours += Math.max(0, ready - Math.ceil(d / CAPACITY)) / 60;
    }
    // Scale-down stabilisation, as the HPA does: keep the highest recommendation of the last 10 minutes.
    recommendations.push(Math.max(1, Math.ceil(policy(demand, t, lead) / CAPACITY)));
    if (recommendations.length > SCALE_DOWN_WINDOW) recommendations.shift();
    const want = Math.max(...recommendations);
    if (want !== requested) {
      if (t >= start) out.actions++;
      if (want < requested) {
        ready = Math.min(ready, want);
        pending.length = 0;
      } else pending.push({ at: t + lead, nodes: want });
      requested = want;
    }
  }
  const peaks: number[] = [...surges.filter((s) => s >= start)];
  for (let day = WARMUP_DAYS; day < DAYS; day++) {
    let best = day * MIN_PER_DAY;
    for (let t = day * MIN_PER_DAY; t < (day + 1) * MIN_PER_DAY; t++)
      if ((demand[t] ?? 0) > (demand[best] ?? 0)) best = t;
    peaks.push(best);
  }
  for (const p of peaks) {
    out.peaks++;
    if ((readyNodes[p] ?? 0) * CAPACITY >= (demand[p] ?? 0)) out.peaksCovered++;
  }
  return out;
}

const policies: Record<string, () => Policy> = {
  reactive: () => reactive,
  "predict_linear 1h": () => predictLinear,
  holt_winters: () => holtWinters(),
  "crane max3d x1.2": () => crane,
  "prophet engine": () => engine(),
  "prophet + reserve": () => engine(true),
};

const rand = seededRandom(7);
const workloads = Array.from({ length: SERIES }, () => demandSeries(rand));
const scoredDays = SERIES * (DAYS - WARMUP_DAYS);
console.log(
  `provisioning simulation: ${SERIES} demand series x ${DAYS} days at 1 min, node = ${CAPACITY} units`,
);
for (const lead of [2, 5, 15]) {
  console.log(`\nlead time ${lead} min`);
  console.log("policy               under demand-min/day  over node-h/day  actions/day  peaks covered");
  for (const [name, make] of Object.entries(policies)) {
    const total: Outcome = { underDemandMinutes: 0, overNodeHours: 0, actions: 0, peaks: 0, peaksCovered: 0 };
    for (const w of workloads) {
      const o = simulate(w.demand, w.surges, make(), lead);
      for (const k of Object.keys(total) as (keyof Outcome)[]) total[k] += o[k];
    }
    console.log(
      `${name.padEnd(20)} ${(total.underDemandMinutes / scoredDays).toFixed(0).padStart(20)} ${(total.overNodeHours / scoredDays).toFixed(1).padStart(16)} ${(total.actions / scoredDays).toFixed(1).padStart(12)} ${((100 * total.peaksCovered) / total.peaks).toFixed(1).padStart(13)} %`,
    );
  }
}
