// NAB's file formats: data files `timestamp,value`, result files `timestamp,value,anomaly_score`,
// and the windows file mapping `category/file.csv` to `[start, end]` timestamp pairs.

import { z } from "zod";
import { parseTimestamp } from "../forecast/series-formats.js";

export interface TimestampedValues {
  /** Timestamps as written in the file, echoed back in results. */
  labels: string[];
  /** Epoch seconds. */
  timestamps: number[];
  values: number[];
}

export type ParsedCsv =
  { ok: true; value: TimestampedValues } | { ok: false; error: { code: "invalid_data"; message: string } };

export function parseTimestampValueCsv(text: string): ParsedCsv {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = (lines[0] ?? "").split(",").map((h) => h.trim().toLowerCase());
  const ti = header.indexOf("timestamp");
  const vi = header.indexOf("value");
  if (ti < 0 || vi < 0)
    return { ok: false, error: { code: "invalid_data", message: "expected the header timestamp,value" } };
  const out: TimestampedValues = { labels: [], timestamps: [], values: [] };
  for (let i = 1; i < lines.length; i++) {
    const f = (lines[i] ?? "").split(",");
    const label = (f[ti] ?? "").trim();
    const t = parseTimestamp(label);
    const v = Number(f[vi]);
    if (t === undefined)
      return {
        ok: false,
        error: { code: "invalid_data", message: `line ${i + 1}: bad timestamp "${label}"` },
      };
    out.labels.push(label);
    out.timestamps.push(t);
    out.values.push(Number.isFinite(v) ? v : NaN);
  }
  return { ok: true, value: out };
}

export function formatResultCsv(data: TimestampedValues, scores: readonly number[]): string {
  const rows = data.labels.map((l, i) => `${l},${data.values[i]},${(scores[i] ?? 0).toFixed(6)}`);
  return ["timestamp,value,anomaly_score", ...rows].join("\n") + "\n";
}

export function parseResultScores(text: string): number[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = (lines[0] ?? "").split(",");
  const si = header.indexOf("anomaly_score");
  return lines.slice(1).map((l) => Number(l.split(",")[si]) || 0);
}

export const WindowsFileSchema = z.record(z.string(), z.array(z.tuple([z.string(), z.string()])));
export type WindowsFile = z.infer<typeof WindowsFileSchema>;

/** Converts timestamp windows into inclusive row-index windows. */
export function windowRows(
  timestamps: readonly number[],
  windows: readonly [string, string][],
): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of windows) {
    const start = parseTimestamp(a.trim());
    const end = parseTimestamp(b.trim());
    if (start === undefined || end === undefined) continue;
    const first = timestamps.findIndex((t) => t >= start - 1e-6);
    let last = -1;
    for (let i = timestamps.length - 1; i >= 0; i--) {
      if ((timestamps[i] ?? 0) <= end + 1e-6) {
        last = i;
        break;
      }
    }
    if (first >= 0 && last >= first) out.push([first, last]);
  }
  return out;
}
