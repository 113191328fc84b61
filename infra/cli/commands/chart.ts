// A terminal chart of a forecast: the recent history (·), the mean forecast (*) and its 95 % band
// (░), scaled to the common range, with the y-axis labelled at top, middle and bottom.
export interface ChartInput {
  history: readonly number[];
  mean: readonly number[];
  lower95: readonly number[];
  upper95: readonly number[];
}

export function asciiChart(c: ChartInput, opts: { width?: number; height?: number } = {}): string {
  const width = Math.max(20, opts.width ?? 72);
  const height = Math.max(5, opts.height ?? 14);
  const fcLen = c.mean.length;
  // History gets the room the forecast does not need (at least a third of the width).
  const histCols = Math.max(Math.floor(width / 3), width - Math.min(fcLen, Math.floor((2 * width) / 3)));
  const hist = downsample(c.history.slice(-histCols * 4), histCols);
  const fcCols = width - hist.length;
  const mean = downsample(c.mean, fcCols);
  const lo = downsample(c.lower95, fcCols);
  const hi = downsample(c.upper95, fcCols);
  const all = [...hist, ...mean, ...lo, ...hi].filter(Number.isFinite);
  if (all.length === 0) return "(no data)\n";
  let min = Math.min(...all);
  let max = Math.max(...all);
  if (max - min < 1e-12) {
    max += 1;
    min -= 1;
  }
  const row = (v: number) => Math.round(((max - v) / (max - min)) * (height - 1));
  const grid = Array.from({ length: height }, () => new Array<string>(hist.length + mean.length).fill(" "));
  mean.forEach((_, i) => {
    const col = hist.length + i;
    const top = row(hi[i] ?? mean[i]!);
    const bottom = row(lo[i] ?? mean[i]!);
    for (let r = top; r <= bottom; r++) grid[r]![col] = "░";
  });
  hist.forEach((v, i) => {
    if (Number.isFinite(v)) grid[row(v)]![i] = "·";
  });
  mean.forEach((v, i) => {
    if (Number.isFinite(v)) grid[row(v)]![hist.length + i] = "*";
  });
  const label = (r: number) => {
    const v = max - ((max - min) * r) / (height - 1);
    return r === 0 || r === height - 1 || r === Math.floor((height - 1) / 2) ? fmt(v) : "";
  };
  const labels = grid.map((_, r) => label(r));
  const pad = Math.max(...labels.map((l) => l.length));
  const lines = grid.map((cells, r) => `${labels[r]!.padStart(pad)} ┤${cells.join("")}`);
  lines.push(`${"".padStart(pad)} └${"─".repeat(hist.length)}┬${"─".repeat(Math.max(0, mean.length - 1))}`);
  lines.push(`${"".padStart(pad)}  ${"history".padEnd(hist.length)}now → forecast (* mean, ░ 95 %)`);
  return `${lines.join("\n")}\n`;
}

/** Averages consecutive points into `cols` buckets (or keeps them when there are fewer). */
function downsample(values: readonly number[], cols: number): number[] {
  if (values.length <= cols) return [...values];
  const out: number[] = [];
  for (let c = 0; c < cols; c++) {
    const from = Math.floor((c * values.length) / cols);
    const to = Math.floor(((c + 1) * values.length) / cols);
    let sum = 0;
    let n = 0;
    for (let i = from; i < to; i++)
      if (Number.isFinite(values[i])) {
        sum += values[i]!;
        n++;
      }
    out.push(n ? sum / n : NaN);
  }
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return a >= 100 ? v.toFixed(0) : v.toFixed(2);
}
