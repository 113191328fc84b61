// NAB v1.1 scoring (Lavin & Ahmad 2015; numenta/NAB `nab/sweeper.py`), reimplemented:
//  - rows in the probationary period, min(floor(0.15 N), 0.15 * 5000), are not scored;
//  - a detection inside a window scores tpWeight * scaledSigmoid(position) / scaledSigmoid(-1), where
//    position = -(rightIndex - i + 1) / width, and only the window's best detection counts;
//  - a detection outside windows scores fpWeight * scaledSigmoid(distance past the previous window's right
//    edge / (width - 1)), or -fpWeight before the first window;
//  - a window with no detection scores -fnWeight.
// The corpus score is normalised to 100 * (raw - null) / (perfect - null), the null detector never
// alarming and the perfect one scoring tpWeight per window.

export interface CostProfile {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

export const NAB_PROFILES: Record<"standard" | "reward_low_FP_rate" | "reward_low_FN_rate", CostProfile> = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};

export function scaledSigmoid(position: number): number {
  if (position >= 3) return -1;
  return 2 / (1 + Math.exp(5 * position)) - 1;
}

export function probationaryLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 0.15 * 5000);
}

/** Per row: the window it belongs to (-1 outside, -2 probationary) and its unweighted sigmoid score. */
export interface ScoredRows {
  window: Int32Array;
  /** scaledSigmoid value; multiplied by the profile's weights when a total is computed. */
  sigmoid: Float64Array;
  windowCount: number;
}

/** Window limits as row indices [start, end] inclusive, in time order, not overlapping. */
export function labelRows(rows: number, windows: readonly [number, number][]): ScoredRows {
  const window = new Int32Array(rows).fill(-1);
  const sigmoid = new Float64Array(rows);
  const probation = probationaryLength(rows);
  let prevRight = -1;
  let prevWidth = 0;
  let w = 0;
  for (let i = 0; i < rows; i++) {
    const cur = windows[w];
    if (cur && i >= cur[0] && i <= cur[1]) {
      const width = cur[1] - cur[0] + 1;
      sigmoid[i] = scaledSigmoid(-(cur[1] - i + 1) / width) / scaledSigmoid(-1);
      window[i] = w;
      if (i === cur[1]) {
        prevRight = i;
        prevWidth = width;
        w++;
      }
    } else {
      sigmoid[i] = prevRight < 0 ? -1 : scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
    }
    if (i < probation) window[i] = -2;
  }
  // A window only counts when at least one of its rows is past the probationary period.
  const counted = new Set<number>();
  for (let i = 0; i < rows; i++) if ((window[i] ?? -1) >= 0) counted.add(window[i]!);
  return { window, sigmoid, windowCount: counted.size };
}

export interface FileScore {
  score: number;
  tp: number;
  fp: number;
  fn: number;
}

/** Score of one file when rows with anomaly score >= threshold are detections. */
export function scoreFile(
  rows: ScoredRows,
  scores: ArrayLike<number>,
  threshold: number,
  cost: CostProfile,
): FileScore {
  const best = new Map<number, number>();
  let fpScore = 0;
  let fp = 0;
  for (let i = 0; i < rows.window.length; i++) {
    const w = rows.window[i] ?? -1;
    if (w === -2 || (scores[i] ?? 0) < threshold) continue;
    if (w === -1) {
      fpScore += (rows.sigmoid[i] ?? 0) * cost.fpWeight;
      fp++;
    } else {
      const s = (rows.sigmoid[i] ?? 0) * cost.tpWeight;
      best.set(w, Math.max(best.get(w) ?? -cost.fnWeight, s));
    }
  }
  const counted = new Set<number>();
  for (const w of rows.window) if (w >= 0) counted.add(w);
  let score = fpScore;
  let tp = 0;
  for (const w of counted) {
    const b = best.get(w);
    if (b === undefined) score -= cost.fnWeight;
    else {
      score += b;
      tp++;
    }
  }
  return { score, tp, fp, fn: counted.size - tp };
}

export interface CorpusFile {
  rows: ScoredRows;
  scores: ArrayLike<number>;
}

export function normalisedScore(files: readonly CorpusFile[], threshold: number, cost: CostProfile): number {
  let raw = 0;
  let windows = 0;
  for (const f of files) {
    raw += scoreFile(f.rows, f.scores, threshold, cost).score;
    windows += f.rows.windowCount;
  }
  const nullScore = -cost.fnWeight * windows;
  const perfect = cost.tpWeight * windows;
  return perfect === nullScore ? 0 : (100 * (raw - nullScore)) / (perfect - nullScore);
}

/** The best corpus-wide threshold over a grid of `steps` thresholds in (0, 1]. */
export function bestThreshold(
  files: readonly CorpusFile[],
  cost: CostProfile,
  steps = 200,
): { threshold: number; score: number } {
  let best = { threshold: 1.1, score: normalisedScore(files, 1.1, cost) };
  for (let k = steps; k >= 1; k--) {
    const t = k / steps;
    const s = normalisedScore(files, t, cost);
    if (s > best.score) best = { threshold: t, score: s };
  }
  return best;
}
