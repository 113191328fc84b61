// Peer outliers: which pod or node behaves unlike the others doing the same job. At each time step
// every member is scored by its robust z against the group (median and MAD across members); a
// member's outlier score is the median of its |z| over time, so one spike does not make an outlier
// but a member that is persistently off does. Scores map to [0, 1] with 0.5 at `threshold`.

export interface PeerSeries {
  id: string;
  values: readonly number[];
}

export interface PeerOutlier {
  id: string;
  /** Median over time of |robust z| against the peers. */
  deviation: number;
  /** In [0, 1]; >= 0.5 means "unlike its peers". */
  score: number;
  outlier: boolean;
}

export function findPeerOutliers(
  group: readonly PeerSeries[],
  options: { threshold?: number } = {},
): PeerOutlier[] {
  const threshold = options.threshold ?? 3;
  const steps = Math.min(...group.map((g) => g.values.length));
  const perMember: number[][] = group.map(() => []);
  for (let t = 0; t < steps; t++) {
    const column = group.map((g) => g.values[t] ?? NaN).filter((v) => Number.isFinite(v));
    if (column.length < 3) continue;
    const med = median(column);
    const mad = median(column.map((v) => Math.abs(v - med)));
    // The scale floor keeps identical peers (MAD 0) from turning tiny differences into outliers.
    const scale = 1.4826 * mad + 1e-6 * (Math.abs(med) + 1);
    group.forEach((g, i) => {
      const v = g.values[t] ?? NaN;
      if (Number.isFinite(v)) perMember[i]!.push(Math.abs(v - med) / scale);
    });
  }
  return group.map((g, i) => {
    const deviation = perMember[i]!.length ? median(perMember[i]!) : 0;
    const score = Math.min(1, deviation / (2 * threshold));
    return { id: g.id, deviation, score, outlier: score >= 0.5 };
  });
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
