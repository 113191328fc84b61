// NAB benchmark: `npx tsx test/bench/nab.ts [--data <dir>] [--labels <combined_windows.json>]
// [--results <dir>]`. Runs the streaming detector over every data file (or reads `prophet anomalies`
// result files from --results) and prints the three NAB profiles at the 0.5 alarm line and at the
// best corpus-wide threshold.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { scoreSeries } from "../../shared/anomaly/detector.js";
import {
  parseResultScores,
  parseTimestampValueCsv,
  WindowsFileSchema,
  windowRows,
} from "../../shared/anomaly/nab-format.js";
import {
  bestThreshold,
  labelRows,
  NAB_PROFILES,
  normalisedScore,
  scoreFile,
  type CorpusFile,
} from "../../shared/anomaly/nab-scoring.js";

const dataDir = fileURLToPath(new URL("../../../shared/data/nab/", import.meta.url));
const { values: args } = parseArgs({
  options: {
    data: { type: "string", default: join(dataDir, "data") },
    labels: { type: "string", default: join(dataDir, "labels", "combined_windows.json") },
    results: { type: "string" },
    "per-file": { type: "boolean", default: false },
  },
});

const windows = WindowsFileSchema.parse(JSON.parse(readFileSync(args.labels, "utf8")));
const files: (CorpusFile & { name: string })[] = [];
const started = performance.now();
for (const category of readdirSync(args.data).sort()) {
  for (const file of readdirSync(join(args.data, category))
    .filter((f) => f.endsWith(".csv"))
    .sort()) {
    const name = `${category}/${file}`;
    const parsed = parseTimestampValueCsv(readFileSync(join(args.data, category, file), "utf8"));
    if (!parsed.ok) throw new Error(`${name}: ${parsed.error.message}`);
    const { timestamps, values } = parsed.value;
    const scores = args.results
      ? parseResultScores(readFileSync(join(args.results, category, `prophet_${file}`), "utf8"))
      : scoreSeries(timestamps, values);
    files.push({ name, rows: labelRows(values.length, windowRows(timestamps, windows[name] ?? [])), scores });
  }
}
const seconds = (performance.now() - started) / 1000;

console.log(
  `NAB benchmark: ${files.length} files, ${files.reduce((s, f) => s + f.scores.length, 0)} rows (${seconds.toFixed(1)} s)`,
);
console.log("profile               @0.5    best (threshold)");
for (const [profile, cost] of Object.entries(NAB_PROFILES)) {
  const fixed = normalisedScore(files, 0.5, cost);
  const best = bestThreshold(files, cost);
  console.log(
    `${profile.padEnd(20)} ${fixed.toFixed(1).padStart(6)}  ${best.score.toFixed(1).padStart(6)} (${best.threshold.toFixed(3)})`,
  );
}
if (args["per-file"]) {
  for (const f of files) {
    const s = scoreFile(f.rows, f.scores, 0.5, NAB_PROFILES.standard);
    console.log(
      `${f.name.padEnd(52)} score ${s.score.toFixed(2).padStart(7)} tp ${s.tp} fp ${s.fp} fn ${s.fn}`,
    );
  }
}
