// The exponential smoothing family in state-space (error-correction) form: simple (N,N), Holt (A,N), damped (Ad,N) and
// the seasonal models with additive or multiplicative seasonality. A model is plain data — its
// parameters and its current state — so it can be forecast from, or moved forward with new points
// (`updateSmoothing`) without refitting. Parameters are fitted by least squares on one-step errors.

import { classicalSeasonalIndex } from "./decomposition.js";
import { minimiseInBox } from "./optimize.js";

export type TrendKind = "N" | "A" | "Ad";
export type SeasonKind = "N" | "A" | "M";

export interface SmoothingSpec {
  trend: TrendKind;
  season: SeasonKind;
  /** Seasonal period in samples; ignored when season is "N". */
  period: number;
}

export interface SmoothingParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

export interface SmoothingState {
  level: number;
  trend: number;
  /** Seasonal terms by position in the cycle: the next point uses `season[observed % period]`. */
  season: number[];
  /** Points consumed so far, counted from the series' first point. */
  observed: number;
}

export interface SmoothingModel {
  kind: "smoothing";
  spec: SmoothingSpec;
  params: SmoothingParams;
  state: SmoothingState;
  /** One-step in-sample residual variance. */
  sigma2: number;
  /** Number of points the parameters were fitted on. */
  fittedOn: number;
  aicc: number;
}

export function smoothingName(spec: SmoothingSpec): string {
  return `ETS(A,${spec.trend},${spec.season}${spec.season === "N" ? "" : `,${spec.period}`})`;
}

/** Fits one exponential smoothing model; `undefined` when the data cannot support it. */
export function fitSmoothing(
  y: readonly number[],
  spec: SmoothingSpec,
  options: { maxEvaluations?: number; params?: Partial<SmoothingParams> } = {},
): SmoothingModel | undefined {
  const m = spec.season === "N" ? 1 : spec.period;
  if (spec.season !== "N" && (m < 2 || y.length < 2 * m)) return undefined;
  if (spec.season === "M" && y.some((v) => v <= 0)) return undefined;
  if (y.length < 3) return undefined;
  const init = initialState(y, spec);
  const free: (keyof SmoothingParams)[] = ["alpha"];
  if (spec.trend !== "N") free.push("beta");
  if (spec.season !== "N") free.push("gamma");
  if (spec.trend === "Ad") free.push("phi");
  const bounds: Record<keyof SmoothingParams, [number, number, number]> = {
    alpha: [1e-4, 0.9999, 0.3],
    beta: [1e-4, 0.9999, 0.1],
    gamma: [1e-4, 0.9999, 0.2],
    phi: [0.8, 0.98, 0.95],
  };
  const fixed = options.params ?? {};
  // beta and gamma are searched as shares of their admissible range: beta < alpha, gamma < 1 - alpha.
  const toParams = (x: readonly number[]): SmoothingParams => {
    const p: SmoothingParams = { alpha: 0, beta: 0, gamma: 0, phi: spec.trend === "A" ? 1 : 0 };
    free.forEach((k, i) => (p[k] = x[i] ?? 0));
    p.alpha = fixed.alpha ?? p.alpha;
    p.beta = fixed.beta ?? p.beta * p.alpha;
    p.gamma = fixed.gamma ?? p.gamma * (1 - p.alpha);
    p.phi = fixed.phi ?? p.phi;
    if (spec.trend === "N") p.phi = 0;
    return p;
  };
  const sse = (x: readonly number[]): number => runSmoothing(y, spec, toParams(x), init).sse;
  const best = minimiseInBox(
    sse,
    free.map((k) => bounds[k][2]),
    { lower: free.map((k) => bounds[k][0]), upper: free.map((k) => bounds[k][1]) },
    { maxEvaluations: options.maxEvaluations ?? 60 * free.length },
  );
  const params = toParams(best.x);
  const run = runSmoothing(y, spec, params, init);
  const n = y.length;
  const k = free.length + 1 + (spec.trend !== "N" ? 1 : 0) + (spec.season !== "N" ? m - 1 : 0) + 1;
  const sigma2 = run.sse / n;
  const loglik = n * Math.log(Math.max(sigma2, 1e-300));
  const aicc = n - k - 1 > 0 ? loglik + 2 * k + (2 * k * (k + 1)) / (n - k - 1) : Infinity;
  return { kind: "smoothing", spec, params, state: run.state, sigma2, fittedOn: n, aicc };
}

