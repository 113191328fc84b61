import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { register } from "../../infra/cli/commands/forecast.js";
import { coverage } from "../../shared/forecast/accuracy.js";
import { forecastSeries } from "../../shared/forecast/engine.js";
import { fitForecaster, forecastFrom, updateForecaster } from "../../shared/forecast/incremental.js";
import { fillGaps, toRegularGrid, undoCounterResets } from "../../shared/forecast/preprocess.js";
import { parseLongCsv, parseM4Wide } from "../../shared/forecast/series-formats.js";
import { dailyDemand, gaussian, seededRandom } from "../bench/synthetic.js";

describe("cleaning metric data", () => {
  it("bridges short gaps with a line and long ones with the previous season", () => {
    expect(fillGaps([1, NaN, 3, NaN])).toEqual([1, 2, 3, 3]);
    expect(fillGaps([1, 2, 3, 4, NaN, NaN, NaN, 8], 2)).toEqual([1, 2, 3, 4, 3, 4, 3, 8]);
  });
  it("undoes counter resets by adding the value lost at each reset", () => {
    expect(undoCounterResets([5, 7, 2, 4, 1])).toEqual([5, 7, 9, 11, 12]);
  });
  it("puts irregular points on a regular grid with NaN for missing slots", () => {
    expect(toRegularGrid([0, 60, 180], [1, 2, 4], 60)).toEqual([1, 2, NaN, 4]);
  });
});

describe("text formats", () => {
  it("reads M4 wide files, dropping the header and the trailing padding", () => {
    const parsed = parseM4Wide('"V1","V2","V3","V4"\n"H1","1","2",""\n"H2","3","4","5"\n');
    expect(parsed).toEqual({
      ok: true,
      value: [
        { id: "H1", values: [1, 2] },
        { id: "H2", values: [3, 4, 5] },
      ],
    });
  });
  it("rejects a value that is not a number with the line it is on", () => {
    expect(parseM4Wide('"H1","1","x"\n')).toMatchObject({ ok: false, error: { code: "invalid_data" } });
  });
  it("reads long files into series sorted by time", () => {
    const parsed = parseLongCsv("series,timestamp,value\na,1970-01-01T00:01:00Z,2\na,0,1\n");
    expect(parsed).toEqual({ ok: true, value: [{ id: "a", timestamps: [0, 60], values: [1, 2] }] });
  });
});

describe("the forecast engine", () => {
  const rand = seededRandom(11);
  const series = (): number[] =>
    Array.from(
      { length: 24 * 30 },
      (_, t) => 200 + 50 * Math.sin((2 * Math.PI * t) / 24) + 5 * gaussian(rand),
    );

  it("forecasts a seasonal series closely and its 95 % interval covers about 95 % of the outcomes", () => {
    let inside95 = 0;
    let inside80 = 0;
    let total = 0;
    for (let k = 0; k < 6; k++) {
      const y = series();
      const fc = forecastSeries(y.slice(0, 24 * 28), { horizon: 48, period: 24 });
      const actual = y.slice(24 * 28);
      inside95 += coverage(actual, fc.lower95, fc.upper95) * 48;
      inside80 += coverage(actual, fc.lower80, fc.upper80) * 48;
      total += 48;
      const mae = actual.reduce((s, v, i) => s + Math.abs(v - fc.mean[i]!), 0) / 48;
      expect(mae).toBeLessThan(8);
    }
    expect(inside95 / total).toBeGreaterThan(0.85);
    expect(inside80 / total).toBeGreaterThan(0.65);
    expect(inside80 / total).toBeLessThan(0.97);
  });

  it("forecasts a flat series as flat, with zero-width intervals", () => {
    const fc = forecastSeries(new Array(100).fill(7), { horizon: 3 });
    expect(fc).toMatchObject({ mean: [7, 7, 7], lower95: [7, 7, 7], upper95: [7, 7, 7], members: ["flat"] });
  });

  it("forecasts through gaps and counter resets", () => {
    const counter: number[] = [];
    let total = 0;
    for (let t = 0; t < 300; t++) {
      total += 10;
      counter.push(t === 150 ? NaN : t >= 200 ? total - 2000 : total); // a gap and a restart at t = 200
    }
    const fc = forecastSeries(counter, { horizon: 5, counter: true, period: 1 });
    expect(fc.mean[0]).toBeGreaterThan(2995);
    expect(fc.mean[0]).toBeLessThan(3025);
  });

  it("detects the daily period from the step and forecasts quickly in fast mode", () => {
    const y = dailyDemand(2016, seededRandom(5));
    const fc = forecastSeries(y, { horizon: 12, stepSeconds: 300, effort: "fast" });
    expect(fc.period).toBe(288);
    expect(fc.upper95.every((u, i) => u >= fc.mean[i]!)).toBe(true);
  });

  it("updates the fast forecaster with new points instead of refitting", () => {
    const y = dailyDemand(2016 + 12, seededRandom(6));
    const f = fitForecaster(y.slice(0, 2016), 288, 12)!;
    const updated = updateForecaster(f, y.slice(2016));
    expect(updated.model.params).toEqual(f.model.params);
    expect(updated.model.state.observed).toBe(2016 + 12);
    expect(forecastFrom(updated, 12).mean).not.toEqual(forecastFrom(f, 12).mean);
  });
});

describe("prophet forecast (CLI contract)", () => {
  it("writes M4-test layout forecasts and the interval files for an M4 wide input", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prophet-forecast-"));
    const rand = seededRandom(9);
    const rows = ["H1", "H2"].map((id) => {
      const v = Array.from({ length: 24 * 12 }, (_, t) =>
        (100 + 20 * Math.sin((2 * Math.PI * t) / 24) + gaussian(rand)).toFixed(1),
      );
      return [`"${id}"`, ...v.map((x) => `"${x}"`), '""', '""'].join(",");
    });
    writeFileSync(join(dir, "train.csv"), ['"V1"', ...rows].join("\n"));
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync(
      [
        "forecast",
        "--input",
        join(dir, "train.csv"),
        "--format",
        "m4",
        "--horizon",
        "48",
        "--season",
        "24",
        "--output",
        join(dir, "fc.csv"),
        "--intervals",
        join(dir, "pi"),
      ],
      { from: "user" },
    );
    const out = readFileSync(join(dir, "fc.csv"), "utf8").trim().split("\n");
    expect(out).toHaveLength(3);
    expect(out[1]!.split(",")).toHaveLength(49);
    expect(out[1]!.startsWith('"H1",')).toBe(true);
    const lower = readFileSync(join(dir, "pi", "lower95.csv"), "utf8")
      .trim()
      .split("\n");
    const point = Number(out[1]!.split(",")[1]);
    expect(Number(lower[1]!.split(",")[1])).toBeLessThan(point);
  });
});
