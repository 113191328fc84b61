import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { register } from "../../infra/cli/commands/anomalies.js";
import { createDetector, observePoint, scoreSeries } from "../../shared/anomaly/detector.js";
import { createChangePoint, observeChange } from "../../shared/anomaly/change-point.js";
import { createExceedance, observeExceedance } from "../../shared/anomaly/exceedance.js";
import { findPeerOutliers } from "../../shared/anomaly/peers.js";
import {
  createRobustWindow,
  pushValue,
  windowMad,
  windowMedian,
} from "../../shared/anomaly/robust-window.js";
import { gaussian, seededRandom } from "../bench/synthetic.js";

const STEP = 300;
const seasonal = (n: number, seed: number): number[] => {
  const rand = seededRandom(seed);
  return Array.from(
    { length: n },
    (_, t) => 100 + 30 * Math.sin((2 * Math.PI * t) / 288) + 2 * gaussian(rand),
  );
};
const times = (n: number): number[] => Array.from({ length: n }, (_, i) => 1_700_000_000 + i * STEP);

describe("trailing median and MAD", () => {
  it("match a brute-force computation over the last `size` values", () => {
    const rand = seededRandom(4);
    const w = createRobustWindow(7);
    const all: number[] = [];
    for (let i = 0; i < 40; i++) {
      const x = Math.round(gaussian(rand) * 10);
      all.push(x);
      pushValue(w, x);
      const last = all.slice(-7).sort((a, b) => a - b);
      const med =
        last.length % 2 ? last[last.length >> 1]! : (last[last.length / 2 - 1]! + last[last.length / 2]!) / 2;
      const dev = last.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
      const mad =
        dev.length % 2 ? dev[dev.length >> 1]! : (dev[dev.length / 2 - 1]! + dev[dev.length / 2]!) / 2;
      expect(windowMedian(w)).toBeCloseTo(med, 12);
      expect(windowMad(w)).toBeCloseTo(mad, 12);
    }
  });
});

describe("the streaming detector", () => {
  it("has no look-ahead: scores up to a point do not change when later points change", () => {
    const n = 3000;
    const a = seasonal(n, 1);
    const b = [
      ...a.slice(0, 2000),
      ...seasonal(n, 99)
        .slice(2000)
        .map((v) => v * 3),
    ];
    const sa = scoreSeries(times(n), a);
    const sb = scoreSeries(times(n), b);
    expect(sb.slice(0, 2000)).toEqual(sa.slice(0, 2000));
    expect(sb.slice(2000)).not.toEqual(sa.slice(2000));
  });

  it("scores each point once, in order: feeding points one by one equals scoring the array", () => {
    const y = seasonal(1500, 2);
    const state = createDetector();
    const streamed = y.map((v, i) => observePoint(state, times(1500)[i]!, v));
    expect(streamed).toEqual(scoreSeries(times(1500), y));
  });

  it("raises an alarm on a spike and stays quiet on the normal seasonal pattern", () => {
    const y = seasonal(3000, 3);
    y[2500] = 300;
    const s = scoreSeries(times(3000), y);
    expect(s[2500]).toBeGreaterThanOrEqual(0.5);
    expect(s.every((v) => v >= 0 && v <= 1)).toBe(true);
    const falseAlarms = s.filter((v, i) => v >= 0.5 && (i < 2500 || i > 2510)).length;
    expect(falseAlarms).toBeLessThanOrEqual(2);
  });

  it("catches a level shift within a few points", () => {
    const y = seasonal(3000, 4).map((v, i) => (i >= 2400 ? v + 60 : v));
    const s = scoreSeries(times(3000), y);
    expect(s.slice(2400, 2410).some((v) => v >= 0.5)).toBe(true);
  });

  it("never alarms on a flat line", () => {
    expect(scoreSeries(times(2000), new Array(2000).fill(5)).every((v) => v < 0.5)).toBe(true);
  });
});

