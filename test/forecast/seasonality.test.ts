import { describe, expect, it } from "vitest";
import { centredMovingAverage, classicalSeasonalIndex } from "../../shared/forecast/decomposition.js";
import {
  acf,
  autocorrelation,
  detectSeasonalPeriods,
  m4SeasonalityTest,
} from "../../shared/forecast/seasonality.js";
import { gaussian, seededRandom } from "../bench/synthetic.js";

describe("autocorrelation", () => {
  it("uses R's normalisation: lag-k cross products over the full sum of squares", () => {
    // x = 1,2,3,4: mean 2.5, deviations -1.5,-0.5,0.5,1.5, sum of squares 5
    // r1 = (0.75 - 0.25 + 0.75) / 5 = 0.25; r2 = (-0.75 - 0.75) / 5 = -0.3
    expect(autocorrelation([1, 2, 3, 4], 1)).toBeCloseTo(0.25, 12);
    expect(acf([1, 2, 3, 4], 2)).toEqual([expect.closeTo(0.25, 12), expect.closeTo(-0.3, 12)]);
  });
});

describe("M4's 90 % seasonality test", () => {
  const rand = seededRandom(1);
  it("finds a daily cycle in hourly data", () => {
    const y = Array.from(
      { length: 300 },
      (_, t) => 100 + 20 * Math.sin((2 * Math.PI * t) / 24) + gaussian(rand),
    );
    expect(m4SeasonalityTest(y, 24)).toBe(true);
  });
  it("finds none in white noise", () => {
    const y = Array.from({ length: 300 }, () => 100 + gaussian(rand));
    expect(m4SeasonalityTest(y, 24)).toBe(false);
  });
  it("needs three seasons and R's lag.max = floor(10 log10 n) to reach the period", () => {
    const sine = (n: number): number[] =>
      Array.from({ length: n }, (_, t) => 10 + Math.sin((2 * Math.PI * t) / 24));
    expect(m4SeasonalityTest(sine(71), 24)).toBe(false); // fewer than 3 * 24 points
    expect(m4SeasonalityTest(sine(200), 24)).toBe(false); // floor(10 log10 200) = 23 < 24
    expect(m4SeasonalityTest(sine(260), 24)).toBe(true);
  });
});

describe("seasonality detection for metric data", () => {
  it("finds a day at a 5-minute step", () => {
    const rand = seededRandom(2);
    const y = Array.from(
      { length: 2016 },
      (_, t) => 50 + 10 * Math.sin((2 * Math.PI * t) / 288) + gaussian(rand),
    );
    expect(detectSeasonalPeriods(y, 300)).toEqual([288]);
  });
});

describe("classical decomposition", () => {
  it("takes a 2 x m centred moving average for even m", () => {
    // m = 2: (0.5 x[t-1] + x[t] + 0.5 x[t+1]) / 2
    expect(centredMovingAverage([1, 3, 2, 6], 2)).toEqual([NaN, 2.25, 3.25, NaN]);
    expect(centredMovingAverage([1, 3, 2, 6, 4], 3)).toEqual([NaN, 2, 11 / 3, 4, NaN]);
  });

  it("recovers multiplicative seasonal factors of a flat series", () => {
    const factors = [0.5, 1, 1.5, 1];
    const y = Array.from({ length: 40 }, (_, t) => 10 * factors[t % 4]!);
    classicalSeasonalIndex(y, 4, "multiplicative").forEach((f, i) => expect(f).toBeCloseTo(factors[i]!, 10));
  });
});
