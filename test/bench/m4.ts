// M4 benchmark: `npx tsx test/bench/m4.ts [--train <file>] [--test <file>] [--horizon 48] [--season 24]
// [--methods]`. Scores Naive1, sNaive, Naive2 and the engine with M4's own definitions; OWA is relative
// to Naive2 computed here on the same series. The engine forecasts the file as one panel
// (`forecastPanel`, with the global members); `--methods` also scores the engine one series at a time
// (`forecastSeries`, each series' "global" model fitted on itself) and each candidate method alone.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { coverage, mase, mean, msis, owa, smape } from "../../shared/forecast/accuracy.js";
import { forecastPanel, forecastSeries, FULL_CANDIDATES } from "../../shared/forecast/engine.js";
import { fitGlobalModels } from "../../shared/forecast/global-autoregression.js";
import { forecastMethods, RECENT_DAILY_CYCLES } from "../../shared/forecast/methods.js";
import { naive2Forecast, naiveForecast, seasonalNaiveForecast } from "../../shared/forecast/naive.js";
import { parseM4Wide } from "../../shared/forecast/series-formats.js";

const dataDir = fileURLToPath(new URL("../../../shared/data/m4-hourly-sample/", import.meta.url));
const { values: args } = parseArgs({
  options: {
    train: { type: "string", default: `${dataDir}Hourly-train.csv` },
    test: { type: "string", default: `${dataDir}Hourly-test.csv` },
    horizon: { type: "string", default: "48" },
    season: { type: "string", default: "24" },
    methods: { type: "boolean", default: false },
  },
});
const horizon = Number(args.horizon);
const m = Number(args.season);

const train = parseM4Wide(readFileSync(args.train, "utf8"));
const test = parseM4Wide(readFileSync(args.test, "utf8"));
if (!train.ok || !test.ok) throw new Error("cannot parse the M4 files");
const actualById = new Map(test.value.map((s) => [s.id, s.values]));

interface Scores {
  smape: number[];
  mase: number[];
  msis: number[];
  cover95: number[];
  cover80: number[];
}
const table = new Map<string, Scores>();
const record = (name: string, insample: number[], actual: number[], f: number[], pi?: Pi): void => {
  const s = table.get(name) ?? { smape: [], mase: [], msis: [], cover95: [], cover80: [] };
  s.smape.push(smape(actual, f));
  s.mase.push(mase(insample, actual, f, m));
  if (pi) {
    s.msis.push(msis(insample, actual, pi.lower95, pi.upper95, m));
    s.cover95.push(coverage(actual, pi.lower95, pi.upper95));
    s.cover80.push(coverage(actual, pi.lower80, pi.upper80));
  }
  table.set(name, s);
};
interface Pi {
  lower95: number[];
  upper95: number[];
  lower80: number[];
  upper80: number[];
}

const started = performance.now();
const withActual = train.value.filter((s) => actualById.has(s.id));
// The engine forecasts the whole file as one panel: the global members are fitted on the training
// histories of all series (never on the test part).
const panel = forecastPanel(
  withActual.map((s) => s.values),
  { horizon, period: m },
);
// For --methods: the global models fitted on the whole training part, for the methods alone.
const global = args.methods
  ? fitGlobalModels(
      withActual.map((s, i) => ({ y: s.values, period: m, longPeriod: panel[i]?.longPeriod ?? 0 })),
      [0],
      RECENT_DAILY_CYCLES,
    )
  : undefined;
withActual.forEach((series, i) => {
  const actual = actualById.get(series.id)!.slice(0, horizon);
  const y = series.values;
  record("Naive1", y, actual, naiveForecast(y, horizon));
  record("sNaive", y, actual, seasonalNaiveForecast(y, horizon, m));
  record("Naive2", y, actual, naive2Forecast(y, horizon, m));
  const fc = panel[i]!;
  record("Prophet ensemble", y, actual, fc.mean, fc);
  if (args.methods) {
    const alone = forecastSeries(y, { horizon, period: m });
    record("  one series at a time", y, actual, alone.mean, alone);
    for (const name of FULL_CANDIDATES) {
      const ctx = {
        horizon,
        period: m,
        longPeriod: fc.longPeriod,
        effort: "full" as const,
        ...(global ? { global } : {}),
      };
      const f = forecastMethods[name]?.(y, ctx);
      if (f) record(`  method ${name}`, y, actual, f.mean);
    }
  }
});
const seconds = (performance.now() - started) / 1000;

const naive2 = table.get("Naive2")!;
const ref = { smape: mean(naive2.smape), mase: mean(naive2.mase) };
console.log(
  `M4 benchmark: ${train.value.length} series, horizon ${horizon}, m = ${m} (${seconds.toFixed(1)} s)`,
);
console.log("method                     sMAPE     MASE    OWA    MSIS   cover95 cover80");
for (const [name, s] of table) {
  const sm = mean(s.smape);
  const ms = mean(s.mase);
  const extra = s.msis.length
    ? `${mean(s.msis).toFixed(3).padStart(7)} ${(mean(s.cover95) * 100).toFixed(1).padStart(6)}% ${(mean(s.cover80) * 100).toFixed(1).padStart(6)}%`
    : "";
  console.log(
    `${name.padEnd(24)} ${sm.toFixed(3).padStart(7)} ${ms.toFixed(3).padStart(8)} ${owa({ smape: sm, mase: ms }, ref).toFixed(3).padStart(6)} ${extra}`,
  );
}