describe("peer outliers", () => {
  it("flags the one pod persistently unlike its peers, not the one with a single spike", () => {
    const rand = seededRandom(8);
    const base = Array.from({ length: 200 }, (_, t) => 50 + 10 * Math.sin(t / 10));
    const pods = ["a", "b", "c", "d", "e"].map((id) => ({ id, values: base.map((v) => v + gaussian(rand)) }));
    pods[1]!.values = pods[1]!.values.map((v) => v + 20);
    pods[2]!.values = pods[2]!.values.map((v, t) => (t === 100 ? v + 100 : v));
    const result = findPeerOutliers(pods);
    expect(result.filter((r) => r.outlier).map((r) => r.id)).toEqual(["b"]);
  });
});

describe("prophet anomalies (CLI contract)", () => {
  it("writes <output>/<category>/prophet_<file>.csv with timestamp,value,anomaly_score", async () => {
    const input = mkdtempSync(join(tmpdir(), "prophet-anomalies-in-"));
    const output = mkdtempSync(join(tmpdir(), "prophet-anomalies-out-"));
    mkdirSync(join(input, "cat"));
    const y = seasonal(400, 5);
    const lines = y.map(
      (v, i) =>
        `${new Date((1_700_000_000 + i * STEP) * 1000).toISOString().slice(0, 19).replace("T", " ")},${v.toFixed(2)}`,
    );
    writeFileSync(join(input, "cat", "series.csv"), ["timestamp,value", ...lines].join("\n"));
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync(["anomalies", "--input", input, "--output", output], { from: "user" });
    const out = readFileSync(join(output, "cat", "prophet_series.csv"), "utf8")
      .trim()
      .split("\n");
    expect(out[0]).toBe("timestamp,value,anomaly_score");
    expect(out).toHaveLength(401);
    expect(out[1]!.split(",")[0]).toBe(lines[0]!.split(",")[0]);
  });
});

describe("the alarm statistics", () => {
  it("measure a surprise against a quantile of the daily maxima, with a floor until two days exist", () => {
    const e = createExceedance({ margin: 2, quantile: 0.5, blocks: 30, minBlocks: 2, floor: 4 }, 3);
    // Blocks of 3 points: maxima 1 and 3 after six points; before that the bar is the floor.
    expect([1, 0, 0, 3, 2, 0].map((x) => observeExceedance(e, x))).toEqual([0.25, 0, 0, 0.75, 0.5, 0]);
    // Typical block maximum = median(1, 3) = 2, bar = max(4, 2 * 2) = 4.
    expect(observeExceedance(e, 8)).toBe(2);
  });

  it("alarm once when a value leaves the range seen so far, then hold the alarm", () => {
    const y = seasonal(2000, 6);
    y[1500] = 1000;
    y[1510] = 1000;
    const s = scoreSeries(times(2000), y);
    expect(s[1500]).toBeGreaterThanOrEqual(0.5);
    expect(s[1510]).toBeLessThan(0.5);
  });

  it("let a clearly bigger incident through the cool-down", () => {
    const y = seasonal(2000, 7);
    y[1500] = 300;
    y[1520] = 3000;
    const s = scoreSeries(times(2000), y);
    expect(s[1500]).toBeGreaterThanOrEqual(0.5);
    expect(s[1520]).toBeGreaterThanOrEqual(0.5);
  });
});

describe("the CUSUM change-point detector", () => {
  it("signals a sustained level shift of 3 robust sd within a few points, and not on noise", () => {
    const rand = seededRandom(9);
    const cp = createChangePoint();
    const noise = Array.from({ length: 500 }, () => observeChange(cp, gaussian(rand)));
    expect(noise.every((s) => s < 1)).toBe(true);
    const shifted = Array.from({ length: 10 }, () => observeChange(cp, 3 + gaussian(rand)));
    expect(shifted.findIndex((s) => s >= 1)).toBeLessThan(10);
  });
});
