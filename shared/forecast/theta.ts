// The classic Theta method as M4 ran it (Assimakopoulos & Nikolopoulos 2000): the theta = 0 line
// (least-squares linear trend) and SES on the theta = 2 line, averaged with equal weights.

import { fitSmoothing, forecastSmoothing } from "./exponential-smoothing.js";

export interface ThetaFit {
  mean: number[];
  /** One-step in-sample residual variance of the combined fit, for interval width. */
  sigma2: number;
  alpha: number;
}

export function thetaForecast(y: readonly number[], horizon: number): ThetaFit {
  const n = y.length;
  const { intercept, slope } = linearTrend(y);
  const line0 = (t: number): number => intercept + slope * t;
  const thetaLine = y.map((v, t) => 2 * v - line0(t));
  const ses = fitSmoothing(thetaLine, { trend: "N", season: "N", period: 1 });
  const sesOut = ses
    ? forecastSmoothing(ses, horizon)
    : new Array<number>(horizon).fill(thetaLine[n - 1] ?? 0);
  const mean = sesOut.map((v, h) => 0.5 * v + 0.5 * line0(n + h));
  return { mean, sigma2: (ses?.sigma2 ?? 0) / 4, alpha: ses?.params.alpha ?? 1 };
}

export function linearTrend(y: readonly number[]): { intercept: number; slope: number } {
  const n = y.length;
  if (n < 2) return { intercept: y[0] ?? 0, slope: 0 };
  const tMean = (n - 1) / 2;
  let yMean = 0;
  for (const v of y) yMean += v;
  yMean /= n;
  let num = 0;
  let den = 0;
  for (let t = 0; t < n; t++) {
    num += (t - tMean) * ((y[t] ?? 0) - yMean);
    den += (t - tMean) ** 2;
  }
  const slope = num / den;
  return { intercept: yMean - slope * tMean, slope };
}
