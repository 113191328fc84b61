// The sandbox's in-memory time-series store: series keyed by their sorted label set, samples in growable
// typed arrays (binary-searched for range reads), an inverted index for selection, and time-based retention.

import { compareLabels, labelsKey, METRIC_NAME, toLabels, type Labels, type LabelsInput } from "./labels.js";
import { matchesEmpty, matchesValue, type Matcher } from "./matchers.js";

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface MetricMetadata {
  type: MetricType;
  help: string;
}

export class SampleRejectedError extends Error {
  readonly code = "sample_rejected";
}

/** One stored series. Samples live in `t`/`v` between `start` (inclusive) and `end` (exclusive). */
export class StoredSeries {
  readonly labels: Labels;
  readonly key: string;
  t: Float64Array;
  v: Float64Array;
  start = 0;
  end = 0;
  /** Timestamps of Prometheus staleness markers (stored as NaN values). */
  stale: Set<number> | undefined;
  /** The labels without __name__, kept here because range functions ask for them at every step. */
  labelsWithoutName: Labels | undefined;
  /** False once retention dropped the series from the index; appending re-attaches it. */
  indexed = true;

  constructor(labels: Labels, key: string) {
    this.labels = labels;
    this.key = key;
    this.t = new Float64Array(16);
    this.v = new Float64Array(16);
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Index of the first sample with timestamp >= t. */
  lowerBound(t: number): number {
    let lo = this.start;
    let hi = this.end;
    const ts = this.t;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first sample with timestamp > t. */
  upperBound(t: number): number {
    let lo = this.start;
    let hi = this.end;
    const ts = this.t;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ts[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  isStale(i: number): boolean {
    return this.stale !== undefined && Number.isNaN(this.v[i]!) && this.stale.has(this.t[i]!);
  }

  push(t: number, v: number): void {
    if (this.end === this.t.length) {
      const live = this.end - this.start;
      const cap = live * 2 > this.t.length ? this.t.length * 2 : this.t.length;
      const nt = new Float64Array(cap);
      const nv = new Float64Array(cap);
      nt.set(this.t.subarray(this.start, this.end));
      nv.set(this.v.subarray(this.start, this.end));
      this.t = nt;
      this.v = nv;
      this.start = 0;
      this.end = live;
    }
    this.t[this.end] = t;
    this.v[this.end] = v;
    this.end++;
  }

  /** Drops samples older than `mint`. */
  truncateBefore(mint: number): void {
    const i = this.lowerBound(mint);
    if (this.stale) for (let j = this.start; j < i; j++) this.stale.delete(this.t[j]!);
    this.start = i;
  }
}

export interface TimeSeriesStoreOptions {
  /** Samples older than the newest sample minus this are dropped. Default 24 h. */
  retentionMs?: number;
}

/** In-memory TSDB. Timestamps are Unix milliseconds (integers). */
export class TimeSeriesStore {
  readonly retentionMs: number;
  private readonly byKey = new Map<string, StoredSeries>();
  /** label name → label value → series */
  private readonly postings = new Map<string, Map<string, Set<StoredSeries>>>();
  private readonly metadata = new Map<string, MetricMetadata>();
  private maxT = -Infinity;
  private lastTrim = -Infinity;
  /** Bumped whenever a series enters or leaves the index; invalidates cached selections. */
  private generation = 0;
  private readonly selectCache = new Map<string, { generation: number; series: StoredSeries[] }>();

  constructor(opts: TimeSeriesStoreOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 24 * 3600_000;
  }

  get seriesCount(): number {
    return this.byKey.size;
  }

  get newestTimestamp(): number | undefined {
    return Number.isFinite(this.maxT) ? this.maxT : undefined;
  }

  /** Records HELP/TYPE for a metric family (counters by their full `_total` name, histograms by base name). */
  describe(family: string, meta: MetricMetadata): void {
    this.metadata.set(family, meta);
  }

  metadataOf(family: string): MetricMetadata | undefined {
    return this.metadata.get(family);
  }

  allMetadata(): ReadonlyMap<string, MetricMetadata> {
    return this.metadata;
  }

  /** Appends a sample. Timestamps must not go backwards within a series, as in Prometheus. */
  append(labels: LabelsInput, timestampMs: number, value: number): StoredSeries {
    const s = this.seriesFor(labels);
    this.appendTo(s, timestampMs, value);
    return s;
  }

  /** Appends to a series obtained from `seriesFor` — skips label hashing on hot paths. */
  appendTo(s: StoredSeries, timestampMs: number, value: number): void {
    if (!s.indexed) this.index(s);
    if (!Number.isInteger(timestampMs))
      throw new SampleRejectedError(`timestamp ${timestampMs} is not integer ms`);
    if (s.end > s.start) {
      const last = s.t[s.end - 1]!;
      if (timestampMs < last) {
        throw new SampleRejectedError(
          `out of order sample for ${s.key.replace(/\xff/g, " ")} at ${timestampMs}`,
        );
      }
      if (timestampMs === last) {
        if (Object.is(s.v[s.end - 1], value) && !s.isStale(s.end - 1)) return;
        throw new SampleRejectedError(`duplicate sample for timestamp ${timestampMs} with a different value`);
      }
    }
    s.push(timestampMs, value);
    if (timestampMs > this.maxT) {
      this.maxT = timestampMs;
      if (timestampMs - this.lastTrim > Math.max(60_000, this.retentionMs / 16)) this.applyRetention();
    }
  }

  /** Writes a staleness marker: the series disappears from instant queries from `timestampMs` on. */
  markStale(labels: LabelsInput, timestampMs: number): void {
    const s = this.seriesFor(labels);
    if (!s.indexed) this.index(s);
    if (s.end > s.start && s.t[s.end - 1]! >= timestampMs) return;
    s.stale ??= new Set();
    s.stale.add(timestampMs);
    s.push(timestampMs, NaN);
    if (timestampMs > this.maxT) this.maxT = timestampMs;
  }

  /** Returns (creating if needed) the series for a label set. */
  seriesFor(labels: LabelsInput): StoredSeries {
    const ls = toLabels(labels);
    const key = labelsKey(ls);
    let s = this.byKey.get(key);
    if (s) return s;
    if (!ls.some(([n]) => n === METRIC_NAME))
      throw new SampleRejectedError("a series needs a __name__ label");
    s = new StoredSeries(ls, key);
    this.index(s);
    return s;
  }

  private index(s: StoredSeries): void {
    const existing = this.byKey.get(s.key);
    if (existing && existing !== s)
      throw new SampleRejectedError("series was re-created; use the new handle");
    s.indexed = true;
    this.generation++;
    this.byKey.set(s.key, s);
    for (const [n, v] of s.labels) {
      let byValue = this.postings.get(n);
      if (!byValue) this.postings.set(n, (byValue = new Map()));
      let set = byValue.get(v);
      if (!set) byValue.set(v, (set = new Set()));
      set.add(s);
    }
  }

  /** Drops samples older than newest − retention and series left empty. */
  applyRetention(): void {
    if (!Number.isFinite(this.maxT)) return;
    const mint = this.maxT - this.retentionMs;
    this.lastTrim = this.maxT;
    for (const s of this.byKey.values()) {
      if (s.end > s.start && s.t[s.start]! < mint) {
        s.truncateBefore(mint);
        if (s.end === s.start) this.remove(s);
      }
    }
  }

  private remove(s: StoredSeries): void {
    s.indexed = false;
    this.generation++;
    this.byKey.delete(s.key);
    for (const [n, v] of s.labels) {
      const byValue = this.postings.get(n);
      const set = byValue?.get(v);
      set?.delete(s);
      if (set && set.size === 0) byValue!.delete(v);
      if (byValue && byValue.size === 0) this.postings.delete(n);
    }
  }

  /**
   * Series matching all matchers that have at least one sample in [mint, maxt] (bounds optional),
   * sorted by label set like Prometheus' storage.
   */
  select(matchers: readonly Matcher[], mint = -Infinity, maxt = Infinity): StoredSeries[] {
    if (mint !== -Infinity || maxt !== Infinity) return this.selectUncached(matchers, mint, maxt);
    // Sorting thousands of label sets dominates small queries; the set only changes with the index.
    const key = matchers.map((m) => `${m.name}\xff${m.type}\xff${m.value}`).join("\xfe");
    const hit = this.selectCache.get(key);
    if (hit && hit.generation === this.generation) return hit.series;
    const series = this.selectUncached(matchers, mint, maxt);
    if (this.selectCache.size >= 512) this.selectCache.clear();
    this.selectCache.set(key, { generation: this.generation, series });
    return series;
  }

  private selectUncached(matchers: readonly Matcher[], mint: number, maxt: number): StoredSeries[] {
    let candidates: Iterable<StoredSeries> | undefined;
    let smallest = Infinity;
    // Start from the smallest postings list among equality matchers on non-empty values.
    for (const m of matchers) {
      if (m.type !== "=" || m.value === "") continue;
      const set = this.postings.get(m.name)?.get(m.value);
      if (!set) return [];
      if (set.size < smallest) {
        smallest = set.size;
        candidates = set;
      }
    }
    if (!candidates) {
      const named = matchers.find((m) => !matchesEmpty(m));
      const byValue = named ? this.postings.get(named.name) : undefined;
      if (named && !byValue) return [];
      if (named && byValue) {
        const acc: StoredSeries[] = [];
        for (const [v, set] of byValue) if (matchesValue(named, v)) for (const s of set) acc.push(s);
        candidates = acc;
      } else {
        candidates = this.byKey.values();
      }
    }
    const out: StoredSeries[] = [];
    outer: for (const s of candidates) {
      for (const m of matchers) {
        let v = "";
        for (const [n, lv] of s.labels) {
          if (n === m.name) {
            v = lv;
            break;
          }
        }
        if (!matchesValue(m, v)) continue outer;
      }
      if (s.end === s.start) continue;
      if (mint !== -Infinity || maxt !== Infinity) {
        const i = s.lowerBound(mint);
        if (i >= s.end || s.t[i]! > maxt) continue;
      }
      out.push(s);
    }
    out.sort((a, b) => compareLabels(a.labels, b.labels));
    return out;
  }

  /** Sorted label names of the series that match (all series when no matcher sets are given). */
  labelNames(matcherSets: readonly (readonly Matcher[])[] = [], mint?: number, maxt?: number): string[] {
    if (matcherSets.length === 0 && mint === undefined && maxt === undefined) {
      return [...this.postings.keys()].sort();
    }
    const names = new Set<string>();
    for (const s of this.selectUnion(matcherSets, mint, maxt)) for (const [n] of s.labels) names.add(n);
    return [...names].sort();
  }

  /** Sorted values of a label among the series that match. */
  labelValues(
    name: string,
    matcherSets: readonly (readonly Matcher[])[] = [],
    mint?: number,
    maxt?: number,
  ): string[] {
    if (matcherSets.length === 0 && mint === undefined && maxt === undefined) {
      return [...(this.postings.get(name)?.keys() ?? [])].sort();
    }
    const values = new Set<string>();
    for (const s of this.selectUnion(matcherSets, mint, maxt)) {
      for (const [n, v] of s.labels) if (n === name) values.add(v);
    }
    return [...values].sort();
  }

  /** Union of several selections, de-duplicated and sorted; all series when `matcherSets` is empty. */
  selectUnion(matcherSets: readonly (readonly Matcher[])[], mint?: number, maxt?: number): StoredSeries[] {
    if (matcherSets.length === 0) return this.select([], mint, maxt);
    const seen = new Map<string, StoredSeries>();
    for (const ms of matcherSets) for (const s of this.select(ms, mint, maxt)) seen.set(s.key, s);
    return [...seen.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  }

  /** All series, unsorted. */
  allSeries(): IterableIterator<StoredSeries> {
    return this.byKey.values();
  }
}
