// Prometheus durations as the specs Prophet reads write them (SLO windows, PredictiveScale's
// horizon, step and history): `30d`, `2w`, `1h30m`.

const DAY = 86_400;
const UNIT_SECONDS: Record<string, number> = { y: 365 * DAY, w: 7 * DAY, d: DAY, h: 3600, m: 60, s: 1 };

/**
 * A Prometheus duration (`30d`, `2w`, `1h30m`) in whole seconds, or undefined when it is not one.
 * Milliseconds are refused: every window Prophet records is whole seconds.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+[ywdhms])+$/.test(t)) return undefined;
  let total = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([ywdhms])/g)) total += Number(n) * (UNIT_SECONDS[unit!] ?? 0);
  return total > 0 ? total : undefined;
}
