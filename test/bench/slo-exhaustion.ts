// SLO time to exhaustion: `npx tsx test/bench/slo-exhaustion.ts [--seeds 1,2,3] [--cases 200]`.
// Synthetic SLO histories (hourly buckets, 30-day rolling period, 37 days of history) with a known
// exhaustion time: Poisson traffic with a daily and weekly shape, a background burn, sometimes an old
// incident still inside the window (it leaves it later, so the budget recovers a little), and a step to
// a burn of 1.5×–20× at a random time in the last days. The truth is the generator run forward with
// the SAME random stream (the realised future, noise included), then the exact rolling-window
// arithmetic: what an operator would have seen happen. Cases already exhausted now or not exhausted
// within the period are drawn again. A case the estimator calls not_within_horizon counts as an
// estimate at the horizon.

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  timeToExhaustion,
  type BudgetHistoryPoint,
  type ExhaustionInput,
} from "../../shared/slo/exhaustion.js";
import { gaussian, seededRandom } from "./synthetic.js";

const HOUR = 3600;
const DAY = 86_400;

export interface SyntheticBudget {
  input: ExhaustionInput;
  /** The realised future buckets after `now`, for the truth. */
  future: { errors: number; total: number }[];
  /** Seconds from `now` to exhaustion in the realised future; undefined when not within the horizon. */
  trueSeconds: number | undefined;
  /** Burn rate after the step. */
  burn: number;
}

/** Poisson draw: Knuth below a mean of 30, a rounded normal above. */
export function poisson(rand: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rand)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

/**
 * One synthetic SLO history and its realised future. Rates per hour: traffic R·daily·weekly shape,
 * errors = burn(t)·(1 − target)·traffic(t)·lognormal burst factor.
 */
export function syntheticBudget(
  rand: () => number,
  options: { historyDays?: number; futureChange?: boolean } = {},
): SyntheticBudget {
  const step = HOUR;
  const period = 30 * DAY;
  const window = period / step;
  const historyLength = (options.historyDays ?? 37) * 24;
  const targets = [0.99, 0.995, 0.999];
  const target = targets[Math.floor(rand() * targets.length)] ?? 0.999;
  const budget = 1 - target;
  const rate = 10 ** (2 + 2.5 * rand());
  const amplitude = 0.6 * rand();
  const phase = rand() * 2 * Math.PI;
  const background = 0.5 * rand();
  const burn = 1.5 * (20 / 1.5) ** rand();
  const incident =
    rand() < 0.4
      ? {
          start: historyLength - Math.round((8 + 21 * rand()) * 24),
          hours: 2 + Math.round(22 * rand()),
          burn: 5 + 25 * rand(),
        }
      : undefined;
  // Share of the window's budget the incident uses (roughly) and the step start that leaves ~15 %+.
  const incidentShare = incident ? (incident.hours * (incident.burn - background)) / window : 0;
  const room = (0.85 - background - incidentShare) * window;
  const stepHours = Math.max(3, Math.min(240, (room / (burn - background)) * (0.1 + 0.9 * rand())));
  const stepAt = historyLength - Math.round(stepHours);
  // An unannounced change in the future: the burn moves by ×0.5–×2 at some time in the next week.
  const change = options.futureChange
    ? { at: historyLength + Math.round(rand() * 7 * 24), factor: 2 ** (2 * rand() - 1) }
    : undefined;
  const burnAt = (t: number): number => {
    if (change && t >= change.at) return burn * change.factor;
    if (t >= stepAt) return burn;
    if (incident && t >= incident.start && t < incident.start + incident.hours) return incident.burn;
    return background;
  };
  const trafficAt = (t: number): number =>
    rate *
    (1 + amplitude * Math.sin((2 * Math.PI * t) / 24 + phase)) *
    (1 + 0.1 * Math.sin((2 * Math.PI * t) / 168));
  const bucket = (t: number): { errors: number; total: number } => {
    const traffic = trafficAt(t);
    const total = poisson(rand, traffic);
    const burst = Math.exp(0.3 * gaussian(rand) - 0.045);
    const errors = Math.min(total, poisson(rand, burnAt(t) * budget * traffic * burst));
    return { errors, total };
  };
  const now = 1_800_000_000;
  const history: BudgetHistoryPoint[] = [];
  for (let t = 0; t < historyLength; t++)
    history.push({ t: now - (historyLength - 1 - t) * step, ...bucket(t) });
  const future: { errors: number; total: number }[] = [];
  for (let t = historyLength; t < historyLength + window; t++) future.push(bucket(t));
  const input: ExhaustionInput = { target, periodSeconds: period, stepSeconds: step, history, now };
  return { input, future, trueSeconds: trueExhaustion(input, future), burn };
}

