import { describe, expect, it } from "vitest";
import { createMissReserve, observeMiss, reserve, seasonalPeak } from "../../shared/forecast/capacity.js";
import { removeSeasonalFigure } from "../../shared/forecast/decomposition.js";
import { ensembleForecast } from "../../shared/forecast/ensemble.js";
import { forecastMethods } from "../../shared/forecast/methods.js";

describe("capacity ahead of demand", () => {
  it("remembers the peak around the same time on earlier cycles, never looking past now", () => {
    //          cycle 0          cycle 1          now = 9
    const h = [1, 9, 1, 1, 1, 2, 1, 1, 1, 1];
    // Target 11 = position 1 of cycle 2; one and two cycles back are indices 6 and 1.
    expect(seasonalPeak(h, 9, 11, { period: 5, halfWidth: 0, cycles: 2 })).toBe(9);
    expect(seasonalPeak(h, 9, 11, { period: 5, halfWidth: 0, cycles: 1 })).toBe(1);
    // Gaps (NaN before the history began, or a missed scrape) are skipped, not a poisoned maximum.
    const gappy = [NaN, NaN, NaN, 4, NaN, 2, 7, 1, 1, 1];
    expect(seasonalPeak(gappy, 9, 11, { period: 5, halfWidth: 1, cycles: 3 })).toBe(7);
    expect(seasonalPeak([NaN, NaN, NaN], 2, 4, { period: 2, halfWidth: 1, cycles: 2 })).toBe(0);
    expect(seasonalPeak(h, 9, 10, { period: 5, halfWidth: 0, cycles: 1 })).toBe(2);
    // A window reaching past `now` stops at now.
    expect(seasonalPeak([...h, 50], 9, 14, { period: 5, halfWidth: 2, cycles: 1 })).toBe(1);
  });

  it("keeps the largest shortfall of the trailing horizon as headroom, then forgets it", () => {
    const r = createMissReserve(3);
    observeMiss(r, 0, 10, 12); // no shortfall
    expect(reserve(r)).toBe(0);
    observeMiss(r, 1, 15, 10); // short by 5
    observeMiss(r, 2, 12, 10); // short by 2
    expect(reserve(r)).toBe(5);
    observeMiss(r, 3, 10, 10);
    expect(reserve(r)).toBe(5);
    observeMiss(r, 4, 10, 10); // index 1 has left the 3-point horizon
    expect(reserve(r)).toBe(2);
  });
});

describe("the long (weekly) seasonal figure", () => {
  it("is taken out and put back exactly on a series that is only that figure times a level", () => {
    const figure = [1.5, 0.5, 1.2, 0.8];
    const y = Array.from({ length: 16 }, (_, t) => 10 * figure[t % 4]!);
    const d = removeSeasonalFigure(y, 4);
    expect(d.kind).toBe("multiplicative");
    d.adjusted.forEach((v) => expect(v).toBeCloseTo(10, 9));
    d.restore([10, 10, 10, 10, 10]).forEach((v, h) => expect(v).toBeCloseTo(10 * figure[h % 4]!, 9));
  });
});

describe("the fixed combination", () => {
  it("averages its members' forecasts when they can all run", () => {
    const y = Array.from({ length: 120 }, (_, t) => 50 + 10 * Math.sin((2 * Math.PI * t) / 12) + (t % 5));
    const ctx = { horizon: 12, period: 12, longPeriod: 0, effort: "full" as const };
    const fc = ensembleForecast(y, ctx, {
      candidates: ["snaive", "naive"],
      top: 1,
      origins: 2,
      fixed: ["snaive", "naive"],
    });
    const a = forecastMethods.snaive!(y, ctx)!.mean;
    const b = forecastMethods.naive!(y, ctx)!.mean;
    expect(fc.members).toEqual(["snaive", "naive"]);
    fc.mean.forEach((v, h) => expect(v).toBeCloseTo((a[h]! + b[h]!) / 2, 9));
  });

  it("falls back to the best of the candidates when fewer than two members can run", () => {
    const y = Array.from({ length: 60 }, (_, t) => 5 + (t % 6));
    const ctx = { horizon: 6, period: 6, longPeriod: 0, effort: "full" as const };
    const fc = ensembleForecast(y, ctx, {
      candidates: ["snaive", "naive", "snaive-long"],
      top: 1,
      origins: 2,
      fixed: ["snaive-long", "naive"],
    });
    expect(fc.members).toEqual(["snaive"]);
    fc.mean.forEach((v, h) => expect(v).toBeCloseTo(5 + (h % 6), 9));
  });
});
