import { describe, expect, it } from "vitest";
import { windowRows } from "../../shared/anomaly/nab-format.js";
import {
  bestThreshold,
  labelRows,
  NAB_PROFILES,
  normalisedScore,
  probationaryLength,
  scaledSigmoid,
  scoreFile,
} from "../../shared/anomaly/nab-scoring.js";

const standard = NAB_PROFILES.standard;
const detections = (n: number, at: number[]): number[] =>
  Array.from({ length: n }, (_, i) => (at.includes(i) ? 1 : 0));

describe("NAB's scaled sigmoid", () => {
  it("matches the values in sweeper.py's docstring", () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
  });
  it("puts the probationary period at min(floor(0.15 N), 750)", () => {
    expect(probationaryLength(100)).toBe(15);
    expect(probationaryLength(10_000)).toBe(750);
  });
});

describe("scoring a hand-made 100-row file with one window at rows 40-49", () => {
  const rows = labelRows(100, [[40, 49]]);

  it("a detection on the window's first row earns the full tpWeight", () => {
    expect(scoreFile(rows, detections(100, [40]), 0.5, standard).score).toBeCloseTo(1, 12);
  });
  it("a detection on its last row earns scaledSigmoid(-0.1) / scaledSigmoid(-1)", () => {
    // 2 sigmoid(0.5) - 1 = 0.244919, / 0.986614 = 0.248242
    expect(scoreFile(rows, detections(100, [49]), 0.5, standard).score).toBeCloseTo(0.248242, 5);
  });
  it("only the best detection in the window counts", () => {
    expect(scoreFile(rows, detections(100, [40, 45, 49]), 0.5, standard)).toMatchObject({ score: 1, tp: 1 });
  });
  it("a false positive before any window costs fpWeight; one after it costs less the closer it is", () => {
    expect(scoreFile(rows, detections(100, [20, 40]), 0.5, standard).score).toBeCloseTo(1 - 0.11, 12);
    // row 60: |49 - 60| / (10 - 1) = 1.2222 -> scaledSigmoid = -0.995569 -> x 0.11
    expect(scoreFile(rows, detections(100, [40, 60]), 0.5, standard).score).toBeCloseTo(1 - 0.109513, 5);
  });
  it("a missed window costs fnWeight, doubled in the reward_low_FN_rate profile", () => {
    expect(scoreFile(rows, detections(100, []), 0.5, standard)).toMatchObject({ score: -1, fn: 1 });
    expect(scoreFile(rows, detections(100, []), 0.5, NAB_PROFILES.reward_low_FN_rate).score).toBe(-2);
  });
  it("ignores detections in the probationary period", () => {
    expect(scoreFile(rows, detections(100, [3, 40]), 0.5, standard).score).toBeCloseTo(1, 12);
  });
  it("detects at score >= threshold", () => {
    const scores = new Array(100).fill(0);
    scores[40] = 0.5;
    expect(scoreFile(rows, scores, 0.5, standard).tp).toBe(1);
    expect(scoreFile(rows, scores, 0.51, standard).tp).toBe(0);
  });
});

describe("normalisation over a corpus", () => {
  const a = labelRows(100, [[40, 49]]);
  const b = labelRows(100, [[60, 69]]);
  it("is 100 for the perfect detector, 0 for the null detector", () => {
    expect(
      normalisedScore(
        [
          { rows: a, scores: detections(100, [40]) },
          { rows: b, scores: detections(100, [60]) },
        ],
        0.5,
        standard,
      ),
    ).toBeCloseTo(100, 10);
    expect(
      normalisedScore(
        [
          { rows: a, scores: detections(100, []) },
          { rows: b, scores: detections(100, []) },
        ],
        0.5,
        standard,
      ),
    ).toBe(0);
  });
  it("is 100 (raw - null) / (perfect - null)", () => {
    // raw: 1 (a, perfect) - 1 (b, missed) - 0.11 (b, FP before its window) = -0.11; null -2; perfect 2
    const files = [
      { rows: a, scores: detections(100, [40]) },
      { rows: b, scores: detections(100, [20]) },
    ];
    expect(normalisedScore(files, 0.5, standard)).toBeCloseTo((100 * (-0.11 + 2)) / 4, 10);
    expect(bestThreshold(files, standard).score).toBeCloseTo(47.25, 10);
  });
  it("maps label timestamps onto rows", () => {
    const ts = [0, 300, 600, 900, 1200];
    expect(windowRows(ts, [["1970-01-01 00:05:00.000000", "1970-01-01 00:15:00.000000"]])).toEqual([[1, 3]]);
  });
});
