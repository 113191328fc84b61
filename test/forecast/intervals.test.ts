import { describe, expect, it } from "vitest";
import { calibratedIntervals } from "../../shared/forecast/ensemble.js";

describe("calibrated prediction intervals", () => {
  const fc = { mean: [100], sd: [10] };
  // 80 holdout errors of half an sd: empirical 95 % quantile 0.5, shrunk with weight 80 / 100:
  // q95 = 0.8 * 0.5 + 0.2 * 1.96
  const ratios = new Array<number>(80).fill(0.5);
  const z95 = 1.959963984540054;

  it("narrow the model's interval when the holdout errors were small", () => {
    const q95 = 0.8 * 0.5 + 0.2 * z95;
    expect(calibratedIntervals(fc, ratios).upper95[0]).toBeCloseTo(100 + 10 * q95, 10);
  });

  it("only widen it when asked to (the ensemble, whose two holdout blocks understate the tail)", () => {
    const pi = calibratedIntervals(fc, ratios, { widenOnly: true });
    expect(pi.upper95[0]).toBeCloseTo(100 + 10 * z95, 10);
    expect(pi.lower95[0]).toBeCloseTo(100 - 10 * z95, 10);
    const wide = calibratedIntervals(fc, new Array<number>(80).fill(3), { widenOnly: true });
    expect(wide.upper95[0]).toBeCloseTo(100 + 10 * (0.8 * 3 + 0.2 * z95), 10);
  });
});
