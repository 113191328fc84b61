import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  coverage,
  mase,
  mean,
  msis,
  owa,
  seasonalNaiveScale,
  smape,
} from "../../shared/forecast/accuracy.js";
import { naive2Forecast, naiveForecast, seasonalNaiveForecast } from "../../shared/forecast/naive.js";
import { parseM4Wide } from "../../shared/forecast/series-formats.js";

describe("M4 accuracy measures, against hand-computed values", () => {
  it("sMAPE is 200|y - f| / (|y| + |f|) averaged, in percent", () => {
    // |100-110| / 210 * 200 = 9.5238..., |50-50| = 0  -> mean 4.7619...
    expect(smape([100, 50], [110, 50])).toBeCloseTo(4.761905, 5);
  });

  it("MASE divides the forecast MAE by the in-sample seasonal-naive MAE", () => {
    const insample = [1, 2, 3, 5, 4, 6]; // m = 2: |3-1|, |5-2|, |4-3|, |6-5| -> mean 7/4
    expect(seasonalNaiveScale(insample, 2)).toBe(1.75);
    expect(mase(insample, [10, 10], [9, 12], 2)).toBeCloseTo(1.5 / 1.75, 12);
  });

  it("MSIS adds 2/alpha times the miss to the width, scaled like MASE", () => {
    const insample = [1, 2, 3, 5, 4, 6];
    // widths 2 + 2, miss of 1 below the first interval: (4 + 40 * 1) / 2 / 1.75
    expect(msis(insample, [7, 11], [8, 10], [10, 12], 2)).toBeCloseTo(22 / 1.75, 12);
    expect(coverage([7, 11], [8, 10], [10, 12])).toBe(0.5);
  });

  it("OWA averages the sMAPE and MASE ratios to Naive2", () => {
    expect(owa({ smape: 10, mase: 1 }, { smape: 20, mase: 1 })).toBe(0.75);
  });
});

describe("the M4 benchmarks reproduce the organisers' definitions on the hourly sample", () => {
  const dir = fileURLToPath(new URL("../../../shared/data/m4-hourly-sample/", import.meta.url));
  const train = parseM4Wide(readFileSync(`${dir}Hourly-train.csv`, "utf8"));
  const test = parseM4Wide(readFileSync(`${dir}Hourly-test.csv`, "utf8"));
  if (!train.ok || !test.ok) throw new Error("sample files do not parse");
  const score = (f: (y: number[]) => number[]): { smape: number; mase: number } => {
    const s: number[] = [];
    const m: number[] = [];
    train.value.forEach((series, i) => {
      const actual = test.value[i]!.values;
      const fc = f(series.values);
      s.push(smape(actual, fc));
      m.push(mase(series.values, actual, fc, 24));
    });
    return { smape: mean(s), mase: mean(m) };
  };

  it("Naive1: sMAPE 18.680, MASE 3.633", () => {
    const r = score((y) => naiveForecast(y, 48));
    expect(r.smape.toFixed(3)).toBe("18.680");
    expect(r.mase.toFixed(3)).toBe("3.633");
  });

  it("seasonal naive: sMAPE 5.707, MASE 1.109", () => {
    const r = score((y) => seasonalNaiveForecast(y, 48, 24));
    expect(r.smape.toFixed(3)).toBe("5.707");
    expect(r.mase.toFixed(3)).toBe("1.109");
  });

  it("Naive2: sMAPE 5.420, MASE 1.005, so its OWA against itself is 1", () => {
    const r = score((y) => naive2Forecast(y, 48, 24));
    expect(r.smape.toFixed(3)).toBe("5.420");
    expect(r.mase.toFixed(3)).toBe("1.005");
  });
});