/** Runs the recursions over y from `init`; returns the final state and the sum of squared one-step errors. */
export function runSmoothing(
  y: readonly number[],
  spec: SmoothingSpec,
  params: SmoothingParams,
  init: SmoothingState,
): { state: SmoothingState; sse: number } {
  const { alpha, beta, gamma } = params;
  const phi = spec.trend === "N" ? 0 : spec.trend === "A" ? 1 : params.phi;
  const m = spec.season === "N" ? 1 : spec.period;
  const season = init.season.slice();
  let level = init.level;
  let trend = init.trend;
  let sse = 0;
  const seasonal = spec.season !== "N";
  const multiplicative = spec.season === "M";
  let pos = init.observed % m;
  for (let t = 0; t < y.length; t++) {
    const s = seasonal ? season[pos]! : 0;
    const base = level + phi * trend;
    const e = y[t]! - (multiplicative ? base * s : base + s);
    sse += e * e;
    // Error-correction form (Hyndman et al. 2008, class 1 and 2 with additive errors).
    const scaled = multiplicative ? e / s : e;
    level = base + alpha * scaled;
    trend = phi * trend + beta * scaled;
    if (seasonal) season[pos] = s + gamma * (multiplicative ? e / base : e);
    if (++pos === m) pos = 0;
  }
  const observed = init.observed + y.length;
  return { state: { level, trend, season, observed }, sse };
}

/** Point forecasts h = 1..horizon from the model's current state. */
export function forecastSmoothing(model: SmoothingModel, horizon: number): number[] {
  const { spec, params, state } = model;
  const phi = spec.trend === "N" ? 0 : spec.trend === "A" ? 1 : params.phi;
  const m = spec.season === "N" ? 1 : spec.period;
  const out: number[] = [];
  let damp = 0;
  let phiPower = 1;
  for (let h = 1; h <= horizon; h++) {
    phiPower *= phi;
    damp += phiPower;
    const base = state.level + damp * state.trend;
    const s = state.season[(state.observed + h - 1) % m] ?? 0;
    out.push(spec.season === "N" ? base : spec.season === "M" ? base * s : base + s);
  }
  return out;
}

/**
 * Forecast standard deviations by horizon from the linear (additive-error) state-space form:
 * var_h = sigma^2 (1 + sum_{j<h} c_j^2), c_j the effect of one error on the forecast j steps later.
 */
export function smoothingForecastSd(model: SmoothingModel, horizon: number): number[] {
  const { spec, params } = model;
  const phi = spec.trend === "N" ? 0 : spec.trend === "A" ? 1 : params.phi;
  const m = spec.season === "N" ? 0 : spec.period;
  const dl = params.alpha;
  const db = spec.trend === "N" ? 0 : params.beta;
  const ds = spec.season === "N" ? 0 : params.gamma;
  const out: number[] = [];
  let sum = 1;
  let damp = 0;
  let phiPower = 1;
  for (let h = 1; h <= horizon; h++) {
    out.push(Math.sqrt(model.sigma2 * sum));
    phiPower *= phi;
    damp += phiPower;
    const c = dl + db * damp + (m > 0 && h % m === 0 ? ds : 0);
    sum += c * c;
  }
  return out;
}

/** Moves the model forward over new observations, keeping its parameters. */
export function updateSmoothing(model: SmoothingModel, y: readonly number[]): SmoothingModel {
  const run = runSmoothing(y, model.spec, model.params, model.state);
  return { ...model, state: run.state };
}

/**
 * Starting state. The seasonal terms come from classical decomposition of the most recent cycles (up
 * to a week of them): with small gamma they stay close to their start, so they should describe the
 * cycles the forecast follows. Level and trend come from the deseasonalised first cycle.
 */
export function initialState(y: readonly number[], spec: SmoothingSpec): SmoothingState {
  if (spec.season === "N") {
    const k = Math.min(10, y.length - 1);
    const slope = k > 0 ? ((y[k] ?? 0) - (y[0] ?? 0)) / k : 0;
    return { level: y[0] ?? 0, trend: spec.trend === "N" ? 0 : slope, season: [0], observed: 0 };
  }
  const m = spec.period;
  const cycles = Math.min(Math.floor(y.length / m), 7);
  const start = y.length - cycles * m;
  const kind = spec.season === "M" ? "multiplicative" : "additive";
  const recent = classicalSeasonalIndex(y.slice(start), m, kind);
  // Re-align: recent[i] describes position (start + i) mod m of the whole series.
  const season = new Array<number>(m).fill(0);
  for (let i = 0; i < m; i++) season[(start + i) % m] = recent[i] ?? 0;
  let first = 0;
  let second = 0;
  const adjust = (v: number, t: number): number =>
    kind === "multiplicative" ? v / (season[t % m] ?? 1) : v - (season[t % m] ?? 0);
  for (let i = 0; i < m; i++) first += adjust(y[i] ?? 0, i) / m;
  for (let i = m; i < 2 * m; i++) second += adjust(y[i] ?? 0, i) / m;
  const slope = spec.trend === "N" ? 0 : (second - first) / m;
  return { level: adjust(y[0] ?? 0, 0) - slope, trend: slope, season, observed: 0 };
}
