// Autoregression on chosen lags, x_t = c + sum_j phi_j x_{t - lag_j} + e_t, fitted by least squares
// (a tiny ridge keeps the normal equations solvable) and forecast recursively. With lags such as
// [1, 2, period] on a deseasonalised series it follows both yesterday's level and the last hours.

export interface AutoregressionModel {
  lags: number[];
  coefficients: number[];
  intercept: number;
  /** One-step in-sample residual variance. */
  sigma2: number;
}

export function fitAutoregression(
  x: readonly number[],
  lags: readonly number[],
): AutoregressionModel | undefined {
  const maxLag = Math.max(...lags);
  const k = lags.length + 1;
  if (lags.length === 0 || x.length - maxLag < 3 * k) return undefined;
  const gram = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const rhs = new Array<number>(k).fill(0);
  const row = new Array<number>(k).fill(1);
  for (let t = maxLag; t < x.length; t++) {
    lags.forEach((lag, j) => (row[j] = x[t - lag] ?? 0));
    for (let i = 0; i < k; i++) {
      rhs[i]! += row[i]! * (x[t] ?? 0);
      for (let j = 0; j < k; j++) gram[i]![j]! += row[i]! * row[j]!;
    }
  }
  for (let i = 0; i < k; i++) gram[i]![i]! *= 1 + 1e-9;
  const beta = solveLinear(gram, rhs);
  if (!beta) return undefined;
  const coefficients = beta.slice(0, lags.length);
  const intercept = beta[lags.length] ?? 0;
  let sse = 0;
  for (let t = maxLag; t < x.length; t++) {
    const e = (x[t] ?? 0) - predictAt(x, t, lags, coefficients, intercept);
    sse += e * e;
  }
  return { lags: [...lags], coefficients, intercept, sigma2: sse / (x.length - maxLag) };
}

/** Forecasts h = 1..horizon after the end of `history`, feeding each forecast back as a lag. */
export function forecastAutoregression(
  model: AutoregressionModel,
  history: readonly number[],
  horizon: number,
): number[] {
  const path = [...history];
  for (let h = 0; h < horizon; h++) {
    path.push(predictAt(path, path.length, model.lags, model.coefficients, model.intercept));
  }
  return path.slice(history.length);
}

/** Forecast sd by horizon: sigma * sqrt(sum_{j<h} psi_j^2), psi the model's impulse response. */
export function autoregressionForecastSd(model: AutoregressionModel, horizon: number): number[] {
  const psi = [1];
  for (let j = 1; j < horizon; j++) {
    let v = 0;
    model.lags.forEach((lag, i) => {
      if (j - lag >= 0) v += (model.coefficients[i] ?? 0) * (psi[j - lag] ?? 0);
    });
    psi.push(v);
  }
  const sigma = Math.sqrt(model.sigma2);
  let sum = 0;
  return psi.map((p) => {
    sum += p * p;
    return sigma * Math.sqrt(sum);
  });
}

function predictAt(
  x: readonly number[],
  t: number,
  lags: readonly number[],
  coefficients: readonly number[],
  intercept: number,
): number {
  let v = intercept;
  lags.forEach((lag, j) => (v += (coefficients[j] ?? 0) * (x[t - lag] ?? 0)));
  return v;
}

/** Gaussian elimination with partial pivoting; undefined when the system is singular. */
export function solveLinear(a: readonly (readonly number[])[], b: readonly number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] ?? 0]);
  const scale = Math.max(...a.map((row, i) => Math.abs(row[i] ?? 0)));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const pivot = m[c]![c]!;
    if (!(Math.abs(pivot) > 1e-12 * scale)) return undefined;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / pivot;
      for (let j = c; j <= n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}
