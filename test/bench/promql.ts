// Queries per second of the sandbox PromQL engine over ~5,000 synthetic series (1 h of 15 s samples).
// Run: npx tsx test/bench/promql.ts

import { query, queryRange } from "../../infra/sandbox/metrics/promql/index.js";
import { generateSyntheticCluster } from "../../infra/sandbox/metrics/synthetic.js";

const HOUR = 3600_000;
const end = Math.floor(Date.now() / 15_000) * 15_000;
const start = end - HOUR;

let t0 = performance.now();
const store = generateSyntheticCluster({
  startMs: start,
  endMs: end,
  seed: 1,
  namespaces: Array.from({ length: 10 }, (_, i) => `ns-${i}`),
  podsPerNamespace: 19,
});
const genMs = performance.now() - t0;
let samples = 0;
for (const s of store.allSeries()) samples += s.length;
console.log(
  `store: ${store.seriesCount} series, ${samples.toLocaleString("en")} samples, generated in ${genMs.toFixed(0)} ms`,
);

const instant: string[] = [
  "sum by (namespace) (rate(http_requests_total[5m]))",
  'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
  "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
  'container_memory_working_set_bytes / on(pod) group_left kube_pod_container_resource_limits{resource="memory"}',
  "topk(10, sum by (pod) (rate(http_requests_total[5m])))",
  "predict_linear(container_memory_working_set_bytes[1h], 3600)",
  "increase(kube_pod_container_status_restarts_total[1h]) > 0",
];

function measure(label: string, run: () => unknown, budgetMs = 2000): void {
  run(); // warm-up
  let n = 0;
  t0 = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    run();
    n++;
    elapsed = performance.now() - t0;
  }
  const qps = (n / elapsed) * 1000;
  console.log(`${qps.toFixed(1).padStart(9)} q/s  ${(elapsed / n).toFixed(2).padStart(8)} ms/q  ${label}`);
}

console.log("\ninstant queries at the newest sample:");
for (const q of instant) measure(q, () => query(store, q, end));

console.log("\nrange queries over the last hour, step 60 s (61 steps):");
for (const q of instant.slice(0, 4)) measure(q, () => queryRange(store, q, start, end, 60_000));
