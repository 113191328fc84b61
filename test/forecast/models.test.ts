import { describe, expect, it } from "vitest";
import {
  fitSmoothing,
  forecastSmoothing,
  runSmoothing,
  smoothingForecastSd,
  updateSmoothing,
  type SmoothingModel,
} from "../../shared/forecast/exponential-smoothing.js";
import { naive2Forecast, naiveForecast, seasonalNaiveForecast } from "../../shared/forecast/naive.js";
import { minimiseInBox } from "../../shared/forecast/optimize.js";
import { linearTrend, thetaForecast } from "../../shared/forecast/theta.js";
import { gaussian, seededRandom } from "../bench/synthetic.js";

describe("naive forecasts", () => {
  it("Naive1 repeats the last value, seasonal naive the last cycle", () => {
    expect(naiveForecast([1, 2, 3], 2)).toEqual([3, 3]);
    expect(seasonalNaiveForecast([1, 2, 3, 4, 5], 3, 2)).toEqual([4, 5, 4]);
  });
  it("Naive2 is Naive1 when the series is not seasonal", () => {
    expect(naive2Forecast([5, 3, 8, 1, 9, 2, 7], 3, 1)).toEqual([7, 7, 7]);
  });
});

describe("exponential smoothing recursions, against hand-computed values", () => {
  it("simple exponential smoothing: l = l + alpha e", () => {
    // l0 = 10, alpha = 0.5: y = 12 -> e 2, l 11; y = 9 -> e -2, l 10; SSE 8
    const run = runSmoothing(
      [12, 9],
      { trend: "N", season: "N", period: 1 },
      { alpha: 0.5, beta: 0, gamma: 0, phi: 0 },
      { level: 10, trend: 0, season: [0], observed: 0 },
    );
    expect(run.state.level).toBe(10);
    expect(run.sse).toBe(8);
  });

  it("Holt's linear trend: l = l + b + alpha e, b = b + beta e, forecast l + h b", () => {
    // l0 = 10, b0 = 1, alpha 0.5, beta 0.25: y = 13 -> yhat 11, e 2, l 12, b 1.5
    const run = runSmoothing(
      [13],
      { trend: "A", season: "N", period: 1 },
      { alpha: 0.5, beta: 0.25, gamma: 0, phi: 1 },
      { level: 10, trend: 1, season: [0], observed: 0 },
    );
    expect(run.state).toMatchObject({ level: 12, trend: 1.5 });
    const model: SmoothingModel = {
      kind: "smoothing",
      spec: { trend: "A", season: "N", period: 1 },
      params: { alpha: 0.5, beta: 0.25, gamma: 0, phi: 1 },
      state: run.state,
      sigma2: 4,
      fittedOn: 1,
      aicc: 0,
    };
    expect(forecastSmoothing(model, 2)).toEqual([13.5, 15]);
    // var_2 = sigma^2 (1 + (alpha + beta)^2) = 4 * (1 + 0.5625)
    expect(smoothingForecastSd(model, 2)).toEqual([2, Math.sqrt(4 * 1.5625)]);
  });

  it("damped trend: forecast l + (phi + ... + phi^h) b", () => {
    const model: SmoothingModel = {
      kind: "smoothing",
      spec: { trend: "Ad", season: "N", period: 1 },
      params: { alpha: 0.5, beta: 0.1, gamma: 0, phi: 0.5 },
      state: { level: 10, trend: 4, season: [0], observed: 0 },
      sigma2: 1,
      fittedOn: 1,
      aicc: 0,
    };
    expect(forecastSmoothing(model, 3)).toEqual([12, 13, 13.5]);
  });

  it("additive seasonality: s = s + gamma e at the point's position in the cycle", () => {
    // m = 2, l0 = 10, s = [1, -1], alpha 0.5, gamma 0.2: y = 13 -> yhat 11, e 2, l 11, s0 = 1.4
    const run = runSmoothing(
      [13],
      { trend: "N", season: "A", period: 2 },
      { alpha: 0.5, beta: 0, gamma: 0.2, phi: 0 },
      { level: 10, trend: 0, season: [1, -1], observed: 0 },
    );
    expect(run.state.level).toBe(11);
    expect(run.state.season[0]).toBeCloseTo(1.4, 12);
    expect(run.state.observed).toBe(1);
  });

  it("multiplicative seasonality: yhat = l s, l = l + alpha e / s", () => {
    // l0 = 10, s = [2, 0.5], alpha 0.5, gamma 0.1: y = 24 -> yhat 20, e 4, l 11, s0 = 2 + 0.1 * 4 / 10
    const run = runSmoothing(
      [24],
      { trend: "N", season: "M", period: 2 },
      { alpha: 0.5, beta: 0, gamma: 0.1, phi: 0 },
      { level: 10, trend: 0, season: [2, 0.5], observed: 0 },
    );
    expect(run.state.level).toBe(11);
    expect(run.state.season[0]).toBeCloseTo(2.04, 12);
  });
});

