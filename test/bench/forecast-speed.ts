// Forecast speed: `npx tsx test/bench/forecast-speed.ts [--series 10000] [--points 2016] [--horizon 48]
// [--effort fast|full]`. Fits and forecasts synthetic daily-seasonal series (a week at 5 minutes) on
// one core, with the period detected from the 300 s step, and prints series/s and peak memory.

import { parseArgs } from "node:util";
import { forecastSeries } from "../../shared/forecast/engine.js";
import { dailyDemand, seededRandom } from "./synthetic.js";

const { values: args } = parseArgs({
  options: {
    series: { type: "string", default: "10000" },
    points: { type: "string", default: "2016" },
    horizon: { type: "string", default: "48" },
    effort: { type: "string", default: "fast" },
  },
});
const count = Number(args.series);
const points = Number(args.points);
const horizon = Number(args.horizon);
const effort = args.effort === "full" ? "full" : "fast";

const rand = seededRandom(42);
let peakRss = process.memoryUsage().rss;
let peakHeap = process.memoryUsage().heapUsed;
let fitSeconds = 0;
let checksum = 0;
let seasonalFound = 0;
for (let i = 0; i < count; i++) {
  const y = dailyDemand(points, rand);
  const t0 = performance.now();
  const fc = forecastSeries(y, { horizon, stepSeconds: 300, effort });
  fitSeconds += (performance.now() - t0) / 1000;
  checksum += fc.mean[horizon - 1] ?? 0;
  if (fc.period === 288) seasonalFound++;
  if (i % 500 === 0) {
    const mem = process.memoryUsage();
    peakRss = Math.max(peakRss, mem.rss);
    peakHeap = Math.max(peakHeap, mem.heapUsed);
  }
}
console.log(`forecast speed (${effort}): ${count} series x ${points} points, horizon ${horizon}, one core`);
console.log(
  `  ${(count / fitSeconds).toFixed(0)} series/s (fit + forecast time only, ${fitSeconds.toFixed(2)} s)`,
);
console.log(`  daily period detected in ${((100 * seasonalFound) / count).toFixed(1)} % of series`);
console.log(
  `  peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB`,
);
console.log(`  checksum ${checksum.toFixed(1)}`);
