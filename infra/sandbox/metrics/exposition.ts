// Prometheus text exposition (format 0.0.4) of the latest values, for a real Prometheus to scrape, and an
// OpenMetrics dump of stored history, which `promtool tsdb create-blocks-from openmetrics` can backfill.

import { getLabel, METRIC_NAME, type Labels } from "./labels.js";
import type { MetricMetadata, StoredSeries, TimeSeriesStore } from "./tsdb.js";

export const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
export const OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;
const SUMMARY_SUFFIXES = ["_sum", "_count"] as const;

interface Family {
  name: string;
  meta: MetricMetadata | undefined;
  series: StoredSeries[];
}

/** Which described family a sample name belongs to: the exact name, or a histogram/summary base name. */
function familyOf(store: TimeSeriesStore, name: string): { name: string; meta: MetricMetadata | undefined } {
  const exact = store.metadataOf(name);
  if (exact) return { name, meta: exact };
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const meta = store.metadataOf(base);
    if (
      meta?.type === "histogram" ||
      (meta?.type === "summary" && (SUMMARY_SUFFIXES as readonly string[]).includes(suffix))
    ) {
      return { name: base, meta };
    }
  }
  return { name, meta: undefined };
}

function groupFamilies(store: TimeSeriesStore, series: Iterable<StoredSeries>): Family[] {
  const families = new Map<string, Family>();
  for (const s of series) {
    const fam = familyOf(store, getLabel(s.labels, METRIC_NAME));
    let f = families.get(fam.name);
    if (!f) families.set(fam.name, (f = { name: fam.name, meta: fam.meta, series: [] }));
    f.series.push(s);
  }
  const out = [...families.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of out) f.series.sort(seriesOrder);
  return out;
}

/** Within a family: by labels other than `le`, then by sample name (_bucket, _count, _sum), then by numeric `le`. */
function seriesOrder(a: StoredSeries, b: StoredSeries): number {
  const ka = labelText(a.labels, ["le", METRIC_NAME]);
  const kb = labelText(b.labels, ["le", METRIC_NAME]);
  if (ka !== kb) return ka < kb ? -1 : 1;
  const na = getLabel(a.labels, METRIC_NAME);
  const nb = getLabel(b.labels, METRIC_NAME);
  if (na !== nb) return na < nb ? -1 : 1;
  return parseLe(getLabel(a.labels, "le")) - parseLe(getLabel(b.labels, "le"));
}

function parseLe(s: string): number {
  if (s === "") return 0;
  const v = s === "+Inf" ? Infinity : Number(s);
  return Number.isNaN(v) ? 0 : v;
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelText(ls: Labels, skip: readonly string[] = [METRIC_NAME]): string {
  const parts: string[] = [];
  for (const [n, v] of ls) if (!skip.includes(n)) parts.push(`${n}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

export function formatExpositionValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Number.isNaN(v)) return "NaN";
  return String(v);
}

export interface ExpositionOptions {
  /** Append each sample's own timestamp (ms). Off by default: a scraping Prometheus stamps samples itself. */
  withTimestamps?: boolean;
}

/** The latest non-stale sample of every series in the Prometheus text format, families with HELP and TYPE. */
export function writeExposition(store: TimeSeriesStore, opts: ExpositionOptions = {}): string {
  const lines: string[] = [];
  for (const f of groupFamilies(store, store.allSeries())) {
    const live = f.series.filter((s) => s.end > s.start && !s.isStale(s.end - 1));
    if (live.length === 0) continue;
    if (f.meta) {
      lines.push(`# HELP ${f.name} ${escapeHelp(f.meta.help)}`);
      lines.push(`# TYPE ${f.name} ${f.meta.type}`);
    }
    for (const s of live) {
      const i = s.end - 1;
      const ts = opts.withTimestamps ? ` ${s.t[i]}` : "";
      lines.push(
        `${getLabel(s.labels, METRIC_NAME)}${labelText(s.labels)} ${formatExpositionValue(s.v[i]!)}${ts}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Every stored sample in [mint, maxt] as OpenMetrics text, one family after another, series after series.
 * Staleness markers cannot be expressed in OpenMetrics and are left out.
 */
export function writeOpenMetrics(store: TimeSeriesStore, mint = -Infinity, maxt = Infinity): string {
  const chunks: string[] = [];
  for (const f of groupFamilies(store, store.allSeries())) {
    const type = f.meta?.type ?? "unknown";
    // OpenMetrics names counter families without `_total`.
    const omName =
      type === "counter" && f.name.endsWith("_total") ? f.name.slice(0, -"_total".length) : f.name;
    const omType =
      type === "counter" && omName === f.name ? "unknown" : type === "untyped" ? "unknown" : type;
    chunks.push(`# TYPE ${omName} ${omType}\n`);
    if (f.meta?.help) chunks.push(`# HELP ${omName} ${escapeHelp(f.meta.help)}\n`);
    for (const s of f.series) {
      const prefix = `${getLabel(s.labels, METRIC_NAME)}${labelText(s.labels)} `;
      const from = s.lowerBound(mint);
      const to = s.upperBound(maxt);
      const lines: string[] = [];
      for (let i = from; i < to; i++) {
        if (s.isStale(i)) continue;
        lines.push(`${prefix}${formatExpositionValue(s.v[i]!)} ${formatSeconds(s.t[i]!)}`);
      }
      if (lines.length) chunks.push(lines.join("\n") + "\n");
    }
  }
  chunks.push("# EOF\n");
  return chunks.join("");
}

/** Milliseconds as decimal seconds with exactly the digits needed ("1700000000", "1700000000.25"). */
export function formatSeconds(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const abs = Math.abs(ms);
  const whole = Math.floor(abs / 1000);
  const frac = abs % 1000;
  if (frac === 0) return `${sign}${whole}`;
  return `${sign}${whole}.${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
}