describe("fitted exponential smoothing", () => {
  const rand = seededRandom(3);
  const seasonal = Array.from(
    { length: 24 * 20 },
    (_, t) => 100 + 30 * Math.sin((2 * Math.PI * t) / 24) + gaussian(rand),
  );

  it("forecasts a noisy seasonal series within the noise", () => {
    const model = fitSmoothing(seasonal, { trend: "N", season: "A", period: 24 })!;
    const fc = forecastSmoothing(model, 24);
    const truth = Array.from({ length: 24 }, (_, h) => 100 + 30 * Math.sin((2 * Math.PI * (480 + h)) / 24));
    const mae = fc.reduce((s, v, h) => s + Math.abs(v - truth[h]!), 0) / 24;
    expect(mae).toBeLessThan(1.5);
  });

  it("prefers multiplicative seasonality by AICc when the swing grows with the level", () => {
    const y = Array.from({ length: 24 * 20 }, (_, t) => {
      const level = 50 + t;
      return level * (1 + 0.5 * Math.sin((2 * Math.PI * t) / 24)) * (1 + 0.01 * gaussian(rand));
    });
    const additive = fitSmoothing(y, { trend: "Ad", season: "A", period: 24 })!;
    const multiplicative = fitSmoothing(y, { trend: "Ad", season: "M", period: 24 })!;
    expect(multiplicative.aicc).toBeLessThan(additive.aicc);
  });

  it("updates incrementally: fit then update equals running the recursion over everything", () => {
    const model = fitSmoothing(seasonal.slice(0, 400), { trend: "N", season: "A", period: 24 })!;
    const updated = updateSmoothing(model, seasonal.slice(400));
    const direct = runSmoothing(seasonal.slice(400), model.spec, model.params, model.state);
    expect(updated.state).toEqual(direct.state);
    expect(updated.state.observed).toBe(480);
  });
});

describe("Theta", () => {
  it("fits the least-squares line", () => {
    expect(linearTrend([1, 3, 5, 7])).toEqual({ intercept: 1, slope: 2 });
  });
  it("forecasts a constant series as the constant", () => {
    expect(thetaForecast([4, 4, 4, 4, 4, 4], 3).mean).toEqual([4, 4, 4]);
  });
  it("averages SES on the theta = 2 line with the extrapolated line", () => {
    // y = 0,2,4,6 (a line): theta line = 2y - line = the line itself; SES follows it with alpha -> 1,
    // so the forecast is (6 + line(4 + h - 1)) / 2 = (6 + 8) / 2 = 7 at h = 1.
    expect(thetaForecast([0, 2, 4, 6], 1).mean[0]).toBeCloseTo(7, 2);
  });
});

describe("the box-constrained optimiser", () => {
  it("finds the minimum of a bowl inside the box", () => {
    const best = minimiseInBox((x) => (x[0]! - 0.3) ** 2 + (x[1]! - 0.7) ** 2, [0.5, 0.5], {
      lower: [0, 0],
      upper: [1, 1],
    });
    expect(best.x[0]).toBeCloseTo(0.3, 3);
    expect(best.x[1]).toBeCloseTo(0.7, 3);
  });
});
