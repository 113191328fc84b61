// Text formats the forecast CLI reads and writes. Pure: text in, data or an error value out.
//  - M4 wide: `"id","v1","v2",...`; the first column is the series id, trailing empty fields are padding.
//  - long: `series,timestamp,value` rows, any order; timestamps are ISO 8601 or epoch seconds.

export interface NamedSeries {
  id: string;
  values: number[];
  /** Epoch seconds of each value, when the format carries them. */
  timestamps?: number[];
}

export type Parsed<T> =
  { ok: true; value: T } | { ok: false; error: { code: "invalid_data"; message: string } };

const unquote = (s: string): string => s.trim().replace(/^"(.*)"$/, "$1");

export function parseM4Wide(text: string): Parsed<NamedSeries[]> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const out: NamedSeries[] = [];
  for (const [i, line] of lines.entries()) {
    const fields = line.split(",").map(unquote);
    const id = fields[0] ?? "";
    if (i === 0 && /^V1$/i.test(id)) continue; // the header row
    const values: number[] = [];
    for (const f of fields.slice(1)) {
      if (f === "" || f === "NA") {
        values.push(NaN);
        continue;
      }
      const v = Number(f);
      if (!Number.isFinite(v)) {
        return {
          ok: false,
          error: { code: "invalid_data", message: `line ${i + 1}: "${f}" is not a number` },
        };
      }
      values.push(v);
    }
    while (values.length > 0 && Number.isNaN(values[values.length - 1])) values.pop();
    if (values.length === 0) {
      return {
        ok: false,
        error: { code: "invalid_data", message: `line ${i + 1}: series "${id}" has no values` },
      };
    }
    out.push({ id, values });
  }
  return { ok: true, value: out };
}

export function formatM4Wide(
  rows: readonly { id: string; values: readonly number[] }[],
  horizon: number,
): string {
  const header = ['"V1"', ...Array.from({ length: horizon }, (_, i) => `"V${i + 2}"`)].join(",");
  const body = rows.map((r) => [`"${r.id}"`, ...r.values.map((v) => formatNumber(v))].join(","));
  return [header, ...body].join("\n") + "\n";
}

export function parseLongCsv(text: string): Parsed<NamedSeries[]> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = (lines[0] ?? "").split(",").map((h) => unquote(h).toLowerCase());
  const [si, ti, vi] = ["series", "timestamp", "value"].map((c) => header.indexOf(c));
  if (si === undefined || ti === undefined || vi === undefined || si < 0 || ti < 0 || vi < 0) {
    return {
      ok: false,
      error: { code: "invalid_data", message: "long CSV needs the header series,timestamp,value" },
    };
  }
  const bySeries = new Map<string, { t: number; v: number }[]>();
  for (let i = 1; i < lines.length; i++) {
    const f = (lines[i] ?? "").split(",").map(unquote);
    const t = parseTimestamp(f[ti] ?? "");
    const raw = f[vi] ?? "";
    const v = raw === "" || raw === "NaN" ? NaN : Number(raw);
    if (t === undefined || (raw !== "" && raw !== "NaN" && !Number.isFinite(v))) {
      return { ok: false, error: { code: "invalid_data", message: `line ${i + 1}: bad timestamp or value` } };
    }
    const id = f[si] ?? "";
    const list = bySeries.get(id) ?? [];
    list.push({ t, v });
    bySeries.set(id, list);
  }
  return {
    ok: true,
    value: [...bySeries].map(([id, points]) => {
      points.sort((a, b) => a.t - b.t);
      return { id, timestamps: points.map((p) => p.t), values: points.map((p) => p.v) };
    }),
  };
}

/** ISO 8601 (a space instead of `T` is accepted, no zone means UTC) or epoch seconds, to epoch seconds. */
export function parseTimestamp(s: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const iso = s.includes("T") ? s : s.replace(" ", "T");
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

export function formatNumber(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : "NaN";
}