/** The exact rolling-window arithmetic on history + realised future: the first time errors ≥ allowed. */
export function trueExhaustion(
  input: ExhaustionInput,
  future: readonly { errors: number; total: number }[],
): number | undefined {
  const all = [...input.history.map((p) => ({ errors: p.errors || 0, total: p.total || 0 })), ...future];
  const n = input.history.length;
  const window = Math.round(input.periodSeconds / input.stepSeconds);
  const budget = 1 - input.target;
  const slack = (end: number): number => {
    let e = 0;
    let total = 0;
    for (let i = Math.max(0, end - window); i < end; i++) {
      e += all[i]!.errors;
      total += all[i]!.total;
    }
    return budget * total - e;
  };
  let prev = slack(n);
  if (prev <= 0) return 0;
  for (let h = 1; h <= future.length; h++) {
    const s = slack(n + h);
    if (s <= 0) return (h - 1 + prev / (prev - s)) * input.stepSeconds;
    prev = s;
  }
  return undefined;
}

export interface ExhaustionAccuracy {
  cases: number;
  medianErrorHours: number;
  p90ErrorHours: number;
  /** Share of cases with |error| ≤ 24 h. */
  withinOneDay: number;
  /** Share of cases whose true time is within [earliest, latest]. */
  coverage: number;
  msPerSlo: number;
}

export async function exhaustionAccuracy(
  opts: {
    seeds?: number[];
    cases?: number;
    /** Share of cases whose burn changes, unannounced, in the next week (default 0). */
    futureChanges?: number;
  } = {},
): Promise<ExhaustionAccuracy> {
  const seeds = opts.seeds ?? [1, 2, 3];
  const perSeed = opts.cases ?? 200;
  const errors: number[] = [];
  let covered = 0;
  let ms = 0;
  for (const seed of seeds) {
    const rand = seededRandom(seed);
    for (let c = 0; c < perSeed; c++) {
      const share = opts.futureChanges ?? 0;
      const options = { futureChange: share > 0 && rand() < share };
      let s = syntheticBudget(rand, options);
      for (let tries = 0; tries < 50 && !(s.trueSeconds !== undefined && s.trueSeconds > 0); tries++)
        s = syntheticBudget(rand, options);
      const truth = s.trueSeconds ?? s.input.periodSeconds;
      const t0 = performance.now();
      const est = timeToExhaustion(s.input);
      ms += performance.now() - t0;
      const horizon = s.input.horizonSeconds ?? s.input.periodSeconds;
      errors.push(Math.abs((est.seconds ?? horizon) - truth) / HOUR);
      if ((est.earliest ?? 0) <= truth && truth <= (est.latest ?? Infinity)) covered++;
    }
    // Yield between seeds so a caller's event loop is not starved.
    await Promise.resolve();
  }
  const sorted = [...errors].sort((a, b) => a - b);
  const quantile = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return {
    cases: errors.length,
    medianErrorHours: quantile(0.5),
    p90ErrorHours: quantile(0.9),
    withinOneDay: errors.filter((e) => e <= 24).length / Math.max(1, errors.length),
    coverage: covered / Math.max(1, errors.length),
    msPerSlo: ms / Math.max(1, errors.length),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values: args } = parseArgs({
    options: { seeds: { type: "string", default: "1,2,3" }, cases: { type: "string", default: "200" } },
  });
  const seeds = (args.seeds ?? "1,2,3").split(",").map(Number);
  const cases = Number(args.cases);
  void Promise.all([
    exhaustionAccuracy({ seeds, cases }),
    exhaustionAccuracy({ seeds, cases, futureChanges: 0.25 }),
  ]).then(([plain, changed]) => {
    const rows: [string, (r: ExhaustionAccuracy) => string][] = [
      ["cases", (r) => String(r.cases)],
      ["median error (h)", (r) => r.medianErrorHours.toFixed(1)],
      ["p90 error (h)", (r) => r.p90ErrorHours.toFixed(1)],
      ["within one day", (r) => `${(100 * r.withinOneDay).toFixed(1)} %`],
      ["truth in [earliest, latest]", (r) => `${(100 * r.coverage).toFixed(1)} %`],
      ["ms per SLO", (r) => r.msPerSlo.toFixed(2)],
    ];
    console.log(`SLO time to exhaustion, synthetic budgets (seeds ${seeds.join(",")}), burn 1.5×–20×`);
    console.log(`${"".padEnd(28)}${"steps in history".padStart(18)}${"+25 % future change".padStart(22)}`);
    for (const [label, cell] of rows)
      console.log(`${label.padEnd(28)}${cell(plain!).padStart(18)}${cell(changed!).padStart(22)}`);
  });
}
