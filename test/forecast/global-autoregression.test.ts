import { describe, expect, it } from "vitest";
import { forecastPanel, forecastSeries } from "../../shared/forecast/engine.js";
import {
  fitGlobalAutoregression,
  fitGlobalModels,
  forecastGlobal,
  globalInput,
  globalLags,
  globalModelKey,
  type GlobalInput,
} from "../../shared/forecast/global-autoregression.js";
import { dailyDemand, seededRandom } from "../bench/synthetic.js";

describe("global autoregression, against hand-computed values", () => {
  it("uses the last hours, yesterday around this hour and this hour on the last seven days", () => {
    expect(globalLags(24)).toEqual([1, 2, 3, 23, 24, 25, 48, 72, 96, 120, 144, 168]);
    // period 2: {1, 2, 3} and 2..7 periods back
    expect(globalLags(2)).toEqual([1, 2, 3, 4, 6, 8, 10, 12, 14]);
  });

  it("pools the rows of every series into one least-squares fit", () => {
    // Lag 1 rows: A = [1, 3, 4, 4] gives (1, 3), (3, 4), (4, 4); B = [3, 2, 2, 1] gives (3, 2),
    // (2, 2), (2, 1). Mean x 5/2, mean y 8/3, Sxy 3, Sxx 11/2: slope 6/11, intercept
    // 8/3 - (6/11)(5/2) = 43/33. Alone, A would give slope 5/14 and B 1/2.
    const model = fitGlobalAutoregression(
      [
        [1, 3, 4, 4],
        [3, 2, 2, 1],
      ],
      [1],
      { lambda: 0 },
    )!;
    expect(model.coefficients[0]).toBeCloseTo(6 / 11, 12);
    expect(model.intercept).toBeCloseTo(43 / 33, 12);
    // Too few rows for the parameters: nothing is fitted.
    expect(fitGlobalAutoregression([[1, 2, 3]], [1])).toBeUndefined();
  });

  it("forecasts recursively, with the series' own residual sd carried back to its scale", () => {
    // z = [4, 3, 1], z_t = 0.5 z_{t-1}: residuals 3 - 2 = 1 and 1 - 1.5 = -0.5, sigma^2 = 1.25 / 2.
    // Forecasts 0.5, 0.25; restore adds 10; the slope 2 doubles the sd; var_2 = sigma^2 (1 + 0.25).
    const input: GlobalInput = { z: [4, 3, 1], restore: (v) => v + 10, slope: () => 2 };
    const fc = forecastGlobal({ lags: [1], coefficients: [0.5], intercept: 0 }, input, 2)!;
    expect(fc.mean).toEqual([10.5, 10.25]);
    const sigma = Math.sqrt(0.625);
    expect(fc.sd[0]).toBeCloseTo(2 * sigma, 12);
    expect(fc.sd[1]).toBeCloseTo(2 * sigma * Math.sqrt(1.25), 12);
  });

  it("takes the daily figure out on logs and puts it back", () => {
    // level 10, day [1, 2] (multiplicative): the logs deseasonalise to a constant, so z is 0 and
    // restoring 0 gives the pattern again.
    const y = Array.from({ length: 40 }, (_, t) => 10 * (t % 2 ? 2 : 1));
    const input = globalInput(y, { period: 2, longPeriod: 0, recentCycles: 14 })!;
    input.z.forEach((v) => expect(v).toBeCloseTo(0, 12));
    expect(input.restore(0, 40)).toBeCloseTo(10, 10);
    expect(input.restore(0, 41)).toBeCloseTo(20, 10);
    // d exp(v) / dv at v = 0 is the value itself.
    expect(input.slope(0, 41)).toBeCloseTo(20, 10);
    // Shorter than three periods: no input.
    expect(globalInput([1, 2, 3, 4, 5], { period: 2, longPeriod: 0, recentCycles: 14 })).toBeUndefined();
  });
});

describe("forecasting a panel", () => {
  const rand = seededRandom(7);
  const panel = Array.from({ length: 4 }, () => dailyDemand(24 * 28, rand, 24).map((v) => v + 100));

  it("adds the global members to the fixed combination, pooled over the panel", () => {
    const fcs = forecastPanel(panel, { horizon: 12, period: 24 });
    expect(fcs).toHaveLength(4);
    for (const fc of fcs) {
      expect(fc.members).toContain("global-ar");
      expect(fc.mean.every(Number.isFinite)).toBe(true);
      fc.mean.forEach((m, h) => {
        expect(fc.lower95[h]).toBeLessThanOrEqual(m);
        expect(fc.upper95[h]).toBeGreaterThanOrEqual(m);
      });
    }
    // Alone, a series gets the model fitted on itself: a panel of one.
    const alone = forecastSeries(panel[0]!, { horizon: 12, period: 24 });
    expect(alone.members).toContain("global-ar");
    expect(alone).toEqual(forecastPanel([panel[0]!], { horizon: 12, period: 24 })[0]);
    expect(alone.mean).not.toEqual(fcs[0]!.mean);
  });

  it("fits each holdout's global model without the points after its origin, in any series", () => {
    const series = panel.map((y) => ({ y, period: 24, longPeriod: 0 }));
    const changed = panel.map((y) => ({
      y: [...y.slice(0, -12), ...y.slice(-12).map((v) => v * 3)],
      period: 24,
      longPeriod: 0,
    }));
    const key = globalModelKey(24, false, 12);
    const a = fitGlobalModels(series, [0, 12], 14);
    const b = fitGlobalModels(changed, [0, 12], 14);
    expect(b.get(key)).toEqual(a.get(key));
    expect(b.get(globalModelKey(24, false, 0))).not.toEqual(a.get(globalModelKey(24, false, 0)));
  });

  it("is forecastSeries for each series in fast effort", () => {
    const fast = forecastPanel(panel.slice(0, 2), { horizon: 12, period: 24, effort: "fast" });
    expect(fast[1]).toEqual(forecastSeries(panel[1]!, { horizon: 12, period: 24, effort: "fast" }));
  });
});

describe("an explosive global model", () => {
  it("stays within the observed range widened by half its width", () => {
    // z in [0, 2]: forecasts are clipped to [-1, 3]; 2 * 2 = 4 -> 3, then 2 * 3 = 6 -> 3.
    const input: GlobalInput = { z: [0, 1, 2], restore: (v) => v, slope: () => 1 };
    const fc = forecastGlobal({ lags: [1], coefficients: [2], intercept: 0 }, input, 2)!;
    expect(fc.mean).toEqual([3, 3]);
  });
});
