import { describe, expect, it } from "vitest";
import {
  autoregressionForecastSd,
  fitAutoregression,
  forecastAutoregression,
  solveLinear,
} from "../../shared/forecast/autoregression.js";
import { forecastMethods, type MethodContext } from "../../shared/forecast/methods.js";
import { decomposeMultiSeasonal } from "../../shared/forecast/multi-seasonal.js";

describe("decomposition with a daily and a weekly period", () => {
  it("separates the day from what the week adds to it", () => {
    // period 2, week 4: level 10, day [-1, 1], week [0.5, 0.5, -0.5, -0.5] (its average day is 0).
    const day = [-1, 1];
    const week = [0.5, 0.5, -0.5, -0.5];
    const x = Array.from({ length: 40 }, (_, t) => 10 + day[t % 2]! + week[t % 4]!);
    const d = decomposeMultiSeasonal(x, { period: 2, longPeriod: 4, recentCycles: 5 });
    d.adjusted.forEach((v) => expect(v).toBeCloseTo(10, 10));
    // t = 40: day -1, week 0.5; t = 42: day -1, week -0.5
    expect(d.seasonalAt(40)).toBeCloseTo(-0.5, 10);
    expect(d.seasonalAt(42)).toBeCloseTo(-1.5, 10);
  });

  it("takes the daily figure from the recent cycles only", () => {
    // The day swings by ±2 for the first 20 points and by ±1 after; the last 5 cycles give [-1, 1].
    const x = Array.from({ length: 40 }, (_, t) => 10 + (t % 2 ? 1 : -1) * (t < 20 ? 2 : 1));
    const d = decomposeMultiSeasonal(x, { period: 2, longPeriod: 0, recentCycles: 5 });
    expect(d.seasonalAt(40)).toBeCloseTo(-1, 12);
    expect(d.seasonalAt(41)).toBeCloseTo(1, 12);
    expect(d.adjusted[39]).toBeCloseTo(10, 12);
    // The old, wider swing stays in the adjusted series: 8 - (-1) = 9.
    expect(d.adjusted[0]).toBeCloseTo(9, 12);
  });
});

describe("autoregression on chosen lags", () => {
  it("recovers x_t = 1 + 0.5 x_{t-1} and forecasts it forward", () => {
    const x = [0];
    for (let t = 1; t < 12; t++) x.push(1 + 0.5 * x[t - 1]!);
    const model = fitAutoregression(x, [1])!;
    expect(model.coefficients[0]).toBeCloseTo(0.5, 6);
    expect(model.intercept).toBeCloseTo(1, 6);
    const last = x[11]!;
    const [f1, f2] = forecastAutoregression(model, x, 2);
    expect(f1).toBeCloseTo(1 + 0.5 * last, 6);
    expect(f2).toBeCloseTo(1 + 0.5 * (1 + 0.5 * last), 6);
  });

  it("gives forecast sds from the impulse response: AR(1) and a seasonal random walk", () => {
    // phi 0.5, sigma 2: var_h = 4 (1 + 0.25 + 0.0625 ...)
    const ar1 = { lags: [1], coefficients: [0.5], intercept: 0, sigma2: 4 };
    expect(autoregressionForecastSd(ar1, 3)).toEqual([2, 2 * Math.sqrt(1.25), 2 * Math.sqrt(1.3125)]);
    // x_t = x_{t-2} + e: psi = 1, 0, 1, 0 -> sd 1, 1, sqrt 2, sqrt 2
    const seasonalWalk = { lags: [2], coefficients: [1], intercept: 0, sigma2: 1 };
    expect(autoregressionForecastSd(seasonalWalk, 4)).toEqual([1, 1, Math.SQRT2, Math.SQRT2]);
  });

  it("solves small linear systems and reports singular ones", () => {
    // 2a + b = 5, a + 3b = 10 -> a = 1, b = 3
    const [a, b] = solveLinear(
      [
        [2, 1],
        [1, 3],
      ],
      [5, 10],
    )!;
    expect(a).toBeCloseTo(1, 12);
    expect(b).toBeCloseTo(3, 12);
    expect(
      solveLinear(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    ).toBeUndefined();
  });
});

describe("the multi-seasonal forecasting methods", () => {
  const ctx: MethodContext = { horizon: 6, period: 4, longPeriod: 28, effort: "full" };
  const shape = [80, 100, 140, 120];
  const periodic = Array.from({ length: 48 }, (_, t) => shape[t % 4]!);

  it("repeat an exactly periodic series (on its logs: the figure scales with the level)", () => {
    for (const name of ["mstl-ses", "mstl-ar"]) {
      const fc = forecastMethods[name]!(periodic, ctx)!;
      fc.mean.forEach((v, h) => expect(v).toBeCloseTo(shape[(48 + h) % 4]!, 6));
    }
  });

  it("leave the weekly versions out until three weeks of history exist", () => {
    expect(forecastMethods["mstl-ses-week"]!(periodic, ctx)).toBeUndefined();
    expect(forecastMethods["mstl-ar-week"]!(periodic, ctx)).toBeUndefined();
    const long = Array.from({ length: 3 * 28 }, (_, t) => shape[t % 4]! + (t % 28 < 8 ? 10 : 0));
    expect(forecastMethods["mstl-ses-week"]!(long, ctx)?.mean).toHaveLength(6);
  });
});
