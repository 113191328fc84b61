// Writes one scrape's samples into the store, keeping series handles between scrapes (a label set is
// built once per series, not per sample) and marking series stale when a scrape no longer reports
// them, as Prometheus does when a target stops exposing a series.
import type { LabelsInput, StoredSeries, TimeSeriesStore } from "../metrics/index.js";

/** A live series and the scrape that last wrote it. */
export interface SeriesEntry {
  readonly series: StoredSeries;
  scrape: number;
}

/** Where scrape code writes samples: the writer itself, or a recording view of it. */
export interface SampleSink {
  write(key: string, labels: () => LabelsInput, value: number): void;
}

/** A sink that writes through `w` and records each entry and value, so an unchanged object can replay them. */
export function recording(w: SeriesWriter, entries: [SeriesEntry, number][]): SampleSink {
  return {
    write: (key, labels, value) => {
      entries.push([w.write(key, labels, value), value]);
    },
  };
}

export class SeriesWriter implements SampleSink {
  private readonly live = new Map<string, SeriesEntry>();
  private scrape = 0;
  private t = 0;

  constructor(private readonly store: TimeSeriesStore) {}

  begin(tMs: number): void {
    this.scrape++;
    this.t = tMs;
  }

  /** Appends `value` to the series identified by `key`; `labels` is only called for a new series. */
  write(key: string, labels: () => LabelsInput, value: number): SeriesEntry {
    let e = this.live.get(key);
    if (!e) {
      e = { series: this.store.seriesFor(labels()), scrape: this.scrape };
      this.live.set(key, e);
    }
    e.scrape = this.scrape;
    this.store.appendTo(e.series, this.t, value);
    return e;
  }

  /**
   * Appends to an entry `write` returned in the previous scrape (the caller's cache of an unchanged
   * object); only valid while that entry was written in every scrape since.
   */
  rewrite(e: SeriesEntry, value: number): void {
    e.scrape = this.scrape;
    this.store.appendTo(e.series, this.t, value);
  }

  /** Marks every series this scrape did not write as stale. */
  end(): void {
    for (const [key, e] of this.live) {
      if (e.scrape === this.scrape) continue;
      this.store.markStale(e.series.labels, this.t);
      this.live.delete(key);
    }
  }

  get size(): number {
    return this.live.size;
  }
}
