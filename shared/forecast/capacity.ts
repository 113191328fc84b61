// Capacity to provision ahead of demand, from a forecast and two memories of the past:
//  - seasonal peak memory: the highest demand seen around the same time of day on recent days, for
//    the recurring bursts (batch jobs) a smoothed forecast flattens;
//  - miss reserve: the largest amount by which demand exceeded what was provisioned for it over a
//    trailing horizon, kept as headroom for surges that no forecast sees coming. It costs node-hours,
//    so it is an option, reported separately.

export interface SeasonalPeakOptions {
  /** Points per cycle (a day). */
  period: number;
  /** Points either side of the target time that count as "around the same time". */
  halfWidth: number;
  /** Cycles looked back. */
  cycles: number;
}

/** Highest value around index `target` one, two, … cycles earlier (only indices up to `now`; gaps skipped). */
export function seasonalPeak(
  history: readonly number[],
  now: number,
  target: number,
  o: SeasonalPeakOptions,
): number {
  let peak = 0;
  for (let c = 1; c <= o.cycles; c++) {
    const centre = target - c * o.period;
    for (let i = Math.max(0, centre - o.halfWidth); i <= Math.min(now, centre + o.halfWidth); i++) {
      const v = history[i];
      // Gaps (NaN: no sample, e.g. before the history began) are not demand.
      if (v !== undefined && Number.isFinite(v)) peak = Math.max(peak, v);
    }
  }
  return peak;
}

/** Trailing maximum of the shortfalls (demand − provisioned) over `horizon` points. */
export interface MissReserve {
  horizon: number;
  /** Indices and shortfalls, shortfalls decreasing from the front. */
  index: number[];
  value: number[];
}

export function createMissReserve(horizon: number): MissReserve {
  return { horizon, index: [], value: [] };
}

export function observeMiss(r: MissReserve, t: number, demand: number, provisioned: number): void {
  const miss = Math.max(0, demand - provisioned);
  while (r.value.length && r.value[r.value.length - 1]! <= miss) {
    r.value.pop();
    r.index.pop();
  }
  r.value.push(miss);
  r.index.push(t);
  while (r.index.length && r.index[0]! <= t - r.horizon) {
    r.index.shift();
    r.value.shift();
  }
}

export function reserve(r: MissReserve): number {
  return r.value[0] ?? 0;
}
