// Prometheus duration and number literals.

const UNIT_MS: Record<string, number> = {
  y: 365 * 24 * 3600_000,
  w: 7 * 24 * 3600_000,
  d: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNITS = ["y", "w", "d", "h", "m", "s", "ms"] as const;

/** Parses "1h30m" style durations to milliseconds; undefined when the text is not one. */
export function parseDurationMs(text: string): number | undefined {
  if (text === "") return undefined;
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  let ms = 0;
  UNITS.forEach((u, i) => {
    const g = m[i + 1];
    if (g !== undefined) ms += Number(g) * UNIT_MS[u]!;
  });
  return ms;
}

/** Parses a PromQL number literal as Go's strconv does for PromQL (decimal, hex, octal, Inf, NaN). */
export function parseNumberLiteral(text: string): number | undefined {
  if (text.startsWith("-") || text.startsWith("+")) {
    const v = parseNumberLiteral(text.slice(1));
    return v === undefined ? undefined : text[0] === "-" ? -v : v;
  }
  const t = text.toLowerCase();
  if (t === "inf") return Infinity;
  if (t === "nan") return NaN;
  if (/^0x[0-9a-f]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[0-7]+$/.test(t)) return parseInt(t.slice(1), 8);
  if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return Number(t);
  return undefined;
}

/** Formats milliseconds as a Prometheus duration ("5m", "1h30m"). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const u of UNITS) {
    const n = Math.floor(rest / UNIT_MS[u]!);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * UNIT_MS[u]!;
    }
  }
  return out;
}
